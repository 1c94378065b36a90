"""The backends, registered as objects: `get` picks one by name.

A backend is a package that implements `amlpipe.protocols` (on the base classes of
`amlpipe.backends.base`), exposes a `Backend` as ``BACKEND``, and joins `REGISTRY` below
with one entry. Importing a backend package must not import its cloud SDK: that happens on
first use. ``tests/contract/`` runs the same tests on every backend registered here.
"""

from __future__ import annotations

from typing import Dict

from ..errors import ConfigError
from . import azureml, local
from .base import Backend

REGISTRY: Dict[str, Backend] = {backend.name: backend for backend in (local.BACKEND, azureml.BACKEND)}


def get(name: str, source: str = "the caller") -> Backend:
    """The backend called ``name``; ``source`` says where the name came from (`WorkspaceConfig.backend_source`).

    Raises:
        ConfigError: no backend has that name.
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise ConfigError(f"unknown backend {name!r} from {source}; expected one of {', '.join(REGISTRY)}") from None
