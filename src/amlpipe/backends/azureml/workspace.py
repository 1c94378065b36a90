"""The Azure ML workspace: `Workspace.from_config` with an explicit auth chain; the same methods as the local one."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from ...config import WorkspaceConfig
from ..base import BaseWorkspace
from . import auth as auth_chain
from . import compute, dataset, deployment, experiment, model, sdk
from .errors import translated

logger = logging.getLogger(__name__)


class AzureWorkspace(BaseWorkspace):
    """A handle on an Azure ML workspace (`amlpipe.protocols.Workspace`); `sdk_workspace` is the SDK's own object."""

    backend = "azureml"

    def __init__(self, sdk_workspace: Any, config: Optional[WorkspaceConfig] = None, auth_method: str = ""):
        self.sdk_workspace = sdk_workspace
        self.config = config or WorkspaceConfig(backend="azureml")
        self.auth_method = auth_method

    def __repr__(self) -> str:
        return f"AzureWorkspace(name={self.name!r})"

    @property
    def name(self) -> str:
        return self.sdk_workspace.name

    def summary(self) -> Dict[str, Any]:
        return {
            "backend": self.backend,
            "workspace": self.name,
            "resource_group": getattr(self.sdk_workspace, "resource_group", self.config.resource_group),
            "location": getattr(self.sdk_workspace, "location", ""),
            "authentication": self.auth_method,
        }

    def get_or_create_experiment(self, name: str) -> experiment.AzureExperiment:
        return experiment.get_or_create(self, name)

    def get_or_create_compute(self, settings) -> compute.AzureCompute:
        return compute.get_or_create(self, settings)

    def delete_compute(self, name: str) -> List[str]:
        return compute.delete(self, name)

    def register_dataset(self, source=None, settings=None, dataframe=None) -> dataset.AzureDataset:
        return dataset.register(self, source=source, settings=settings, dataframe=dataframe)

    def list_datasets(self) -> List[dataset.AzureDataset]:
        return dataset.list_datasets(self)

    def list_models(self) -> List[model.AzureModel]:
        return model.list_models(self)

    def list_services(self) -> List[deployment.AzureService]:
        return deployment.list_services(self)

    def _find_experiment(self, name):
        return experiment.get(self, name)

    def _find_compute(self, name):
        return compute.get(self, name)

    def _find_dataset(self, name, version):
        return dataset.get(self, name, version)

    def _find_model(self, name, version):
        return model.get(self, name, version)

    def _find_service(self, name):
        return deployment.get(self, name)

    def _deploy(self, model, service, inference_config):
        return deployment.deploy(self, model, service, inference_config)


def connect(config: WorkspaceConfig, auth=None) -> AzureWorkspace:
    """`Workspace.from_config(path=..., auth=...)`; the auth chain picks credentials unless given."""
    method = "given by the caller"
    if auth is None:
        auth, method = auth_chain.resolve()
    with translated(f"workspace '{config.workspace_name}' from {config.path}"):
        workspace = sdk.Workspace.from_config(path=str(config.path), auth=auth)
    logger.info("connected to Azure ML workspace %s (%s)", workspace.name, method)
    return AzureWorkspace(workspace, config, method)
