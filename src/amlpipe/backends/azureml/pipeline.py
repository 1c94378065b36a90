"""The training pipeline on Azure ML (SDK v1): `AutoMLStep` → `PythonScriptStep`s in one `Pipeline`.

Built from `amlpipe.pipeline`'s definition: each step output is a `PipelineData` of the
same name (the AutoML step's with ``TrainingOutput(type="Metrics")`` and
``TrainingOutput(type="Model")``); the register and deploy steps run the scripts of
``steps/`` (shipped in the package) on the compute cluster. Submitted with
``experiment.submit(pipeline, regenerate_outputs=not allow_reuse)``; Azure ML reuses a step
whose inputs, settings and scripts are unchanged (``allow_reuse=True``), and says so in the
step run's ``azureml.reusedrunid`` property.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

from ... import inference
from ...errors import ResourceError
from ...pipeline import (AUTOML, COMPLETED, DEPLOY, FAILED, NOT_STARTED, REGISTER, PipelineDefinition, PipelineRun,
                         PublishedPipeline, StepFailed, StepRun, step_line)
from ...settings import Settings
from . import sdk
from .dataset import UPLOAD_FOLDER
from .errors import translated
from .experiment import automl_config_arguments
from .run import _error_text, _seconds_between

logger = logging.getLogger(__name__)

STEP_SCRIPTS = Path(__file__).resolve().parent / "steps"
SCRIPT = {REGISTER: "register_model.py", DEPLOY: "deploy_model.py"}
# What the AutoML step's outputs hold, and their names as pipeline outputs.
TRAINING_OUTPUT = {"metrics_data": "Metrics", "model_data": "Model"}
PIPELINE_OUTPUT_NAME = {"metrics_data": "metrics_output", "model_data": "best_model_output"}
RECURRENCE_FREQUENCY = {"daily": "Day", "weekly": "Week"}
DATASTORE_POLLING_MINUTES = 5
SCRIPT_PACKAGES = ("azureml-core", "azureml-defaults")
# Pipeline and step runs report success as "Finished" (the docs) or "Completed" (a Run).
SUCCEEDED = ("Finished", "Completed")


def _status(sdk_status: str) -> str:
    return COMPLETED if sdk_status in SUCCEEDED else sdk_status


@contextlib.contextmanager
def _pipeline_service(resource: str) -> Iterator[None]:
    """The SDK's own translations, plus the pipeline service's error responses (404 and friends)."""
    with translated(resource):
        try:
            yield
        except sdk.PipelineServiceError as exc:
            status = getattr(getattr(exc, "response", None), "status_code", "")
            raise ResourceError(f"{resource}: the pipeline service answered {status} ({exc})") from exc


def source_directory(definition: PipelineDefinition) -> Path:
    """A folder with the step scripts (and, with a deploy step, the entry script and what it imports)."""
    folder = Path(tempfile.mkdtemp(prefix="amlpipe-pipeline-"))
    for step in definition.steps:
        if step.name in SCRIPT:
            shutil.copy2(STEP_SCRIPTS / SCRIPT[step.name], folder / SCRIPT[step.name])
    if definition.deploy:
        inference.write_source_directory(folder, {}, definition.settings.inference)
    return folder


def script_run_configuration():
    """The script steps' environment: the SDK of this client, nothing else."""
    from importlib import metadata

    config = sdk.RunConfiguration()
    version = metadata.version("azureml-core").split(".post")[0]
    config.environment.python.conda_dependencies = sdk.CondaDependencies.create(
        pip_packages=[f"{package}~={version}" for package in SCRIPT_PACKAGES])
    return config


def pipeline_data(definition: PipelineDefinition, datastore=None) -> Dict[str, Any]:
    """One `PipelineData` per step output, named as the definition names it."""
    data = {}
    for step in definition.steps:
        for name in step.outputs:
            extra = {}
            if name in TRAINING_OUTPUT:
                extra = {"pipeline_output_name": PIPELINE_OUTPUT_NAME[name],
                         "training_output": sdk.TrainingOutput(type=TRAINING_OUTPUT[name])}
            data[name] = sdk.PipelineData(name, datastore=datastore, **extra)
    return data


def script_arguments(step: str, settings: Settings, data: Dict[str, Any]) -> List[Any]:
    """The command line of the register or deploy script: settings as values, `PipelineData` as paths."""
    if step == REGISTER:
        model = settings.model
        return ["--model_data", data["model_data"], "--model_name", model.model_name,
                "--description", model.description, "--tags", json.dumps(dict(model.tags)),
                "--registered_model", data["registered_model"]]
    service = settings.service
    return ["--registered_model", data["registered_model"], "--service_name", service.name,
            "--cpu_cores", service.cpu_cores, "--memory_gb", service.memory_gb,
            "--auth_enabled", str(service.auth_enabled).lower(), "--service", data["service"]]


def build_steps(definition: PipelineDefinition, training_data, compute_target, allow_reuse: bool = True,
                datastore=None) -> List[Any]:
    """The SDK's step objects, wired by the definition's input and output names.

    Args:
        training_data: The registered `TabularDataset`.
        compute_target: The `AmlCompute` (or its name).
    """
    settings = definition.settings
    data = pipeline_data(definition, datastore)
    folder = str(source_directory(definition))
    run_config = script_run_configuration()
    steps = []
    for step in definition.steps:
        outputs = [data[name] for name in step.outputs]
        if step.name == AUTOML:
            config = sdk.AutoMLConfig(**automl_config_arguments(settings.automl, training_data, compute_target))
            steps.append(sdk.AutoMLStep(name=step.name, automl_config=config, outputs=outputs, allow_reuse=allow_reuse))
        else:
            steps.append(sdk.PythonScriptStep(
                script_name=SCRIPT[step.name], name=step.name, arguments=script_arguments(step.name, settings, data),
                inputs=[data[name] for name in step.inputs], outputs=outputs, compute_target=compute_target,
                source_directory=folder, runconfig=run_config, allow_reuse=allow_reuse))
    return steps


def build_pipeline(ws, definition: PipelineDefinition, dataset, compute, allow_reuse: bool = True):
    """`Pipeline(workspace, steps, description)` for the registered dataset on the cluster."""
    steps = build_steps(definition, dataset.sdk_dataset, compute.sdk_target, allow_reuse)
    with _pipeline_service(f"pipeline {definition.name}"):
        return sdk.Pipeline(workspace=ws.sdk_workspace, steps=steps,
                            description=" -> ".join(s.name for s in definition.steps))


def _step_run(step, sdk_step_run) -> StepRun:
    properties = dict(sdk_step_run.get_properties())
    details = sdk_step_run.get_details()
    status = _status(sdk_step_run.get_status())
    outputs = {}
    if status == COMPLETED:
        for name in step.outputs:
            outputs[name] = str(sdk_step_run.get_output_data(name).path_on_datastore)
    error = _error_text(details.get("error")) if status != COMPLETED else None
    seconds = _seconds_between(details.get("startTimeUtc"), details.get("endTimeUtc")) or 0.0
    return StepRun(step.name, status, reused="azureml.reusedrunid" in properties, seconds=seconds,
                   run_id=sdk_step_run.id, outputs=outputs, error=error,
                   properties={k: str(v) for k, v in properties.items() if not k.startswith("azureml.")})


def _collect(definition: PipelineDefinition, sdk_run, on_step: Optional[Callable[[str], None]]) -> PipelineRun:
    """Read the finished run back: each step's status, reuse, duration and outputs; raise at a failed step."""
    on_step = on_step or (lambda line: None)
    with _pipeline_service(f"pipeline run {sdk_run.id}"):
        status = _status(sdk_run.get_status())
        steps = []
        for step in definition.steps:
            found = sdk_run.find_step_run(step.name)
            steps.append(_step_run(step, found[0]) if found else StepRun(step.name, NOT_STARTED))
    result = PipelineRun(sdk_run.id, status, definition, steps, handle=sdk_run)
    for number, step in enumerate(steps, start=1):
        if step.status == NOT_STARTED:
            continue
        on_step(step_line(number, len(steps), step))
        if step.status != COMPLETED:
            result.status = FAILED
            raise StepFailed(f"pipeline {definition.name} run {sdk_run.id}: step '{step.name}' {step.status}: "
                             f"{step.error}", step.name, result)
    if status != COMPLETED:
        raise StepFailed(f"pipeline {definition.name} run {sdk_run.id} is {status}", steps[-1].name, result)
    return result


def run(ws, definition: PipelineDefinition, dataset, allow_reuse: bool = True,
        on_step: Optional[Callable[[str], None]] = None, **options: Any) -> PipelineRun:
    """Build the pipeline, `experiment.submit(pipeline)`, wait, and read the steps back."""
    settings = definition.settings
    compute = ws.get_or_create_compute(settings.compute)
    experiment = ws.get_or_create_experiment(settings.experiment_name)
    pipeline = build_pipeline(ws, definition, dataset, compute, allow_reuse)
    with _pipeline_service(f"pipeline {definition.name} in experiment '{settings.experiment_name}'"):
        sdk_run = experiment.sdk_experiment.submit(pipeline, regenerate_outputs=not allow_reuse)
        logger.info("submitted pipeline run %s", sdk_run.id)
        sdk_run.wait_for_completion(show_output=False, raise_on_error=False)
    return _collect(definition, sdk_run, on_step)


def publish(ws, definition: PipelineDefinition, description: str = "") -> PublishedPipeline:
    """`pipeline.publish(name, description)`, made the default of the `PipelineEndpoint` of that name."""
    settings = definition.settings
    dataset = ws.get_dataset(settings.dataset.name)
    compute = ws.get_or_create_compute(settings.compute)
    pipeline = build_pipeline(ws, definition, dataset, compute)
    with _pipeline_service(f"pipeline endpoint '{definition.name}'"):
        published = pipeline.publish(name=definition.name, description=description)
        try:
            endpoint = sdk.PipelineEndpoint.get(workspace=ws.sdk_workspace, name=definition.name)
        except sdk.PipelineServiceError:
            endpoint = sdk.PipelineEndpoint.publish(workspace=ws.sdk_workspace, name=definition.name,
                                                    pipeline=published, description=description)
        else:
            endpoint.add_default(published)
        version = int(endpoint.default_version)
    logger.info("published pipeline %s (%s) as version %d of its endpoint", definition.name, published.id, version)
    return PublishedPipeline(definition.name, version, published.id, description, definition)


def list_published(ws) -> List[PublishedPipeline]:
    """Every version of every `PipelineEndpoint`."""
    found = []
    with _pipeline_service("pipeline endpoints"):
        for endpoint in sdk.PipelineEndpoint.list(ws.sdk_workspace):
            for version in endpoint.list_versions():
                found.append(PublishedPipeline(endpoint.name, int(version.version), version.pipeline_id,
                                               endpoint.description or ""))
    return sorted(found, key=lambda p: (p.name, p.version))


def submit_published(ws, name: str, version: Any = "latest", allow_reuse: bool = True,
                     on_step: Optional[Callable[[str], None]] = None) -> PipelineRun:
    """`PipelineEndpoint.get(name).submit(experiment)`, its default version unless ``version``."""
    experiment_name = Settings().experiment_name
    with _pipeline_service(f"pipeline endpoint '{name}'"):
        endpoint = sdk.PipelineEndpoint.get(workspace=ws.sdk_workspace, name=name)
        chosen = None if version in (None, "latest") else str(version)
        sdk_run = endpoint.submit(experiment_name, pipeline_version=chosen)
        sdk_run.wait_for_completion(show_output=False, raise_on_error=False)
        deploys = bool(sdk_run.find_step_run(DEPLOY))
    return _collect(PipelineDefinition(name=name, deploy=deploys), sdk_run, on_step)


def schedule(ws, published: PublishedPipeline, recurrence: str):
    """`Schedule.create`: daily or weekly (`ScheduleRecurrence`), or when the uploaded data changes on the datastore."""
    experiment_name = (published.definition.settings if published.definition else Settings()).experiment_name
    name = f"{published.name}-{recurrence}"
    with _pipeline_service(f"schedule '{name}'"):
        if recurrence == "datastore":
            return sdk.Schedule.create(ws.sdk_workspace, name=name, pipeline_id=published.id,
                                       experiment_name=experiment_name,
                                       datastore=ws.sdk_workspace.get_default_datastore(),
                                       path_on_datastore=UPLOAD_FOLDER, polling_interval=DATASTORE_POLLING_MINUTES,
                                       description=f"{published.name} when {UPLOAD_FOLDER}/ changes")
        every = sdk.ScheduleRecurrence(frequency=RECURRENCE_FREQUENCY[recurrence], interval=1)
        return sdk.Schedule.create(ws.sdk_workspace, name=name, pipeline_id=published.id,
                                   experiment_name=experiment_name, recurrence=every,
                                   description=f"{published.name} {recurrence}")
