"""The azureml backend: the lesson's Azure ML SDK v1 calls.

Imports of the SDK happen in `sdk`, on first use; importing this package imports none.
"""

from __future__ import annotations

from ...config import WorkspaceConfig
from .workspace import AzureWorkspace


def connect(config: WorkspaceConfig, auth=None) -> AzureWorkspace:
    """`Workspace.from_config(path, auth)` on the file found by `amlpipe.config`, with the auth chain."""
    from .workspace import connect as _connect

    return _connect(config, auth)


__all__ = ["AzureWorkspace", "connect"]
