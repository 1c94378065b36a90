"""The local backend: FLAML, MLflow on SQLite and azureml-inference-server-http on this machine."""

from __future__ import annotations

import os
from typing import Optional, Union

from ...config import WorkspaceConfig
from .workspace import DEFAULT_DIR, LocalWorkspace


def connect(config: WorkspaceConfig, workspace_dir: Optional[Union[str, os.PathLike]] = None) -> LocalWorkspace:
    """Open (creating if needed) the local workspace folder.

    The folder is ``workspace_dir``, else `AMLPIPE_WORKSPACE`, else `.amlpipe/` in the working folder.
    """
    root = workspace_dir or os.environ.get("AMLPIPE_WORKSPACE") or DEFAULT_DIR
    return LocalWorkspace(root, config)


__all__ = ["LocalWorkspace", "connect"]
