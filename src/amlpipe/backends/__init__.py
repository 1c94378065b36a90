"""The backends, registered as objects: `get` picks one by name.

Adding a backend:

1. a package here whose workspace, experiment and AutoML run derive from `BaseWorkspace`,
   `BaseExperiment` and `BaseAutoMLRun` (`amlpipe.backends.base`) and fill in what they
   leave abstract, so that its handles implement `amlpipe.protocols`;
2. ``BACKEND = Backend(name, connect, dataset_reuse, description)`` in its ``__init__``;
3. one entry in `REGISTRY` below;
4. its world in ``tests/contract/conftest.py`` (`BUILDERS`): the contract tests then run on it.

Importing a backend package must not import its cloud SDK: that happens on first use.
"""

from __future__ import annotations

from typing import Dict

from ..errors import ConfigError
from . import azureml, azureml_v2, local
from .base import Backend

REGISTRY: Dict[str, Backend] = {backend.name: backend for backend in (local.BACKEND, azureml.BACKEND, azureml_v2.BACKEND)}


def get(name: str, source: str = "the caller") -> Backend:
    """The backend called ``name``; ``source`` says where the name came from (`WorkspaceConfig.backend_source`).

    Raises:
        ConfigError: no backend has that name.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown backend {name!r} from {source}; expected one of {', '.join(REGISTRY)}") from None
