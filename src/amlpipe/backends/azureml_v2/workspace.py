"""The Azure ML workspace through SDK v2: `MLClient.from_config` with the headless-safe credential chain."""

from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from ...config import WorkspaceConfig
from ...errors import MissingDependencyError
from ..base import BaseWorkspace
from . import auth as auth_chain
from . import compute, dataset, deployment, experiment, model, pipeline, sdk
from .errors import translated

logger = logging.getLogger(__name__)
# Fail in seconds, not minutes, when Azure cannot be reached (azure-core retries 10 times by default).
CLIENT_OPTIONS = {"retry_total": 2, "retry_backoff_factor": 0.5, "connection_timeout": 10, "read_timeout": 60}


class AzureV2Workspace(BaseWorkspace):
    """A handle on an Azure ML workspace (`amlpipe.protocols.Workspace`); `ml_client` is the SDK's `MLClient`."""

    backend = "azureml-v2"

    def __init__(self, ml_client: Any, config: Optional[WorkspaceConfig] = None, auth_method: str = ""):
        self.ml_client = ml_client
        self.config = config or WorkspaceConfig(backend=self.backend)
        self.auth_method = auth_method
        self._details: Any = None
        self._mlflow: Any = None

    def __repr__(self) -> str:
        return f"AzureV2Workspace(name={self.name!r})"

    @property
    def name(self) -> str:
        return self.ml_client.workspace_name

    @property
    def details(self) -> Any:
        """The SDK's `Workspace` entity (`ml_client.workspaces.get`): the first call that reaches Azure."""
        if self._details is None:
            with translated(f"workspace '{self.name}' (resource group {self.config.resource_group})"):
                self._details = self.ml_client.workspaces.get(self.name)
        return self._details

    @property
    def mlflow(self) -> Any:
        """An `MlflowClient` on the workspace's MLflow tracking URI (run metrics, tags, children).

        Raises:
            MissingDependencyError: the tracking URI is ``azureml://`` and azureml-mlflow is not installed.
        """
        if self._mlflow is None:
            from mlflow.exceptions import MlflowException
            from mlflow.tracking import MlflowClient

            uri = self.details.mlflow_tracking_uri
            try:
                client = MlflowClient(tracking_uri=uri)  # resolves the URI scheme's store now
            except MlflowException as exc:
                raise MissingDependencyError(
                    f"reading run metrics from workspace '{self.name}' needs MLflow's azureml plugin ({exc}); "
                    "install it with: pip install azureml-mlflow"
                ) from exc
            self._mlflow = client
        return self._mlflow

    def summary(self) -> Dict[str, Any]:
        details = self.details
        return {
            "backend": self.backend,
            "workspace": self.name,
            "resource_group": getattr(details, "resource_group", None) or self.config.resource_group,
            "location": getattr(details, "location", ""),
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


def connect(config: WorkspaceConfig, credential: Any = None) -> AzureV2Workspace:
    """`MLClient.from_config(credential, path=...)`; the credential chain picks one unless given.

    No call reaches Azure here; the first that does is the first use (e.g. `summary`).
    """
    method = "given by the caller"
    if credential is None:
        credential, method = auth_chain.resolve()
    with translated(f"workspace '{config.workspace_name}' from {config.path}"):
        ml_client = sdk.MLClient.from_config(credential=credential, path=str(config.path), **CLIENT_OPTIONS)
    logger.info("Azure ML workspace %s through SDK v2 (%s)", ml_client.workspace_name, method)
    return AzureV2Workspace(ml_client, config, method)
