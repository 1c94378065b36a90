"""The two backends behind one API; `load` picks one by name.

Each backend package exposes `connect(config, workspace_dir=None)` returning a workspace
whose methods (experiments, compute, datasets, models, services) have the same names.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..config import BACKENDS
from ..errors import ConfigError


def load(name: str) -> ModuleType:
    """The backend package called ``name`` (imported lazily: the azureml one pulls in the SDK)."""
    if name not in BACKENDS:
        raise ConfigError(f"unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")
    return importlib.import_module(f"{__name__}.{name}")
