"""Run handles over MLflow: the AutoML parent run and its child runs (one per trial).

The calls mirror SDK v1's `Run` and `AutoMLRun`: `get_metrics`, `get_properties`,
`get_children`, `wait_for_completion`, `get_output`, `register_model`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote, urlparse

import pandas as pd

from ...errors import ResourceError
from .workspace import LocalWorkspace

logger = logging.getLogger(__name__)

# MLflow status -> Azure ML run status
STATUS = {"RUNNING": "Running", "SCHEDULED": "Queued", "FINISHED": "Completed", "FAILED": "Failed", "KILLED": "Canceled"}
KIND_TAG = "amlpipe.kind"
OUTPUTS = "outputs"


def artifact_path(artifact_uri: str) -> Path:
    """The local folder behind a ``file://`` artifact URI."""
    parsed = urlparse(artifact_uri)
    return Path(unquote(parsed.path)) if parsed.scheme in ("file", "") else Path(artifact_uri)


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


class LocalAutoMLRun(LocalRun):
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

    def get_leaderboard(self) -> pd.DataFrame:
        """One row per trial and ensemble, best first: iteration, algorithm, metric, duration."""
        properties = self.properties
        primary = properties["primary_metric"]  # every AutoML run is submitted with it
        rows = []
        for r in self._child_runs():
            rows.append(
                {
                    "iteration": int(r.data.tags.get("amlpipe.iteration", -1)),
                    "algorithm": r.data.tags.get("amlpipe.algorithm", ""),
                    primary: r.data.metrics.get(primary),
                    "duration_s": r.data.metrics.get("duration_seconds"),
                    "elapsed_s": r.data.metrics.get("elapsed_seconds"),
                    "run_id": r.info.run_id,
                }
            )
        frame = pd.DataFrame(rows, columns=["iteration", "algorithm", primary, "duration_s", "elapsed_s", "run_id"])
        ascending = properties.get("greater_is_better", "True") != "True"
        return frame.sort_values(primary, ascending=ascending, kind="stable").reset_index(drop=True)

    @property
    def best_run_id(self) -> str:
        best = self.tags.get("amlpipe.best_run_id")
        if not best:
            raise ResourceError(f"run '{self.id}' has no best model (status {self.status})")
        return best

    def get_output(self) -> Tuple[LocalRun, Any]:
        """The best run and its fitted pipeline (raw records in, predictions out)."""
        import joblib

        best = LocalRun(self.workspace, self.best_run_id)
        model_file = best.outputs_dir / "model.pkl"
        if not model_file.exists():
            raise ResourceError(f"best run '{best.id}' has no {OUTPUTS}/model.pkl")
        return best, joblib.load(model_file)

    def get_oof_predictions(self) -> pd.DataFrame:
        """The best model's out-of-fold predictions with the truth (for ROC and confusion matrix)."""
        best = LocalRun(self.workspace, self.best_run_id)
        path = best.outputs_dir / "oof_predictions.csv"
        if not path.exists():
            raise ResourceError(f"run '{self.id}' kept no out-of-fold predictions (holdout validation)")
        return pd.read_csv(path)

    def get_training_data(self) -> pd.DataFrame:
        """The registered dataset version this run trained on."""
        from .dataset import get

        name, _, version = self.tags.get("dataset", "").rpartition(":")
        if not name:
            raise ResourceError(f"run '{self.id}' was trained on a DataFrame, not a registered dataset")
        return get(self.workspace, name, version).to_pandas_dataframe()

    def register_model(self, model_name: Optional[str] = None, description: Optional[str] = None,
                       tags: Optional[Dict[str, str]] = None):
        """Register the best model in the MLflow model registry; returns a `LocalModel`."""
        from ...settings import ModelSettings
        from .model import register

        defaults = ModelSettings()
        return register(
            self.workspace,
            self,
            model_name or defaults.model_name,
            defaults.description if description is None else description,
            dict(defaults.tags if tags is None else tags),
        )
