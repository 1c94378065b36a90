"""The azureml backend: the lesson's Azure ML SDK v1 calls.

Imports of the SDK happen in `sdk`, on first use; importing this package imports none.
"""

from __future__ import annotations

import os
from typing import Optional, Union

from ...config import WorkspaceConfig
from ..base import Backend
from .workspace import AzureWorkspace
from .workspace import connect as connect_with_auth


def connect(config: WorkspaceConfig, workspace_dir: Optional[Union[str, os.PathLike]] = None) -> AzureWorkspace:
    """`Workspace.from_config(path, auth)` on the file found by `amlpipe.config`, with the auth chain.

    ``workspace_dir`` is the local backend's; the workspace lives in Azure.
    """
    return connect_with_auth(config)


BACKEND = Backend(
    name="azureml",
    connect=connect,
    dataset_reuse="name",
    description="Azure ML through SDK v1 (azureml-core, AutoMLConfig, ACI)",
)

__all__ = ["BACKEND", "AzureWorkspace", "connect"]
