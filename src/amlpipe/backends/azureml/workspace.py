"""The Azure ML workspace: `Workspace.from_config` with an explicit auth chain; the same methods as the local one."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Union

from ...config import WorkspaceConfig
from . import auth as auth_chain
from . import sdk
from .errors import translated

logger = logging.getLogger(__name__)


class AzureWorkspace:
    """A handle on an Azure ML workspace; `sdk_workspace` is the SDK's own object."""

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

    def get_or_create_experiment(self, name: str):
        from .experiment import get_or_create

        return get_or_create(self, name)

    def get_experiment(self, name: str):
        from .experiment import get_or_create

        return get_or_create(self, name)  # Experiment(ws, name) is get-or-create in SDK v1

    def get_or_create_compute(self, settings):
        from .compute import get_or_create

        return get_or_create(self, settings)

    def get_compute(self, name: str):
        from .compute import get

        return get(self, name)

    def delete_compute(self, name: str) -> List[str]:
        from .compute import delete

        return delete(self, name)

    def register_dataset(self, source=None, settings=None, dataframe=None):
        from .dataset import register

        return register(self, source=source, settings=settings, dataframe=dataframe)

    def get_dataset(self, name: str, version: Union[int, str] = "latest"):
        from .dataset import get

        return get(self, name, version)

    def list_datasets(self):
        from .dataset import list_datasets

        return list_datasets(self)

    def get_model(self, name: str, version: Union[int, str] = "latest"):
        from .model import get

        return get(self, name, version)

    def list_models(self):
        from .model import list_models

        return list_models(self)

    def deploy(self, model, service=None, inference_config=None, port: Optional[int] = None):
        """`Model.deploy(ws, name, [model], inference_config, deployment_config, overwrite=True)` to ACI."""
        from ...settings import ServiceSettings
        from .deployment import deploy

        return deploy(self, model, service or ServiceSettings(), inference_config)

    def get_service(self, name: str):
        from .deployment import get

        return get(self, name)

    def list_services(self):
        from .deployment import list_services

        return list_services(self)


def connect(config: WorkspaceConfig, auth=None) -> AzureWorkspace:
    """`Workspace.from_config(path=..., auth=...)`; the auth chain picks credentials unless given."""
    method = "given by the caller"
    if auth is None:
        auth, method = auth_chain.resolve()
    with translated(f"workspace '{config.workspace_name}' from {config.path}"):
        workspace = sdk.Workspace.from_config(path=str(config.path), auth=auth)
    logger.info("connected to Azure ML workspace %s (%s)", workspace.name, method)
    return AzureWorkspace(workspace, config, method)
