"""The Azure ML workspace: `Workspace.from_config` with an explicit auth chain; the same methods as the local one."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from ...config import WorkspaceConfig
from ..base import BaseWorkspace
from . import auth as auth_chain
from . import compute, dataset, deployment, experiment, model, pipeline, sdk
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

    # What BaseWorkspace leaves to the backend: each is a function of a concept module whose
    # first argument is the workspace (a method, then). `get` answers None when there is none.
    get_or_create_experiment = experiment.get_or_create
    _find_experiment = experiment.get
    get_or_create_compute = compute.get_or_create
    _find_compute = compute.get
    delete_compute = compute.delete
    register_dataset = dataset.register
    _find_dataset = dataset.get
    list_datasets = dataset.list_datasets
    _find_model = model.get
    list_models = model.list_models
    _deploy = deployment.deploy
    _find_service = deployment.get
    list_services = deployment.list_services
    run_pipeline = pipeline.run
    publish_pipeline = pipeline.publish
    list_published_pipelines = pipeline.list_published
    submit_published_pipeline = pipeline.submit_published
    schedule_pipeline = pipeline.schedule


def connect(config: WorkspaceConfig, auth=None) -> AzureWorkspace:
    """`Workspace.from_config(path=..., auth=...)`; the auth chain picks credentials unless given."""
    method = "given by the caller"
    if auth is None:
        auth, method = auth_chain.resolve()
    with translated(f"workspace '{config.workspace_name}' from {config.path}"):
        workspace = sdk.Workspace.from_config(path=str(config.path), auth=auth)
    logger.info("connected to Azure ML workspace %s (%s)", workspace.name, method)
    return AzureWorkspace(workspace, config, method)
