"""The azureml-v2 backend: the lesson's workflow through Azure ML SDK v2 (azure-ai-ml).

`MLClient`, `AmlCompute`, MLTable data assets, `automl.classification`, MLflow models and
managed online endpoints. Imports of the SDK happen in `sdk`, on first use; importing this
package imports none.
"""

from __future__ import annotations

import os
from typing import Optional, Union

from ...config import WorkspaceConfig
from ..base import Backend
from .workspace import AzureV2Workspace
from .workspace import connect as connect_with_credential


def connect(config: WorkspaceConfig, workspace_dir: Optional[Union[str, os.PathLike]] = None) -> AzureV2Workspace:
    """`MLClient.from_config(credential, path)` on the file found by `amlpipe.config`, with the credential chain.

    ``workspace_dir`` is the local backend's; the workspace lives in Azure.
    """
    return connect_with_credential(config)


BACKEND = Backend(
    name="azureml-v2",
    connect=connect,
    dataset_reuse="content",
    description="Azure ML through SDK v2 (azure-ai-ml, automl jobs, MLTable, managed online endpoints)",
)

__all__ = ["BACKEND", "AzureV2Workspace", "connect"]
