"""AutoML runs on Azure ML: status, children, best model, registration."""

from __future__ import annotations

import logging
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pandas as pd

from ... import environment, metrics
from ...errors import ResourceError
from ..base import BaseAutoMLRun, leaderboard_frame
from .errors import translated
from .model import AzureModel, register_from_run

logger = logging.getLogger(__name__)
SCORING_FILE = "outputs/scoring_file_v_1_0_0.py"
TERMINAL_STATUSES = ("Completed", "Failed", "Canceled")
LIVE_REFRESH_SECONDS = 20.0
ONNX_HINT = (" (the ONNX model needs the run submitted with automl.enable_onnx_compatible_models=True, and "
             "azureml-train-automl-runtime installed here to load it)")


def _seconds_between(start: Optional[str], end: Optional[str]) -> Optional[float]:
    if not start or not end:
        return None
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def _error_text(error: Any) -> str:
    """``code: message`` of a run's ErrorResponse (``details["error"]["error"]``), whatever shape it arrives in."""
    if not error:
        return "no error details"
    root = error.get("error", error) if isinstance(error, dict) else {"message": str(error)}
    return f"{root.get('code', 'no error code')}: {root.get('message', 'no message')}"


class AzureRun:
    """A run (the best child, a trial); `sdk_run` is the SDK's object."""

    def __init__(self, ws, sdk_run: Any):
        self.workspace = ws
        self.sdk_run = sdk_run
        self.id = sdk_run.id

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r})"

    @property
    def status(self) -> str:
        return self.sdk_run.get_status()

    @property
    def properties(self) -> Dict[str, Any]:
        return dict(self.sdk_run.get_properties())

    @property
    def tags(self) -> Dict[str, Any]:
        return dict(self.sdk_run.get_tags())

    def get_properties(self) -> Dict[str, Any]:
        return self.properties

    def get_metrics(self) -> Dict[str, Any]:
        return {k: v for k, v in self.sdk_run.get_metrics().items() if isinstance(v, (int, float))}

    def get_environment(self):
        return self.sdk_run.get_environment()

    def download_scoring_file(self, folder: Optional[Path] = None) -> Path:
        """AutoML's generated scoring script of this run (`outputs/scoring_file_v_1_0_0.py`)."""
        folder = Path(folder or tempfile.mkdtemp(prefix="amlpipe-scoring-"))
        target = folder / "scoring_file_v_1_0_0.py"
        with translated(f"run '{self.id}'"):
            self.sdk_run.download_file(SCORING_FILE, str(target))
        return target


class AzureAutoMLRun(AzureRun, BaseAutoMLRun):
    """An AutoML parent run."""

    def __init__(self, ws, sdk_run: Any):
        super().__init__(ws, sdk_run)
        self._finished_children: Dict[str, Dict[str, Any]] = {}  # child run id -> its final details

    def wait_for_completion(self, show_output: bool = False) -> Dict[str, Any]:
        """Wait until the run has finished, then check how it ended.

        With ``show_output``: in a notebook a person runs, amlpipe's live view (child runs and
        the best score over time, refreshed in place); elsewhere the SDK's plain text progress.
        The SDK's ``wait_for_completion(show_output=True)`` can return while the run still
        executes and never raises on failure, so a quiet wait follows and the status is read.

        Returns:
            The run's details (the SDK's dict).

        Raises:
            ResourceError: the run failed or was canceled; with Azure's error and the portal URL.
        """
        with translated(f"AutoML run '{self.id}'"):
            if show_output and environment.interactive_notebook():
                self.watch()
            elif show_output:
                self.sdk_run.wait_for_completion(show_output=True)
            details = self.sdk_run.wait_for_completion(show_output=False, wait_post_processing=True)
        self.require_completed("wait for it")
        return details

    def require_completed(self, action: str) -> None:
        """Raise unless the run completed: a failed or canceled run says why and where to look.

        Raises:
            ResourceError: naming the run, its status, Azure's error and the portal URL.
        """
        with translated(f"AutoML run '{self.id}'"):
            status = self.sdk_run.get_status()
            if status == "Completed":
                return
            error = self.sdk_run.get_details().get("error") if status in TERMINAL_STATUSES else None
            portal = self.sdk_run.get_portal_url()
        if status in TERMINAL_STATUSES:
            reason = _error_text(error)
            raise ResourceError(f"AutoML run '{self.id}' {status.lower()} ({reason}); see {portal}")
        raise ResourceError(f"AutoML run '{self.id}' is {status}, not completed: cannot {action} yet; "
                            f"wait with run.wait_for_completion() (progress: {portal})")

    def watch(self, refresh_seconds: Optional[float] = None) -> None:
        """Show the live view (child runs and best score over time) until the run ends.

        Args:
            refresh_seconds: Between two refreshes (default `LIVE_REFRESH_SECONDS`).
        """
        from ...live import LiveView, poll

        refresh_seconds = LIVE_REFRESH_SECONDS if refresh_seconds is None else refresh_seconds
        primary = self.primary_metric
        view = LiveView(self.id, primary, metrics.GREATER_IS_BETTER[primary])

        def refresh():
            with translated(f"AutoML run '{self.id}'"):
                status = self.sdk_run.get_status()
            return self._leaderboard_with_status(), status

        poll(view, refresh, TERMINAL_STATUSES, refresh_seconds)

    def get_children(self) -> List[AzureRun]:
        """The AutoML child runs, the trials nested under HyperDrive included (as the SDK finds them)."""
        return [AzureRun(self.workspace, child) for child in self._automl_children()]

    def _automl_children(self) -> List[Any]:
        with translated(f"AutoML run '{self.id}'"):
            children = self.sdk_run.get_children(recursive=True, properties={"runTemplate": "automl_child"})
            return [c for c in children if str(getattr(c, "type", "")).lower() != "hyperdrive"]

    def _leaderboard_rows(self) -> List[Dict[str, Any]]:
        """One row per AutoML child run (with its status too), found recursively as `AutoMLRun.get_output`
        does, their scores from one `get_metrics(recursive=True)` call; `BaseAutoMLRun` sorts them."""
        primary = self.primary_metric
        children = self._automl_children()
        with translated(f"AutoML run '{self.id}'"):
            scores = self.sdk_run.get_metrics(recursive=True) if children else {}
            started = self.sdk_run.get_details().get("startTimeUtc") if children else None
            rows = []
            for child in children:
                details = self._child_details(child)
                properties = details.get("properties") or {}
                rows.append({
                    "iteration": int(properties.get("iteration", -1)),
                    "algorithm": properties.get("run_algorithm", ""),
                    "score": (scores.get(child.id) or {}).get(primary),
                    "duration_s": _seconds_between(details.get("startTimeUtc"), details.get("endTimeUtc")),
                    "elapsed_s": _seconds_between(started, details.get("endTimeUtc")),
                    "run_id": child.id,
                    "status": details.get("status", ""),
                })
        return rows

    def _leaderboard_with_status(self) -> pd.DataFrame:
        """The leaderboard and each child's status, for the live view."""
        rows = self._leaderboard_rows()
        board = leaderboard_frame(rows, self.primary_metric)
        status = {row["run_id"]: row["status"] for row in rows}
        return board.assign(status=board["run_id"].map(status))

    def _child_details(self, child: Any) -> Dict[str, Any]:
        """`child.get_details()`, asked once only for a child that has finished (the live view refreshes often)."""
        if child.id in self._finished_children:
            return self._finished_children[child.id]
        details = child.get_details()
        if details.get("status") in TERMINAL_STATUSES:
            self._finished_children[child.id] = details
        return details

    def get_output(self, return_onnx_model: bool = False) -> Tuple[AzureRun, Any]:
        """`run.get_output()`: the best child run and, when the AutoML runtime is installed here, the fitted model.

        Without azureml-train-automl-runtime the SDK returns no model object; registration and
        deployment work from the run's outputs all the same. With ``return_onnx_model``
        (`get_output(return_onnx_model=True)`): the best child that wrote an ONNX model, and that
        model (an `onnx.ModelProto`); the run must have been submitted with
        ``enable_onnx_compatible_models``, and loading the model needs the runtime.

        Raises:
            ResourceError: the run has not completed, or (``return_onnx_model``) was submitted without
                ``enable_onnx_compatible_models``.
            ConfigError: (``return_onnx_model``) azureml-train-automl-runtime is not installed here.
        """
        self.require_completed("take its best model")
        hint = ONNX_HINT if return_onnx_model else ""
        with translated(f"AutoML run '{self.id}'", hint):
            best_run, fitted_model = self.sdk_run.get_output(**({"return_onnx_model": True} if return_onnx_model else {}))
        if fitted_model is None:
            logger.warning(
                "the fitted model of run %s is not available here (azureml-train-automl-runtime is not installed); "
                "registration and deployment use the run's outputs", best_run.id,
            )
        return AzureRun(self.workspace, best_run), fitted_model

    def get_oof_predictions(self) -> Optional[pd.DataFrame]:
        """None: out-of-fold predictions are not downloaded from Azure; the run's own charts are in the studio."""
        logger.info("out-of-fold predictions are shown in the Azure ML studio for run %s", self.id)
        return None

    def get_training_data(self) -> pd.DataFrame:
        raise ResourceError("the training data of an Azure run is the registered dataset; load it with get_dataset")

    def _register_model(self, model_name: str, description: str, tags: Dict[str, str]) -> AzureModel:
        self.require_completed("register its best model")
        return register_from_run(self.sdk_run, model_name, description, tags)
