"""Registered models on Azure ML."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from ...errors import MissingDependencyError
from . import sdk
from .errors import translated

logger = logging.getLogger(__name__)


class AzureModel:
    """A registered model version; `sdk_model` is the SDK's `Model`."""

    def __init__(self, sdk_model: Any):
        self.sdk_model = sdk_model
        self.name = sdk_model.name
        self.version = int(sdk_model.version)
        self.description = sdk_model.description or ""
        self.tags = dict(sdk_model.tags or {})
        self.run_id = getattr(sdk_model, "run_id", None)

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def properties(self) -> Dict[str, Any]:
        """The model's properties; no input schema is known for an Azure AutoML model."""
        return {**dict(getattr(self.sdk_model, "properties", {}) or {}), "input_schema": None}

    def load(self):
        """The fitted model, downloaded and unpickled: needs azureml-train-automl-runtime here.

        Raises:
            MissingDependencyError: the AutoML runtime is not installed in this environment.
        """
        import tempfile

        import joblib

        folder = tempfile.mkdtemp(prefix="amlpipe-model-")
        with translated(f"model '{self.id}'"):
            path = self.sdk_model.download(target_dir=folder, exist_ok=True)
        try:
            return joblib.load(path if str(path).endswith(".pkl") else f"{path}/model.pkl")
        except ImportError as exc:
            raise MissingDependencyError(
                f"model '{self.id}' needs the AutoML runtime to load here ({exc}); "
                "install azureml-train-automl-runtime, or use the endpoint"
            ) from exc


def register_from_run(sdk_run: Any, model_name: str, description: str, tags: Dict[str, str]) -> AzureModel:
    """`AutoMLRun.register_model(model_name, description, tags)` (from the run's outputs; no local model object needed)."""
    with translated(f"model '{model_name}'"):
        registered = sdk_run.register_model(model_name=model_name, description=description, tags=tags)
    logger.info("registered model %s version %s", registered.name, registered.version)
    return AzureModel(registered)


def get(ws, name: str, version: Optional[int] = None) -> Optional[AzureModel]:
    """`Model(ws, name, version)` (None: the latest), or None when there is none."""
    kwargs = {} if version is None else {"version": version}
    try:
        return AzureModel(sdk.Model(ws.sdk_workspace, name=name, **kwargs))
    except sdk.WebserviceException:
        return None


def list_models(ws) -> List[AzureModel]:
    with translated("models"):
        return [AzureModel(m) for m in sdk.Model.list(ws.sdk_workspace)]
