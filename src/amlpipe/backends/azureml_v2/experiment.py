"""AutoML through SDK v2: `automl.classification(...)` with `set_limits`, `set_featurization`, `set_training`,
submitted with `ml_client.jobs.create_or_update`.

Every `AutoMLSettings` field is either mapped to its v2 call (`V2_CALLS`, the README's table)
or refused by name: ``debug_log``, ``path`` and ``seed`` have no v2 equivalent and may only
keep their defaults, and ``experiment_timeout_minutes`` must be whole minutes of at least 15
(the service's floor).
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from ...errors import ConfigError, MissingDependencyError
from ...settings import AutoMLSettings
from ..azureml.limits import MIN_EXPERIMENT_TIMEOUT_MINUTES as MIN_TIMEOUT_MINUTES
from ..base import BaseExperiment
from . import sdk
from .errors import translated
from .run import AzureV2AutoMLRun

logger = logging.getLogger(__name__)

# AutoMLSettings field (SDK v1's AutoMLConfig name) -> its SDK v2 call.
V2_CALLS: Dict[str, str] = {
    "task": "automl.classification(...) / automl.regression(...)",
    "primary_metric": "automl.<task>(primary_metric=...)",
    "label_column_name": "automl.<task>(target_column_name=...)",
    "n_cross_validations": "automl.<task>(n_cross_validations=...)",
    "validation_size": "automl.<task>(validation_data_size=...)",
    "weight_column_name": "automl.<task>(weight_column_name=...)",
    "test_size": "automl.<task>(test_data_size=...)",
    "enable_onnx_compatible_models": "set_training(enable_onnx_compatible_models=...)",
    "experiment_timeout_minutes": "set_limits(timeout_minutes=...) (whole minutes, at least 15)",
    "max_concurrent_iterations": "set_limits(max_concurrent_trials=...)",
    "enable_early_stopping": "set_limits(enable_early_termination=...)",
    "iterations": "set_limits(max_trials=...)",
    "featurization": "set_featurization(mode=...)",
    "allowed_models": "set_training(allowed_training_algorithms=...)",
    "blocked_models": "set_training(blocked_training_algorithms=...)",
    "enable_voting_ensemble": "set_training(enable_vote_ensemble=...)",
    "enable_stack_ensemble": "set_training(enable_stack_ensemble=...)",
}
# No v2 equivalent: accepted at their defaults, refused otherwise.
NOT_IN_V2: Dict[str, str] = {
    "debug_log": "v2 keeps AutoML's logs with the job (ml_client.jobs.download(name, all=True))",
    "path": "v2 jobs have no project folder",
    "seed": "Azure AutoML takes no seed",
}


def refuse_unsupported(settings: AutoMLSettings) -> None:
    """Raise for any setting the v2 job cannot honour; the message names the setting.

    Raises:
        ConfigError: a non-default ``debug_log``, ``path`` or ``seed``, or a timeout that is not
            whole minutes or is under the 15-minute floor.
    """
    defaults = AutoMLSettings()
    for name, why in NOT_IN_V2.items():
        if getattr(settings, name) != getattr(defaults, name):
            raise ConfigError(f"setting 'automl.{name}' = {getattr(settings, name)!r} has no SDK v2 equivalent ({why})")
    minutes = settings.experiment_timeout_minutes
    if minutes != int(minutes) or minutes < MIN_TIMEOUT_MINUTES:
        raise ConfigError(
            f"setting 'automl.experiment_timeout_minutes' = {minutes!r} must be whole minutes, at least "
            f"{MIN_TIMEOUT_MINUTES} on Azure ML (set_limits(timeout_minutes=...))"
        )


def automl_job(settings: AutoMLSettings, training_data: Any, compute: Optional[str], experiment_name: str,
               validation_data: Any = None, test_data: Any = None, **extra: Any):
    """The SDK's AutoML job entity for ``settings`` (`automl.classification` or `automl.regression`), not yet submitted.

    Args:
        training_data, validation_data, test_data: `Input(type="mltable", ...)` of the data assets.
        compute: The AmlCompute cluster's name.
        extra: More arguments of `automl.<task>` (the pipeline passes ``outputs``).
    """
    refuse_unsupported(settings)
    optional = {
        "n_cross_validations": settings.n_cross_validations,
        "validation_data_size": settings.validation_size,
        "weight_column_name": settings.weight_column_name,
        "validation_data": validation_data,
        "test_data_size": settings.test_size,
        "test_data": test_data,
    }
    make = sdk.automl.classification if settings.task == "classification" else sdk.automl.regression
    arguments = {
        "training_data": training_data,
        "target_column_name": settings.label_column_name,
        "primary_metric": settings.primary_metric,
        "compute": compute,
        "experiment_name": experiment_name,
        **{k: v for k, v in optional.items() if v is not None},
        **extra,
    }
    if settings.task == "classification":
        # v1's AutoMLConfig explains the best model by default; v2 needs it asked for.
        arguments["enable_model_explainability"] = True
    job = make(**arguments)
    job.set_limits(
        timeout_minutes=int(settings.experiment_timeout_minutes),
        max_concurrent_trials=settings.max_concurrent_iterations,
        enable_early_termination=settings.enable_early_stopping,
        max_trials=settings.iterations,
    )
    job.set_featurization(mode=settings.featurization)
    job.set_training(
        enable_vote_ensemble=settings.enable_voting_ensemble,
        enable_stack_ensemble=settings.enable_stack_ensemble,
        enable_onnx_compatible_models=settings.enable_onnx_compatible_models,
        allowed_training_algorithms=list(settings.allowed_models) if settings.allowed_models else None,
        blocked_training_algorithms=list(settings.blocked_models) if settings.blocked_models else None,
    )
    return job


class AzureV2Experiment(BaseExperiment):
    """An experiment: the ``experiment_name`` jobs are filed under (SDK v2 has no experiment object)."""

    def __init__(self, ws, name: str):
        self.workspace = ws
        self.name = name

    def __repr__(self) -> str:
        return f"AzureV2Experiment(name={self.name!r})"

    def submit(self, config: AutoMLSettings, training_data, compute_target=None, validation_data=None,
               show_output: bool = False, progress: str = "auto", test_data=None) -> AzureV2AutoMLRun:
        """Build the AutoML job and submit it (`ml_client.jobs.create_or_update`); the job goes on in Azure.

        Nothing waits here: call `wait_for_completion(show_output=True)`, which streams the job's log.
        """
        job = automl_job(
            config,
            training_data.as_input(),
            compute_target.name if compute_target is not None else None,
            self.name,
            validation_data.as_input() if validation_data is not None else None,
            test_data.as_input() if test_data is not None else None,
        )
        with translated(f"AutoML job in experiment '{self.name}'"):
            submitted = self.workspace.ml_client.jobs.create_or_update(job)
        logger.info("submitted AutoML job %s (%s)", submitted.name, getattr(submitted, "studio_url", ""))
        return AzureV2AutoMLRun(self.workspace, submitted)

    def get_runs(self) -> List[AzureV2AutoMLRun]:
        """AutoML jobs of this experiment, newest first."""
        with translated(f"experiment '{self.name}'"):
            jobs = [j for j in self.workspace.ml_client.jobs.list()
                    if j.experiment_name == self.name and j.type == "automl"]
        jobs.sort(key=lambda j: getattr(getattr(j, "creation_context", None), "created_at", None) or 0, reverse=True)
        return [AzureV2AutoMLRun(self.workspace, j) for j in jobs]

    def _find_run(self, run_id: str) -> Optional[AzureV2AutoMLRun]:
        """`ml_client.jobs.get(run_id)`, or None when there is no such job in this experiment."""
        with translated(f"run '{run_id}' in experiment '{self.name}'"):
            try:
                job = self.workspace.ml_client.jobs.get(run_id)
            except sdk.ResourceNotFoundError:
                return None
        return AzureV2AutoMLRun(self.workspace, job) if job.experiment_name == self.name else None


def get_or_create(ws, name: str) -> AzureV2Experiment:
    """The experiment in the workspace's MLflow (`get_experiment_by_name`), created when missing.

    SDK v2 has no experiment object; an Azure ML experiment is an MLflow experiment, and jobs
    file under it by ``experiment_name`` (Azure creates it with the first job). Without
    MLflow's azureml plugin the experiment is only that name: training, registering and
    deploying need no MLflow.
    """
    try:
        client = ws.mlflow
    except MissingDependencyError as exc:
        logger.info("experiment %s: the first job creates it (%s)", name, exc)
        return AzureV2Experiment(ws, name)
    with translated(f"experiment '{name}'"):
        if client.get_experiment_by_name(name) is None:
            client.create_experiment(name)
            logger.info("created experiment %s", name)
    return AzureV2Experiment(ws, name)


def get(ws, name: str) -> Optional[AzureV2Experiment]:
    """The experiment of that name in the workspace's MLflow, or None."""
    with translated(f"experiment '{name}'"):
        found = ws.mlflow.get_experiment_by_name(name)
    return None if found is None else AzureV2Experiment(ws, name)
