"""The challenge as an Azure ML pipeline on SDK v2: `@dsl.pipeline` with the AutoML node and a register step.

Built from `amlpipe.pipeline`'s definition. The AutoML node (named ``automl``) is the job
`experiment.automl_job` builds for a single run; its ``best_model`` output (an MLflow model)
feeds the register command component (``register``), which runs `register_step.py` inside
Azure ML, registers the model under ``settings.model.model_name`` and tags its run with the
model's name and version. The pipeline's output is the register step's ``registered_model``.

- run: ``jobs.create_or_update(pipeline_job)`` (``settings.force_rerun`` when reuse is off),
  ``jobs.stream`` to the end, the status checked, each step read back from the child jobs
  (``jobs.list(parent_job_name=...)``; Azure marks a reused step ``azureml.isreused``).
- deploy: SDK v2 deploys a managed online endpoint through the control plane, not from a
  node; with ``deploy`` the step runs here, after the pipeline job, through `deployment.deploy`.
- publish: v2 has no `PipelineEndpoint`; the pipeline is registered as a versioned pipeline
  component (``ml_client.components.create_or_update``) and submitted again as a pipeline job
  on that component.
- schedule: a `JobSchedule` with a `RecurrenceTrigger` (daily, weekly) on the latest data
  version; azure-ai-ml has no trigger on a datastore change.
"""

# No `from __future__ import annotations` here: `dsl.pipeline` reads the pipeline function's input
# annotation (`Input(type="mltable")`) as an object.
import json
import logging
import shlex
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, List, Optional

from ...errors import AmlpipeError, ConfigError
from ...pipeline import (AUTOML, COMPLETED, DEPLOY, FAILED, NOT_STARTED, REGISTER, PipelineDefinition, PipelineRun,
                         PublishedPipeline, StepFailed, StepRun, step_line)
from ...settings import Settings
from . import sdk
from .deployment import INFERENCE_IMAGE
from .errors import translated
from .experiment import automl_job
from .run import seconds_of, wait_for_job

logger = logging.getLogger(__name__)
REGISTER_SCRIPT = Path(__file__).with_name("register_step.py")
PIPELINE_OUTPUT = "registered_model"  # the register step's output, and the pipeline's
# The SDK's own names (`azure.ai.ml.constants._job.pipeline.PipelineConstants`) for a reused step's child job.
REUSED_FLAG, REUSED_RUN = "azureml.isreused", "azureml.reusedrunid"
REGISTERED_TAGS = ("model_name", "model_version")  # set by register_step.py on its run
PUBLISHED_TAG = "amlpipe.pipeline"  # on a published pipeline component: the definition's name
RECURRENCE_FREQUENCY = {"daily": "day", "weekly": "week"}
# Where a completed step's outputs are, as SDK v2 names a job's outputs.
OUTPUT_URI = {AUTOML: {"model_data": "best_model"}, REGISTER: {"registered_model": PIPELINE_OUTPUT}}


def component_name(name: str) -> str:
    """The pipeline's name as Azure ML names components (letters, digits and underscores)."""
    return name.replace("-", "_")


def register_component(settings: Settings, code: Path):
    """The register step: `command(...)` running register_step.py on an ``mlflow_model`` input."""
    shutil.copy2(REGISTER_SCRIPT, code / REGISTER_SCRIPT.name)
    model = settings.model
    environment = sdk.Environment(
        image=INFERENCE_IMAGE,
        conda_file={"name": "amlpipe-register", "dependencies": ["python=3.10", {"pip": ["mlflow", "azureml-mlflow"]}]},
    )
    return sdk.command(
        name="register_model",
        display_name=REGISTER,
        command=(f"python {REGISTER_SCRIPT.name} --model ${{{{inputs.model}}}} --name {shlex.quote(model.model_name)} "
                 f"--description {shlex.quote(model.description)} --tags {shlex.quote(json.dumps(dict(model.tags)))} "
                 f"--registered_model ${{{{outputs.{PIPELINE_OUTPUT}}}}}"),
        inputs={"model": sdk.Input(type="mlflow_model")},
        outputs={PIPELINE_OUTPUT: sdk.Output(type="uri_folder")},
        code=str(code),
        environment=environment,
    )


def pipeline_function(definition: PipelineDefinition, code: Path, description: str = "", **decorator: Any) -> Callable:
    """The `@dsl.pipeline` function: AutoML node → register step, the registered model as the pipeline's output.

    Args:
        code: A folder for the register step's code (register_step.py is copied there).
        description: The pipeline's; default: its steps (``automl -> register``).
        decorator: More arguments of `dsl.pipeline` (``version`` and ``tags`` when publishing).
    """
    settings = definition.settings
    register_step = register_component(settings, code)

    @sdk.dsl.pipeline(name=component_name(definition.name), display_name=definition.name,
                      description=description or f"{AUTOML} -> {REGISTER}", **decorator)
    def challenge(data: sdk.Input(type="mltable")):  # the node names are the variables': automl, register
        automl = automl_job(settings.automl, data, None, settings.experiment_name,
                            outputs={"best_model": sdk.Output(type="mlflow_model")})
        automl.display_name = AUTOML
        register = register_step(model=automl.outputs.best_model)
        register.display_name = REGISTER
        return {PIPELINE_OUTPUT: register.outputs.registered_model}

    return challenge


def pipeline_job(definition: PipelineDefinition, training_data: Any, compute: str, code: Path,
                 allow_reuse: bool = True):
    """The pipeline job, not yet submitted.

    Args:
        training_data: `Input(type="mltable", ...)` of the registered data asset.
        compute: The AmlCompute cluster both steps run on.
        allow_reuse: False sets ``settings.force_rerun`` (every step runs again).
    """
    job = pipeline_function(definition, code)(data=training_data)
    job.settings.default_compute = compute
    job.settings.force_rerun = not allow_reuse
    job.experiment_name = definition.settings.experiment_name
    return job


def published_job(component_id: str, training_data: Any, compute: str, experiment_name: str,
                  allow_reuse: bool = True):
    """A pipeline job on a registered pipeline component (``azureml:<name>:<version>``), as a schedule or
    `submit_published` sends it."""
    return sdk.PipelineJob(component=component_id, inputs={"data": training_data}, experiment_name=experiment_name,
                           settings=sdk.PipelineJobSettings(default_compute=compute, force_rerun=not allow_reuse))


def _submit(ws, job, resource: str) -> str:
    with translated(resource):
        submitted = ws.ml_client.jobs.create_or_update(job)
    logger.info("submitted pipeline job %s (%s)", submitted.name, getattr(submitted, "studio_url", ""))
    return submitted.name


def _step_run(ws, step: str, child: Any, error: Optional[str]) -> StepRun:
    """What a step's child job did: its status, whether Azure reused an earlier run, its duration and outputs;
    the register step's model name and version from the tags of the run that registered it."""
    properties = dict(child.properties or {})
    reused = properties.get(REUSED_FLAG) == "true"
    source = child
    if reused and properties.get(REUSED_RUN):
        with translated(f"the run step '{step}' reused"):
            source = ws.ml_client.jobs.get(properties[REUSED_RUN])
    tags = dict(source.tags or {})
    status = COMPLETED if child.status == "Completed" else child.status
    outputs = ({name: f"azureml://jobs/{source.name}/outputs/{output}" for name, output in OUTPUT_URI[step].items()}
               if status == COMPLETED else {})
    return StepRun(step, status, reused=reused, seconds=seconds_of(child) or 0.0, run_id=child.name, outputs=outputs,
                   properties={k: str(tags[k]) for k in REGISTERED_TAGS if k in tags},
                   error=None if status == COMPLETED else (error or f"child job {child.name} ended {child.status}"))


def _deploy_step(ws, definition: PipelineDefinition, registered: StepRun, allow_reuse: bool) -> StepRun:
    """The deploy step, here after the pipeline job: reused while the service is healthy and serves that model."""
    started = time.monotonic()
    settings = definition.settings
    model = ws.get_model(registered.properties["model_name"], int(registered.properties["model_version"]))
    existing = next((s for s in ws.list_services() if s.name == settings.service.name), None)
    reused = (allow_reuse and existing is not None and existing.state == "Healthy"
              and tuple(existing.model) == (model.name, model.version))
    try:
        service = existing if reused else ws.deploy(model, settings.service, settings.inference)
        if not reused:
            service.wait_for_deployment()
    except AmlpipeError as exc:
        return StepRun(DEPLOY, FAILED, seconds=time.monotonic() - started, error=str(exc))
    return StepRun(DEPLOY, COMPLETED, reused=reused, seconds=time.monotonic() - started, run_id=service.name,
                   outputs={"service": service.scoring_uri},
                   properties={"service": service.name, "scoring_uri": service.scoring_uri, "model": model.id})


def _finish(ws, definition: PipelineDefinition, name: str, allow_reuse: bool,
            on_step: Optional[Callable[[str], None]]) -> PipelineRun:
    """Wait for the pipeline job, read each step back from its child jobs, deploy when asked; raise at a failed step."""
    on_step = on_step or (lambda line: None)
    job, error = wait_for_job(ws, name, f"pipeline job '{name}'")
    with translated(f"the steps of pipeline job '{name}'"):
        children = {child.display_name: child for child in ws.ml_client.jobs.list(parent_job_name=name)}
    steps = [_step_run(ws, step.name, children[step.name], error) if step.name in children else
             StepRun(step.name, NOT_STARTED) for step in definition.steps if step.name != DEPLOY]
    status = COMPLETED if job.status == "Completed" else job.status
    result = PipelineRun(name, status, definition, steps, handle=job)
    total = len(definition.steps)
    for number, step in enumerate(steps, start=1):
        if step.status == NOT_STARTED:
            continue
        on_step(step_line(number, total, step))
        if step.status != COMPLETED:
            result.status = FAILED
            raise StepFailed(f"pipeline {definition.name} job {name}: step '{step.name}' {step.status}: {step.error}; "
                             f"see {getattr(job, 'studio_url', '') or 'the studio'}", step.name, result)
    if status != COMPLETED:
        raise StepFailed(f"pipeline {definition.name} job {name} is {job.status} ({error or 'no error details'})",
                         steps[-1].name, result)
    if definition.deploy:
        deployed = _deploy_step(ws, definition, result.step(REGISTER), allow_reuse)
        steps.append(deployed)
        on_step(step_line(total, total, deployed))
        if deployed.status != COMPLETED:
            result.status = FAILED
            raise StepFailed(f"pipeline {definition.name} job {name}: step 'deploy' failed: {deployed.error}",
                             DEPLOY, result)
    return result


def run(ws, definition: PipelineDefinition, dataset, allow_reuse: bool = True,
        on_step: Optional[Callable[[str], None]] = None, **options: Any) -> PipelineRun:
    """Build the pipeline job, submit it (`jobs.create_or_update`), stream it to the end and read the steps back."""
    if options:
        raise ConfigError(f"pipeline options {', '.join(sorted(options))} are the local backend's; "
                          "backend 'azureml-v2' takes none")
    settings = definition.settings
    compute = ws.get_or_create_compute(settings.compute)
    code = Path(tempfile.mkdtemp(prefix="amlpipe-pipeline-"))
    job = pipeline_job(definition, dataset.as_input(), compute.name, code, allow_reuse)
    name = _submit(ws, job, f"pipeline {definition.name} in experiment '{settings.experiment_name}'")
    return _finish(ws, definition, name, allow_reuse, on_step)


def _versions(ws, name: str) -> List[Any]:
    """The registered versions of the pipeline component ``name`` ([] when there is none)."""
    try:
        return list(ws.ml_client.components.list(name=name))
    except sdk.ResourceNotFoundError:
        return []


def publish(ws, definition: PipelineDefinition, description: str = "") -> PublishedPipeline:
    """Register the pipeline as the next version of a pipeline component (`ml_client.components.create_or_update`).

    v2 has no `PipelineEndpoint`: a registered pipeline component, versioned, is what
    `submit_published` and `schedule` submit again. The deploy step is not part of it (it runs
    from the client, after the job).
    """
    if definition.deploy:
        logger.warning("published pipeline %s holds automl -> register; on azureml-v2 the deploy step runs from the "
                       "client after the pipeline job, not in the published component", definition.name)
    name = component_name(definition.name)
    with translated(f"pipeline component '{name}'"):
        known = [int(v.version) for v in _versions(ws, name) if str(v.version).isdigit()]
        version = max(known, default=0) + 1
        code = Path(tempfile.mkdtemp(prefix="amlpipe-pipeline-"))
        function = pipeline_function(definition, code, description, version=str(version),
                                     tags={PUBLISHED_TAG: definition.name})
        registered = ws.ml_client.components.create_or_update(function)
    logger.info("published pipeline %s as version %s of pipeline component %s", definition.name, registered.version, name)
    return PublishedPipeline(definition.name, int(registered.version), f"azureml:{name}:{registered.version}",
                             registered.description or "", definition)


def list_published(ws) -> List[PublishedPipeline]:
    """Every version of every pipeline component amlpipe published."""
    found = []
    with translated("pipeline components"):
        for container in ws.ml_client.components.list():
            for version in _versions(ws, container.name):
                published_as = (version.tags or {}).get(PUBLISHED_TAG)
                if version.type == "pipeline" and published_as and str(version.version).isdigit():
                    found.append(PublishedPipeline(published_as, int(version.version),
                                                   f"azureml:{version.name}:{version.version}", version.description or ""))
    return sorted(found, key=lambda p: (p.name, p.version))


def submit_published(ws, name: str, version: Any = "latest", allow_reuse: bool = True,
                     on_step: Optional[Callable[[str], None]] = None) -> PipelineRun:
    """A pipeline job on the published component (its latest version unless ``version``) and the latest data."""
    settings = Settings()
    chosen = None if version in (None, "latest") else str(version)
    with translated(f"published pipeline '{name}'" + (f" version {chosen}" if chosen else "")):
        component = ws.ml_client.components.get(component_name(name), version=chosen,
                                                label=None if chosen else "latest")
    dataset = ws.get_dataset(settings.dataset.name)
    compute = ws.get_or_create_compute(settings.compute)
    job = published_job(f"azureml:{component.name}:{component.version}", dataset.as_input(), compute.name,
                        settings.experiment_name, allow_reuse)
    job_name = _submit(ws, job, f"published pipeline '{name}' version {component.version}")
    return _finish(ws, PipelineDefinition(name=name, settings=settings), job_name, allow_reuse, on_step)


def schedule(ws, published: PublishedPipeline, recurrence: str):
    """`ml_client.schedules.begin_create_or_update(JobSchedule(trigger=RecurrenceTrigger(...)))`, daily or weekly,
    training on the data asset's latest version each time (``azureml:<name>@latest``).

    Raises:
        ConfigError: ``datastore``: azure-ai-ml's schedules are time-based (`RecurrenceTrigger`, `CronTrigger`).
    """
    if recurrence not in RECURRENCE_FREQUENCY:
        raise ConfigError(f"schedule {recurrence!r} of pipeline {published.name}: SDK v2 schedules are time-based "
                          f"(RecurrenceTrigger, CronTrigger), with no trigger on a datastore change; use "
                          f"{' or '.join(RECURRENCE_FREQUENCY)}")
    settings = published.definition.settings if published.definition else Settings()
    compute = ws.get_or_create_compute(settings.compute)
    data = sdk.Input(type="mltable", path=f"azureml:{settings.dataset.name}@latest")
    name = f"{component_name(published.name)}-{recurrence}"
    job = published_job(published.id, data, compute.name, settings.experiment_name)
    every = sdk.RecurrenceTrigger(frequency=RECURRENCE_FREQUENCY[recurrence], interval=1)
    with translated(f"schedule '{name}'"):
        created = ws.ml_client.schedules.begin_create_or_update(
            sdk.JobSchedule(name=name, trigger=every, create_job=job,
                            description=f"{published.name} version {published.version} {recurrence}")).result()
    logger.info("scheduled pipeline %s %s as %s", published.name, recurrence, name)
    return created
