"""Tables the notebooks show."""

from __future__ import annotations

import dataclasses

import pandas as pd


def settings_table(settings) -> pd.DataFrame:
    """A settings dataclass as a two-column table (setting, value), in declaration order."""
    return pd.DataFrame(
        [{"setting": f.name, "value": getattr(settings, f.name)} for f in dataclasses.fields(settings)]
    ).set_index("setting")
