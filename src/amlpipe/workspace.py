"""Connecting to a workspace: read config.json, pick the backend, open its workspace."""

from __future__ import annotations

import logging
import os
from typing import Optional, Union

from . import backends
from .config import load_config

logger = logging.getLogger(__name__)


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
