"""The azureml-v2 backend: the lesson's workflow through Azure ML SDK v2 (azure-ai-ml).

`MLClient`, `AmlCompute`, MLTable data assets, `automl.classification`, MLflow models and
managed online endpoints. Imports of the SDK happen in `sdk`, on first use; importing this
package imports none.
"""

from __future__ import annotations

from ...config import WorkspaceConfig
from .workspace import AzureV2Workspace


def connect(config: WorkspaceConfig, credential=None) -> AzureV2Workspace:
    """`MLClient.from_config(credential, path)` on the file found by `amlpipe.config`, with the credential chain."""
    from .workspace import connect as _connect

    return _connect(config, credential)


__all__ = ["AzureV2Workspace", "connect"]
