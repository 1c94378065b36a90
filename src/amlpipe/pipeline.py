"""The lesson's challenge: the training workflow as a pipeline of steps, on either backend.

The definition here does not depend on the backend: three steps with named inputs and
outputs, wired by name::

    training_data ─► automl ─► model_data ─► register ─► registered_model ─► deploy ─► service
                          └──► metrics_data

The ``azureml`` backend builds `AutoMLStep`/`PipelineData`/`PythonScriptStep`/`Pipeline`
from it and submits it; the ``local`` backend runs the same steps on this machine, with
the outputs as folders in the workspace and a step reused when its inputs, settings and
code are unchanged (what ``allow_reuse=True`` does on Azure). Each backend implements the
same functions in ``backends/<backend>/pipeline.py`` (`run`, `publish`, `list_published`,
`submit_published`, `schedule`); its workspace holds them as ``run_pipeline``,
``publish_pipeline``, ``list_published_pipelines``, ``submit_published_pipeline`` and
``schedule_pipeline`` (`amlpipe.protocols.Workspace`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

from .errors import AmlpipeError, ConfigError
from .settings import Settings

DEFAULT_NAME = "heart-failure-training"
AUTOML, REGISTER, DEPLOY = "automl", "register", "deploy"
# Azure ML step run statuses; a step after a failed one never starts.
COMPLETED, FAILED, NOT_STARTED = "Completed", "Failed", "NotStarted"
RECURRENCES = ("daily", "weekly", "datastore")


@dataclass(frozen=True)
class StepDefinition:
    """One step: what it reads and writes, by name."""

    name: str
    inputs: Tuple[str, ...]
    outputs: Tuple[str, ...]
    description: str


STEPS = (
    StepDefinition(AUTOML, ("training_data",), ("metrics_data", "model_data"),
                   "AutoML on the registered dataset: the best model and its metrics"),
    StepDefinition(REGISTER, ("model_data",), ("registered_model",),
                   "register the best model from the AutoML step's model output"),
    StepDefinition(DEPLOY, ("registered_model",), ("service",),
                   "deploy the registered model with inference/score.py"),
)


class StepFailed(AmlpipeError):
    """A pipeline step failed; the run stopped there.

    Attributes:
        step: The failed step's name.
        run: The `PipelineRun`, with the earlier steps' outputs.
    """

    def __init__(self, message: str, step: str, run: "PipelineRun"):
        super().__init__(message)
        self.step = step
        self.run = run


@dataclass(frozen=True)
class PipelineDefinition:
    """A training pipeline: its name, the settings every step reads, and whether it deploys."""

    name: str = DEFAULT_NAME
    settings: Settings = field(default_factory=Settings)
    deploy: bool = False

    @property
    def steps(self) -> Tuple[StepDefinition, ...]:
        return STEPS if self.deploy else STEPS[:2]

    def edges(self) -> List[Tuple[str, str, str]]:
        """(producing step, output name, consuming step) for every output another step reads."""
        return [(producer.name, output, consumer.name)
                for producer in self.steps for consumer in self.steps
                for output in producer.outputs if output in consumer.inputs]

    def to_dict(self) -> Dict[str, Any]:
        """A JSON-ready form, as a published pipeline keeps it."""
        return {"name": self.name, "deploy": self.deploy, "settings": dataclasses.asdict(self.settings),
                "steps": [dataclasses.asdict(s) for s in self.steps]}

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> "PipelineDefinition":
        """The definition `to_dict` wrote (unknown or invalid settings raise `ConfigError`)."""
        dotted = {}
        for group, values in value["settings"].items():
            if isinstance(values, dict):
                dotted.update({f"{group}.{k}": v for k, v in values.items()})
            else:
                dotted[group] = values
        return cls(name=value["name"], settings=Settings().override(dotted), deploy=bool(value["deploy"]))


@dataclass
class StepRun:
    """What one step did in a pipeline run.

    Attributes:
        reused: The outputs of an earlier run were taken (inputs, settings and code unchanged).
        seconds: Wall time of this step in this run (looking up the reused outputs, when reused).
        outputs: Output name -> where it is (a folder locally, a datastore path on Azure).
        properties: What the step reports (the registered model's name and version, the service's URI).
    """

    name: str
    status: str
    reused: bool = False
    seconds: Optional[float] = None
    run_id: Optional[str] = None
    outputs: Dict[str, str] = field(default_factory=dict)
    properties: Dict[str, str] = field(default_factory=dict)
    error: Optional[str] = None


@dataclass
class PipelineRun:
    """A finished (or failed) pipeline run and its steps, in order."""

    id: str
    status: str
    definition: PipelineDefinition
    steps: List[StepRun]
    handle: Any = None  # the backend's own run object (`PipelineRun` of the SDK on Azure)

    def step(self, name: str) -> StepRun:
        for step in self.steps:
            if step.name == name:
                return step
        raise ConfigError(f"pipeline {self.definition.name} has no step '{name}' "
                          f"(steps: {', '.join(s.name for s in self.steps)})")

    @property
    def registered_model(self) -> Tuple[str, int]:
        """(name, version) of the model the register step registered (or reused)."""
        props = self.step(REGISTER).properties
        if "model_version" not in props:
            raise AmlpipeError(f"pipeline run {self.id}: the register step registered no model (status {self.status})")
        return props["model_name"], int(props["model_version"])

    def table(self):
        """One row per step: status, reused, seconds."""
        import pandas as pd

        return pd.DataFrame([{"step": s.name, "status": s.status, "reused": s.reused,
                              "seconds": None if s.seconds is None else round(s.seconds, 1)} for s in self.steps])

    def to_json(self) -> Dict[str, Any]:
        """What `amlpipe pipeline run --json` prints last."""
        return {"run_id": self.id, "status": self.status, "pipeline": self.definition.name,
                "steps": [{"name": s.name, "status": s.status, "reused": s.reused,
                           "seconds": None if s.seconds is None else round(s.seconds, 2)} for s in self.steps]}


@dataclass(frozen=True)
class PublishedPipeline:
    """A named, versioned pipeline definition that can be submitted again by name."""

    name: str
    version: int
    id: str
    description: str
    definition: Optional[PipelineDefinition] = None


def step_line(number: int, total: int, step: StepRun) -> str:
    """The progress line of a finished step: ``[1/2] automl done in 35.2 s`` or ``... reused``."""
    if step.status == FAILED:
        return f"[{number}/{total}] {step.name} FAILED after {step.seconds:.1f} s"
    if step.reused:
        return f"[{number}/{total}] {step.name} reused ({step.seconds:.1f} s)"
    return f"[{number}/{total}] {step.name} done in {step.seconds:.1f} s"


def build(settings: Optional[Settings] = None, deploy: bool = False, name: str = DEFAULT_NAME) -> PipelineDefinition:
    """The training pipeline: AutoML → register (→ deploy), reading ``settings``."""
    return PipelineDefinition(name=name, settings=settings or Settings(), deploy=deploy)


def submit(ws, definition: PipelineDefinition, dataset=None, allow_reuse: bool = True,
           on_step: Optional[Callable[[str], None]] = None, **options: Any) -> PipelineRun:
    """Run the pipeline on ``ws``'s backend and wait for it, as `experiment.submit(pipeline)` + wait.

    Args:
        ws: The workspace (`amlpipe.connect`).
        definition: The pipeline (`build`).
        dataset: The registered dataset to train on; default: the latest version of
            ``definition.settings.dataset.name``.
        allow_reuse: Take an earlier run's outputs for a step whose inputs, settings and
            code did not change; False reruns every step.
        on_step: Called with one line per finished step.
        options: Backend-specific (the local deploy step takes ``port``).

    Returns:
        The completed run.

    Raises:
        StepFailed: naming the step; earlier steps' outputs are kept.
    """
    if dataset is None:
        dataset = ws.get_dataset(definition.settings.dataset.name)
    return ws.run_pipeline(definition, dataset, allow_reuse=allow_reuse, on_step=on_step, **options)


def publish(ws, definition: PipelineDefinition, description: str = "") -> PublishedPipeline:
    """Publish the definition under its name as a new version (`pipeline.publish` + a versioned endpoint)."""
    return ws.publish_pipeline(definition, description)


def list_published(ws) -> List[PublishedPipeline]:
    """Every published version of every pipeline, by name then version."""
    return ws.list_published_pipelines()


def submit_published(ws, name: str, version: Any = "latest", allow_reuse: bool = True,
                     on_step: Optional[Callable[[str], None]] = None) -> PipelineRun:
    """Submit a published pipeline by name (its latest version by default) on the latest dataset version."""
    return ws.submit_published_pipeline(name, version, allow_reuse=allow_reuse, on_step=on_step)


def schedule(ws, published: PublishedPipeline, recurrence: str):
    """Submit ``published`` on a schedule: ``daily``, ``weekly`` or ``datastore`` (when the data changes).

    Raises:
        ConfigError: an unknown recurrence, or a backend that cannot schedule (local).
    """
    if recurrence not in RECURRENCES:
        raise ConfigError(f"schedule {recurrence!r}: expected one of {', '.join(RECURRENCES)}")
    return ws.schedule_pipeline(published, recurrence)

