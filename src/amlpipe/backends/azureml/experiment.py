"""Experiments and AutoML on Azure ML: `Experiment(ws, name)`, `AutoMLConfig`, `experiment.submit`."""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from ... import environment
from ...settings import AutoMLSettings, ComputeSettings
from ..base import BaseExperiment
from . import sdk
from .errors import translated
from .limits import check_settings
from .run import AzureAutoMLRun

logger = logging.getLogger(__name__)


def automl_config_arguments(settings: AutoMLSettings, training_data: Any, compute_target: Any,
                            validation_data: Any = None, test_data: Any = None) -> Dict[str, Any]:
    """The lesson's `AutoMLConfig` arguments from amlpipe's settings (optional ones only when set)."""
    arguments: Dict[str, Any] = {
        "compute_target": compute_target,
        "task": settings.task,
        "training_data": training_data,
        "label_column_name": settings.label_column_name,
        "path": settings.path,
        "enable_early_stopping": settings.enable_early_stopping,
        "featurization": settings.featurization,
        "debug_log": settings.debug_log,
        "experiment_timeout_minutes": settings.experiment_timeout_minutes,
        "max_concurrent_iterations": settings.max_concurrent_iterations,
        "primary_metric": settings.primary_metric,
        "enable_voting_ensemble": settings.enable_voting_ensemble,
        "enable_stack_ensemble": settings.enable_stack_ensemble,
        "enable_onnx_compatible_models": settings.enable_onnx_compatible_models,
    }
    optional = {
        "n_cross_validations": settings.n_cross_validations,
        "validation_size": settings.validation_size,
        "test_size": settings.test_size,
        "iterations": settings.iterations,
        "allowed_models": list(settings.allowed_models) if settings.allowed_models else None,
        "blocked_models": list(settings.blocked_models) if settings.blocked_models else None,
        "weight_column_name": settings.weight_column_name,
        "validation_data": validation_data,
        "test_data": test_data,
    }
    arguments.update({k: v for k, v in optional.items() if v is not None})
    return arguments


class AzureExperiment(BaseExperiment):
    """An Azure ML experiment; `sdk_experiment` is the SDK's object."""

    def __init__(self, ws, sdk_experiment: Any):
        self.workspace = ws
        self.sdk_experiment = sdk_experiment
        self.name = sdk_experiment.name

    def __repr__(self) -> str:
        return f"AzureExperiment(name={self.name!r})"

    def submit(self, config: AutoMLSettings, training_data, compute_target=None, validation_data=None,
               show_output: bool = False, progress: str = "auto", test_data=None) -> AzureAutoMLRun:
        """Build `AutoMLConfig` and submit it to the cluster; the run goes on in Azure (``test_data``: AutoMLConfig's test data).

        Without ``compute_target`` the cluster of the default `ComputeSettings` name is used:
        the SDK would otherwise train in this process. With ``show_output`` and
        ``progress="auto"`` in a notebook a person runs, the RunDetails widget is shown (it
        renders in the classic notebook only); `wait_for_completion` then shows amlpipe's live view.

        Raises:
            ConfigError: a setting Azure AutoML refuses (checked before anything is sent).
            ResourceError: no such cluster.
        """
        check_settings(config)
        if compute_target is None:
            compute_target = self.workspace.get_compute(ComputeSettings().name)
            logger.info("no compute target given: using cluster %s", compute_target.name)
        arguments = automl_config_arguments(
            config,
            training_data.sdk_dataset,
            compute_target.sdk_target,
            validation_data.sdk_dataset if validation_data is not None else None,
            test_data.sdk_dataset if test_data is not None else None,
        )
        with translated(f"AutoML run in experiment '{self.name}'"):
            automl_config = sdk.AutoMLConfig(**arguments)
            run = self.sdk_experiment.submit(automl_config, show_output=False)
        logger.info("submitted AutoML run %s", run.id)
        if show_output and progress in ("auto", "bar") and environment.interactive_notebook():
            sdk.RunDetails(run).show()
        return AzureAutoMLRun(self.workspace, run)

    def get_runs(self) -> List[AzureAutoMLRun]:
        """AutoML runs of this experiment, newest first."""
        with translated(f"experiment '{self.name}'"):
            runs = list(self.sdk_experiment.get_runs(type="automl"))
        return [AzureAutoMLRun(self.workspace, sdk.AutoMLRun(self.sdk_experiment, r.id)) for r in runs]

    def _find_run(self, run_id: str) -> Optional[AzureAutoMLRun]:
        """Reattach to an AutoML run by id (`AutoMLRun(experiment, run_id)`), or None."""
        try:
            found = sdk.AutoMLRun(self.sdk_experiment, run_id)
        except sdk.UserErrorException:
            return None
        return AzureAutoMLRun(self.workspace, found)


def get_or_create(ws, name: str) -> AzureExperiment:
    """`Experiment(ws, name)`: the SDK gets the experiment, creating it when missing."""
    with translated(f"experiment '{name}'"):
        return AzureExperiment(ws, sdk.Experiment(ws.sdk_workspace, name))


def get(ws, name: str) -> Optional[AzureExperiment]:
    """`Experiment.list(ws, experiment_name=name)`: the experiment, or None; a mistyped name creates nothing."""
    with translated(f"experiment '{name}'"):
        found = list(sdk.Experiment.list(ws.sdk_workspace, experiment_name=name))
    return AzureExperiment(ws, found[0]) if found else None
