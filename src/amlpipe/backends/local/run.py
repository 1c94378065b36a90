"""Run handles over MLflow: the AutoML parent run and its child runs (one per trial).

The calls mirror SDK v1's `Run` and `AutoMLRun`: `get_metrics`, `get_properties`,
`get_children`, `wait_for_completion`, `get_output`, `register_model`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import pandas as pd

from ...errors import ResourceError
from ..base import BaseAutoMLRun
from . import model
from .records import artifact_path

if TYPE_CHECKING:
    from .workspace import LocalWorkspace

logger = logging.getLogger(__name__)

# MLflow status -> Azure ML run status
STATUS = {"RUNNING": "Running", "SCHEDULED": "Queued", "FINISHED": "Completed", "FAILED": "Failed", "KILLED": "Canceled"}
KIND_TAG = "amlpipe.kind"
OUTPUTS = "outputs"


class LocalRun:
    """A tracked run (a trial, an ensemble, or the AutoML parent)."""

    def __init__(self, ws: LocalWorkspace, run_id: str):
        self.workspace = ws
        self.id = run_id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, status={self.status!r})"

    @property
    def _mlflow_run(self):
        from mlflow.exceptions import MlflowException

        try:
            return self.workspace.client.get_run(self.id)
        except MlflowException:
            raise ResourceError(f"run '{self.id}' not found in workspace {self.workspace.root}") from None

    @property
    def name(self) -> str:
        return self._mlflow_run.info.run_name

    @property
    def status(self) -> str:
        return STATUS.get(self._mlflow_run.info.status, self._mlflow_run.info.status)

    @property
    def tags(self) -> Dict[str, str]:
        return {k: v for k, v in self._mlflow_run.data.tags.items() if not k.startswith("mlflow.")}

    @property
    def properties(self) -> Dict[str, str]:
        """The run's parameters and amlpipe tags, like `Run.properties`."""
        run = self._mlflow_run
        return {**run.data.params, **{k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}}

    def get_properties(self) -> Dict[str, str]:
        return self.properties

    def get_metrics(self) -> Dict[str, float]:
        return dict(self._mlflow_run.data.metrics)

    @property
    def artifact_dir(self) -> Path:
        return artifact_path(self._mlflow_run.info.artifact_uri)

    @property
    def outputs_dir(self) -> Path:
        """The run's `outputs/` folder (model.pkl and friends on the best run)."""
        return self.artifact_dir / OUTPUTS


class LocalAutoMLRun(LocalRun, BaseAutoMLRun):
    """The AutoML parent run; `Experiment.submit` returns it."""

    def wait_for_completion(self, show_output: bool = False) -> Dict[str, Any]:
        """Local runs finish inside `submit`; this returns the final status, as the SDK's dict."""
        details = {"runId": self.id, "status": self.status, "properties": self.properties}
        if show_output:
            print(f"run {self.id}: {self.status}")
        return details

    def _child_runs(self):
        """The MLflow records of the trial and ensemble runs."""
        return self.workspace.client.search_runs(
            [self._mlflow_run.info.experiment_id],
            filter_string=f"tags.mlflow.parentRunId = '{self.id}'",
            max_results=10000,
        )

    def get_children(self) -> List[LocalRun]:
        """The trial and ensemble runs, in the order they ran."""
        runs = sorted(self._child_runs(), key=lambda r: (r.info.start_time, r.info.run_name))
        return [LocalRun(self.workspace, r.info.run_id) for r in runs]

    def _leaderboard_rows(self) -> List[Dict[str, Any]]:
        primary = self.primary_metric
        return [
            {
                "iteration": int(r.data.tags.get("amlpipe.iteration", -1)),
                "algorithm": r.data.tags.get("amlpipe.algorithm", ""),
                "score": r.data.metrics.get(primary),
                "duration_s": r.data.metrics.get("duration_seconds"),
                "elapsed_s": r.data.metrics.get("elapsed_seconds"),
                "run_id": r.info.run_id,
            }
            for r in self._child_runs()
        ]

    @property
    def best_run_id(self) -> str:
        best = self.tags.get("amlpipe.best_run_id")
        if not best:
            raise ResourceError(f"run '{self.id}' has no best model (status {self.status})")
        return best

    def get_output(self, return_onnx_model: bool = False) -> Tuple[LocalRun, Any]:
        """The best run and its fitted pipeline (raw records in, predictions out), or with
        ``return_onnx_model`` its ONNX export (an `onnx.ModelProto`)."""
        best = LocalRun(self.workspace, self.best_run_id)
        model_file = best.outputs_dir / ("model.onnx" if return_onnx_model else "model.pkl")
        if not model_file.exists():
            why = " (the model does not convert to ONNX)" if return_onnx_model else ""
            raise ResourceError(f"best run '{best.id}' has no {OUTPUTS}/{model_file.name}{why}")
        if return_onnx_model:
            import onnx

            return best, onnx.load(str(model_file))
        import joblib

        return best, joblib.load(model_file)

    def get_oof_predictions(self) -> Optional[pd.DataFrame]:
        """The best model's out-of-fold predictions with the truth (for ROC and confusion matrix).

        Returns:
            ``y_true``, ``y_pred`` and ``proba_<class>`` per row; None after holdout validation
            (``validation_data``), which makes none.
        """
        best = LocalRun(self.workspace, self.best_run_id)
        path = best.outputs_dir / "oof_predictions.csv"
        if not path.exists():
            logger.info("run %s kept no out-of-fold predictions (%s)", self.id, self.tags.get("amlpipe.validation"))
            return None
        return pd.read_csv(path)

    def get_feature_importance(self) -> Optional[pd.DataFrame]:
        """The final model's permutation importance per input column, logged by the run (None if it had no time)."""
        path = LocalRun(self.workspace, self.best_run_id).outputs_dir / "feature_importance.csv"
        return pd.read_csv(path) if path.exists() else None

    def get_training_data(self) -> pd.DataFrame:
        """The registered dataset version this run trained on."""
        name, _, version = self.tags.get("dataset", "").rpartition(":")
        if not name:
            raise ResourceError(f"run '{self.id}' was trained on a DataFrame, not a registered dataset")
        return self.workspace.get_dataset(name, version).to_pandas_dataframe()

    def _register_model(self, model_name: str, description: str, tags: Dict[str, str]) -> model.LocalModel:
        """A new version in the MLflow model registry."""
        return model.register(self.workspace, self.best_run_id, model_name, description, tags)
