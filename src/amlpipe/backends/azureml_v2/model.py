"""Registered models through SDK v2: the best trial's MLflow model as `Model(type="mlflow_model")`."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from ...errors import MissingDependencyError, ResourceError
from . import sdk
from .errors import translated

logger = logging.getLogger(__name__)
RUN_TAG = "amlpipe.run_id"
MLFLOW_MODEL_PATH = "outputs/mlflow-model"  # where an AutoML trial keeps its MLflow model
# MLflow signature column types -> amlpipe's request field kinds (`amlpipe.contract`).
FIELD_KINDS = {"boolean": "boolean", "double": "number", "float": "number", "long": "number", "integer": "number",
               "string": "category"}


def input_schema(mlflow_model_folder: Path) -> Optional[Dict[str, str]]:
    """The request fields from the MLflow model's input signature (MLmodel), or None without a signature."""
    from mlflow.models import Model as MlflowModel

    signature = MlflowModel.load(str(mlflow_model_folder)).signature
    if signature is None or signature.inputs is None:
        return None
    return {column["name"]: FIELD_KINDS.get(column["type"], "number") for column in signature.inputs.to_dict()}


class AzureV2Model:
    """A registered model version; `sdk_model` is the SDK's `Model` entity."""

    def __init__(self, ws, sdk_model: Any):
        self.workspace = ws
        self.sdk_model = sdk_model
        self.name = sdk_model.name
        self.version = int(sdk_model.version)
        self.description = sdk_model.description or ""
        self.tags = dict(sdk_model.tags or {})
        self.run_id = self.tags.get(RUN_TAG) or getattr(sdk_model, "job_name", None)

    def __repr__(self) -> str:
        return f"AzureV2Model(id={self.id!r})"

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def properties(self) -> Dict[str, Any]:
        """The model's properties; no input schema is known for an Azure AutoML model."""
        return {**dict(getattr(self.sdk_model, "properties", {}) or {}), "input_schema": None}

    def download(self, folder: Union[str, Path, None] = None) -> Path:
        """`ml_client.models.download(name, version, folder)`; returns the MLflow model folder (the one holding MLmodel)."""
        folder = Path(folder or tempfile.mkdtemp(prefix="amlpipe-model-"))
        with translated(f"model '{self.id}'"):
            self.workspace.ml_client.models.download(self.name, str(self.version), download_path=str(folder))
        found = sorted(folder.rglob("MLmodel"), key=lambda p: len(p.parts))
        if not found:
            raise ResourceError(f"model '{self.id}' holds no MLflow model (no MLmodel file); was it registered by amlpipe?")
        return found[0].parent

    def load(self):
        """The fitted model, downloaded and unpickled: needs the AutoML runtime here for an Azure AutoML model.

        Raises:
            MissingDependencyError: the model's libraries are not installed in this environment.
        """
        import joblib

        folder = self.download()
        try:
            return joblib.load(folder / "model.pkl")
        except ImportError as exc:
            raise MissingDependencyError(
                f"model '{self.id}' needs the AutoML runtime to load here ({exc}); "
                "install azureml-train-automl-runtime, or use the endpoint"
            ) from exc


def mlflow_model(run_id: str, model_name: str, description: str, tags: Dict[str, str]):
    """`Model(type="mlflow_model", path="azureml://jobs/<best trial>/outputs/artifacts/paths/outputs/mlflow-model/")`."""
    return sdk.Model(
        name=model_name,
        type="mlflow_model",
        path=f"azureml://jobs/{run_id}/outputs/artifacts/paths/{MLFLOW_MODEL_PATH}/",
        description=description,
        tags={**tags, RUN_TAG: run_id},
    )


def register_from_run(ws, run_id: str, model_name: str, description: str, tags: Dict[str, str]) -> AzureV2Model:
    """`ml_client.models.create_or_update(Model(type="mlflow_model", ...))` on the trial's MLflow model."""
    with translated(f"model '{model_name}' from run '{run_id}'"):
        registered = ws.ml_client.models.create_or_update(mlflow_model(run_id, model_name, description, tags))
    logger.info("registered model %s version %s", registered.name, registered.version)
    return AzureV2Model(ws, registered)


def get(ws, name: str, version: Optional[int] = None) -> Optional[AzureV2Model]:
    """`ml_client.models.get(name, version)` (None: the latest), or None when there is none."""
    with translated(f"model '{name}'"):
        try:
            if version is None:
                found = ws.ml_client.models.get(name, label="latest")
            else:
                found = ws.ml_client.models.get(name, version=str(version))
        except sdk.ResourceNotFoundError:
            return None
    return AzureV2Model(ws, found)


def list_models(ws) -> List[AzureV2Model]:
    """Every version of every registered model (`ml_client.models.list(name=...)` per model)."""
    with translated("models"):
        names = [container.name for container in ws.ml_client.models.list()]
        return [AzureV2Model(ws, found) for name in names for found in ws.ml_client.models.list(name=name)]
