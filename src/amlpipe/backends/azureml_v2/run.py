"""AutoML jobs through SDK v2: status from `ml_client.jobs`, metrics and children from the workspace's MLflow.

The job's name is its MLflow run id. The best trial is the child named by the parent's
``automl_best_child_run_id`` tag; its MLflow model is under ``outputs/mlflow-model``
(`model.MLFLOW_MODEL_PATH`). Waiting streams the job's log headless (`jobs.stream`) and shows
amlpipe's live view in a person's notebook, from the child jobs (`jobs.list(parent_job_name=...)`).
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

import pandas as pd

from ... import environment, metrics
from ...errors import ResourceError
from ...settings import CLASSIFICATION_METRICS, REGRESSION_METRICS
from ..azureml.run import _error_text
from ..base import BaseAutoMLRun, leaderboard_frame
from . import sdk
from .errors import translated
from .model import AzureV2Model, register_from_run

logger = logging.getLogger(__name__)
BEST_CHILD_TAG = "automl_best_child_run_id"
FINISHED = {"Completed", "Failed", "Canceled", "NotResponding", "Paused"}
POLL_SECONDS = 30
LIVE_REFRESH_SECONDS = 20.0
# What marks an AutoML trial among a parent's child jobs (not the setup or featurization runs), as in v1.
TRIAL_TEMPLATE = ("runTemplate", "automl_child")


def azure_error(exc: BaseException) -> str:
    """``code: message`` of the error `jobs.stream` raises for a failed job (a `JobException` holding Azure's
    error as JSON after ``Exception :``), or its text when it holds none."""
    text = str(getattr(exc, "message", None) or exc)
    try:
        return _error_text(json.loads(text[text.index("{"):].strip()))
    except ValueError:
        return " ".join(text.replace("Exception :", "").split())[:500] or type(exc).__name__


def wait_for_job(ws, name: str, resource: str, stream: bool = True) -> Tuple[Any, Optional[str]]:
    """`jobs.stream(name)` (the job's log as plain lines) when ``stream``, then `jobs.get` until the job has ended.

    Returns:
        The job as last fetched, and Azure's error (``code: message``) when the stream reported
        the job failed; None otherwise.
    """
    jobs = ws.ml_client.jobs
    error = None
    with translated(resource):
        if stream:
            try:
                jobs.stream(name)
            except sdk.JobException as exc:  # the SDK raises on a failed job, with Azure's error
                error = azure_error(exc)
        job = jobs.get(name)
        while job.status not in FINISHED:
            time.sleep(POLL_SECONDS)
            job = jobs.get(name)
    return job, error


def seconds_of(job: Any, since: Optional[datetime] = None) -> Optional[float]:
    """From the job's creation (or ``since``) to its last change (`creation_context`), in seconds."""
    context = getattr(job, "creation_context", None)
    start = since or getattr(context, "created_at", None)
    end = getattr(context, "last_modified_at", None)
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return None
    return (end - start).total_seconds()


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
        """Wait until the job has ended, then check how it ended.

        With ``show_output``: in a notebook a person runs, amlpipe's live view (the trials and
        the best score over time, refreshed in place); elsewhere `ml_client.jobs.stream(name)`,
        the job's log as plain lines.

        Raises:
            ResourceError: the job ended in another state than Completed; with Azure's error and the studio URL.
        """
        resource = f"AutoML job '{self.id}'"
        if show_output and environment.interactive_notebook():
            self.watch()
            self.sdk_job, error = wait_for_job(self.workspace, self.id, resource, stream=False)
        else:
            self.sdk_job, error = wait_for_job(self.workspace, self.id, resource, stream=show_output)
        status = self.sdk_job.status
        if status != "Completed":
            raise ResourceError(f"AutoML job '{self.id}' ended {status} ({error or 'no error details'}); "
                                f"see {getattr(self.sdk_job, 'studio_url', '') or 'the studio'}")
        return {"runId": self.id, "status": status}

    def watch(self, refresh_seconds: Optional[float] = None) -> None:
        """Show the live view (the trials and the best score over time) until the job ends.

        Each refresh asks `jobs.get` for the job's status and `jobs.list(parent_job_name=...)` for
        its trials (their ``run_algorithm``, ``iteration`` and ``score`` properties); no MLflow.

        Args:
            refresh_seconds: Between two refreshes (default `LIVE_REFRESH_SECONDS`).
        """
        from ...live import LiveView, poll

        refresh_seconds = LIVE_REFRESH_SECONDS if refresh_seconds is None else refresh_seconds
        primary = v1_metric_name(self.sdk_job.primary_metric)  # the job's own, no MLflow needed
        view = LiveView(self.id, primary, metrics.GREATER_IS_BETTER[primary])

        def refresh():
            with translated(f"AutoML job '{self.id}'"):
                self.sdk_job = self.workspace.ml_client.jobs.get(self.id)
                status = self.sdk_job.status
                return self._live_board(primary), status

        poll(view, refresh, FINISHED, refresh_seconds)

    def _live_board(self, primary: str) -> pd.DataFrame:
        """The trials as child jobs: the leaderboard's columns and each trial's status."""
        started = getattr(getattr(self.sdk_job, "creation_context", None), "created_at", None)
        rows = []
        for child in self.workspace.ml_client.jobs.list(parent_job_name=self.id):
            properties = dict(getattr(child, "properties", None) or {})
            if properties.get(TRIAL_TEMPLATE[0]) != TRIAL_TEMPLATE[1]:
                continue
            score = properties.get("score")
            rows.append({
                "iteration": int(properties.get("iteration", -1)),
                "algorithm": properties.get("run_algorithm", ""),
                "score": float(score) if score not in (None, "") else None,
                "duration_s": seconds_of(child),
                "elapsed_s": seconds_of(child, since=started),
                "run_id": child.name,
                "status": child.status,
            })
        board = leaderboard_frame(rows, primary)
        return board.assign(status=board["run_id"].map({row["run_id"]: row["status"] for row in rows}))

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
        """The best trial: the ``automl_best_child_run_id`` tag of the job (`jobs.get`), no MLflow needed;
        for a job that keeps it only in its MLflow run's tags, those.

        Raises:
            ResourceError: the job has no best trial (not finished, or every trial failed).
        """
        with translated(f"AutoML job '{self.id}'"):
            self.sdk_job = self.workspace.ml_client.jobs.get(self.id)
        best = (self.sdk_job.tags or {}).get(BEST_CHILD_TAG) or (self.sdk_job.properties or {}).get(BEST_CHILD_TAG)
        if not best and self.sdk_job.status == "Completed":
            best = self.tags.get(BEST_CHILD_TAG)
        if not best:
            raise ResourceError(f"AutoML job '{self.id}' names no best trial yet (tag {BEST_CHILD_TAG}); "
                                f"it is {self.sdk_job.status}, is it Completed?")
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
