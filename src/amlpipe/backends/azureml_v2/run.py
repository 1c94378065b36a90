"""AutoML jobs through SDK v2: status from `ml_client.jobs`, metrics and children from the workspace's MLflow.

The job's name is its MLflow run id. The best trial is the child named by the parent's
``automl_best_child_run_id`` tag; its MLflow model is under ``outputs/mlflow-model``
(`model.MLFLOW_MODEL_PATH`).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Dict, List, Optional, Tuple

import pandas as pd

from ...errors import ResourceError
from ...settings import CLASSIFICATION_METRICS, REGRESSION_METRICS
from ..base import BaseAutoMLRun
from .errors import translated
from .model import AzureV2Model, register_from_run

logger = logging.getLogger(__name__)
BEST_CHILD_TAG = "automl_best_child_run_id"
FINISHED = {"Completed", "Failed", "Canceled", "NotResponding", "Paused"}
POLL_SECONDS = 30


def v1_metric_name(value: Any) -> Optional[str]:
    """``AUC_weighted`` for the job's primary metric however v2 spells it (``AUCWeighted``, ``auc_weighted``)."""
    if value is None:
        return None
    text = str(getattr(value, "value", value))
    return next((name for name in (*CLASSIFICATION_METRICS, *REGRESSION_METRICS) if _letters(name) == _letters(text)), text)


def _letters(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


class AzureV2Run:
    """A job or trial, by its name (= MLflow run id)."""

    def __init__(self, ws, run_id: str):
        self.workspace = ws
        self.id = run_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"

    def _mlflow_run(self):
        with translated(f"run '{self.id}'"):
            return self.workspace.mlflow.get_run(self.id)

    @property
    def status(self) -> str:
        with translated(f"job '{self.id}'"):
            return self.workspace.ml_client.jobs.get(self.id).status

    @property
    def tags(self) -> Dict[str, Any]:
        return dict(self._mlflow_run().data.tags)

    @property
    def properties(self) -> Dict[str, Any]:
        """The run's MLflow tags (AzureML properties such as ``run_algorithm`` and ``score`` are among them)."""
        return self.tags

    def get_properties(self) -> Dict[str, Any]:
        return self.properties

    def get_metrics(self) -> Dict[str, Any]:
        return {k: v for k, v in self._mlflow_run().data.metrics.items() if isinstance(v, (int, float))}


class AzureV2AutoMLRun(AzureV2Run, BaseAutoMLRun):
    """An AutoML parent job; `sdk_job` is the SDK's job entity as last fetched."""

    def __init__(self, ws, sdk_job: Any):
        super().__init__(ws, sdk_job.name)
        self.sdk_job = sdk_job

    @property
    def properties(self) -> Dict[str, Any]:
        return {**self.tags, "primary_metric": v1_metric_name(getattr(self.sdk_job, "primary_metric", None))}

    def wait_for_completion(self, show_output: bool = False) -> Dict[str, Any]:
        """`ml_client.jobs.stream(name)` (the job's log as plain lines), then the status checked.

        Raises:
            ResourceError: the job ended in another state than Completed (its studio URL in the message).
        """
        jobs = self.workspace.ml_client.jobs
        with translated(f"AutoML job '{self.id}'"):
            if show_output:
                jobs.stream(self.id)
            self.sdk_job = jobs.get(self.id)
            while self.sdk_job.status not in FINISHED:
                time.sleep(POLL_SECONDS)
                self.sdk_job = jobs.get(self.id)
        status = self.sdk_job.status
        if status != "Completed":
            raise ResourceError(
                f"AutoML job '{self.id}' ended {status}; see {getattr(self.sdk_job, 'studio_url', '') or 'the studio'}"
            )
        return {"runId": self.id, "status": status}

    def _children(self) -> List[Any]:
        parent = self._mlflow_run()
        with translated(f"trials of AutoML job '{self.id}'"):
            return list(self.workspace.mlflow.search_runs(
                [parent.info.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{self.id}'"
            ))

    def get_children(self) -> List[AzureV2Run]:
        return [AzureV2Run(self.workspace, child.info.run_id) for child in self._children()]

    def _leaderboard_rows(self) -> List[Dict[str, Any]]:
        primary = self.primary_metric
        return [{
            "iteration": int(child.data.tags.get("iteration", -1)),
            "algorithm": child.data.tags.get("run_algorithm", ""),
            "score": child.data.metrics.get(primary),
            "run_id": child.info.run_id,
        } for child in self._children()]

    def best_child_id(self) -> str:
        """The parent's ``automl_best_child_run_id`` tag.

        Raises:
            ResourceError: the job has no best trial (not finished, or every trial failed).
        """
        best = self.tags.get(BEST_CHILD_TAG)
        if not best:
            raise ResourceError(f"AutoML job '{self.id}' names no best trial yet (tag {BEST_CHILD_TAG}); is it Completed?")
        return best

    def get_output(self, return_onnx_model: bool = False) -> Tuple[AzureV2Run, Any]:
        """The best trial and, as with v1 without the AutoML runtime, no model object (None), ONNX or not.

        The best trial's MLflow model is registered by `register_model`, and loaded with `Model.load`;
        with ``enable_onnx_compatible_models`` its ONNX model stays in the trial's outputs.
        """
        return AzureV2Run(self.workspace, self.best_child_id()), None

    def get_oof_predictions(self) -> Optional[pd.DataFrame]:
        logger.info("out-of-fold predictions are shown in the Azure ML studio for job %s", self.id)
        return None

    def get_training_data(self) -> pd.DataFrame:
        raise ResourceError("the training data of an Azure job is the registered data asset; load it with get_dataset")

    def _register_model(self, model_name: str, description: str, tags: Dict[str, str]) -> AzureV2Model:
        return register_from_run(self.workspace, self.best_child_id(), model_name, description, tags)
