"""Connecting to a workspace: read config.json, pick the backend, open its workspace.

Every backend's workspace implements `amlpipe.protocols.Workspace`; the backends are
registered in `amlpipe.backends`.
"""

from __future__ import annotations

import logging
import os
from typing import Optional, Union

from .config import load_config
from .protocols import Workspace

logger = logging.getLogger(__name__)


def connect(
    backend: Optional[str] = None,
    config_path: Union[str, os.PathLike, None] = None,
    workspace_dir: Union[str, os.PathLike, None] = None,
) -> Workspace:
    """Connect to the workspace, as `Workspace.from_config()` does.

    Args:
        backend: A registered backend's name (``"local"``, ``"azureml"``, ``"azureml-v2"``); default from
            `AMLPIPE_BACKEND`, config.json, or ``local`` when there is no config.json.
        config_path: config.json or a folder holding it; default: searched upwards from
            the working folder.
        workspace_dir: The local backend's folder (default `.amlpipe/`).

    Returns:
        The backend's workspace handle.

    Raises:
        ConfigError: the config file is malformed, names an unknown backend, or misses a key
            the backend needs.
    """
    from . import backends  # the backends load their own dependencies: not at `import amlpipe`

    config = load_config(config_path, backend)
    ws = backends.get(config.backend, config.backend_source).connect(config, workspace_dir)
    logger.info("connected to %s workspace %s", config.backend, ws.name)
    return ws
