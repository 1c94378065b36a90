"""Tables the notebooks show."""

from __future__ import annotations

import dataclasses

import pandas as pd


def settings_table(settings) -> pd.DataFrame:
    """A settings dataclass as a two-column table (setting, value), in declaration order."""
    return pd.DataFrame(
        [{"setting": f.name, "value": getattr(settings, f.name)} for f in dataclasses.fields(settings)]
    ).set_index("setting")


def class_counts(df: pd.DataFrame, label: str) -> dict:
    """Rows of each class of ``label``, keyed by the class as text (JSON-ready, whatever the label's type)."""
    return {str(c): int(n) for c, n in df[label].value_counts().sort_index().items()}
