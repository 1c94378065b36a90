"""AutoML runs on Azure ML: status, children, best model, registration."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pandas as pd

from ...errors import ResourceError
from ..base import BaseAutoMLRun
from .errors import translated
from .model import AzureModel, register_from_run

logger = logging.getLogger(__name__)
SCORING_FILE = "outputs/scoring_file_v_1_0_0.py"


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

    def wait_for_completion(self, show_output: bool = False) -> Dict[str, Any]:
        """`run.wait_for_completion(show_output=...)`: plain text progress, no widget."""
        with translated(f"AutoML run '{self.id}'"):
            return self.sdk_run.wait_for_completion(show_output=show_output, wait_post_processing=True)

    def get_children(self) -> List[AzureRun]:
        return [AzureRun(self.workspace, child) for child in self.sdk_run.get_children()]

    def _leaderboard_rows(self) -> List[Dict[str, Any]]:
        primary = self.primary_metric
        rows = []
        for child in self.sdk_run.get_children():
            props = child.get_properties()
            metrics = child.get_metrics()
            rows.append({
                "iteration": int(props.get("iteration", -1)),
                "algorithm": props.get("run_algorithm", ""),
                "score": metrics.get(primary),
                "duration_s": None,
                "elapsed_s": None,
                "run_id": child.id,
            })
        return rows

    def get_output(self, return_onnx_model: bool = False) -> Tuple[AzureRun, Any]:
        """`run.get_output()`: the best child run and, when the AutoML runtime is installed here, the fitted model
        (with ``return_onnx_model``, its ONNX model: the run needs ``enable_onnx_compatible_models``).

        Without azureml-train-automl-runtime the SDK returns no model object; registration and
        deployment work from the run's outputs all the same.
        """
        with translated(f"AutoML run '{self.id}'"):
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
        return register_from_run(self.sdk_run, model_name, description, tags)
