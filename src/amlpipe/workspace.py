"""Connecting to a workspace: read config.json, pick the backend, open its workspace.

Both backends' workspaces are a `Workspace`: the same methods, each handed to the
backend's module for that concept (``<backend>.experiment``, ``.compute``, ``.dataset``,
``.model``, ``.deployment``), which expose the same function names.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any, Dict, List, Optional, Union

from . import backends
from .config import load_config
from .settings import ServiceSettings

logger = logging.getLogger(__name__)


class Workspace:
    """The methods every backend's workspace has; subclasses set `backend` and `name`."""

    backend = ""

    def _concept(self, name: str):
        return importlib.import_module(f"{backends.__name__}.{self.backend}.{name}")

    @property
    def name(self) -> str:
        raise NotImplementedError

    def summary(self) -> Dict[str, Any]:
        """What `amlpipe status` and the setup notebook show."""
        raise NotImplementedError

    # Experiments and runs
    def get_or_create_experiment(self, name: str):
        return self._concept("experiment").get_or_create(self, name)

    def get_experiment(self, name: str):
        return self._concept("experiment").get(self, name)

    # Compute
    def get_or_create_compute(self, settings):
        return self._concept("compute").get_or_create(self, settings)

    def get_compute(self, name: str):
        return self._concept("compute").get(self, name)

    def delete_compute(self, name: str) -> List[str]:
        """Delete the compute (locally: its record; this machine stays); returns what was deleted."""
        return self._concept("compute").delete(self, name)

    # Datasets
    def register_dataset(self, source=None, settings=None, dataframe=None):
        return self._concept("dataset").register(self, source=source, settings=settings, dataframe=dataframe)

    def get_dataset(self, name: str, version: Union[int, str] = "latest"):
        return self._concept("dataset").get(self, name, version)

    def list_datasets(self):
        return self._concept("dataset").list_datasets(self)

    # Models
    def get_model(self, name: str, version: Union[int, str] = "latest"):
        return self._concept("model").get(self, name, version)

    def list_models(self):
        return self._concept("model").list_models(self)

    # Services
    def deploy(self, model, service: Optional[ServiceSettings] = None, inference_config=None, **options):
        """Serve a registered model, as `Model.deploy(ws, name, [model], inference_config, deployment_config)`.

        ``options``: backend-specific (the local backend takes ``port``).
        """
        return self._concept("deployment").deploy(self, model, service or ServiceSettings(), inference_config, **options)

    def get_service(self, name: str):
        return self._concept("deployment").get(self, name)

    def list_services(self):
        return self._concept("deployment").list_services(self)


def connect(
    backend: Optional[str] = None,
    config_path: Union[str, os.PathLike, None] = None,
    workspace_dir: Union[str, os.PathLike, None] = None,
):
    """Connect to the workspace, as `Workspace.from_config()` does.

    Args:
        backend: ``"local"`` or ``"azureml"``; default from `AMLPIPE_BACKEND`, config.json,
            or ``local`` when there is no config.json.
        config_path: config.json or a folder holding it; default: searched upwards from
            the working folder.
        workspace_dir: The local backend's folder (default `.amlpipe/`).

    Returns:
        The backend's workspace handle.

    Raises:
        ConfigError: the config file is malformed or misses a key the backend needs.
    """
    config = load_config(config_path, backend)
    module = backends.load(config.backend)
    if config.backend == "local":
        ws = module.connect(config, workspace_dir=workspace_dir)
    else:
        ws = module.connect(config)
    logger.info("connected to %s workspace %s", config.backend, ws.name)
    return ws
