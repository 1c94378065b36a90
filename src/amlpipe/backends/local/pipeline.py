"""The training pipeline on this machine: steps with folder outputs, reuse, MLflow runs.

Each step's outputs are folders under ``pipelines/runs/<pipeline run id>/<step>/<output>/``
and are handed to the next step by path. A step is reused, as ``allow_reuse=True`` does
on Azure, when its reuse key is one it completed before: the key hashes the step's
inputs (the dataset's name, version and sha256, or the upstream output it reads), the
settings it reads, and its code (the source of the modules it runs). A reused step takes
the earlier run's output folders; a deploy step is reused only while its service is still
Healthy and serves the same model.

The pipeline run is an MLflow run tagged ``amlpipe.kind=pipeline`` in the settings'
experiment, with one child run per step (status, ``duration_seconds``, ``reused``). A
failing step marks itself and the pipeline Failed and stops the run; the earlier steps'
outputs stay where they are. Published pipelines are JSON files under
``pipelines/published/<name>/<version>.json``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

from ...errors import ConfigError, ResourceError
from ...pipeline import (AUTOML, COMPLETED, DEPLOY, FAILED, NOT_STARTED, REGISTER, PipelineDefinition, PipelineRun,
                         PublishedPipeline, StepDefinition, StepFailed, StepRun, step_line)
from .records import read_record, write_record
from .run import KIND_TAG, LocalRun

if TYPE_CHECKING:
    from .workspace import LocalWorkspace

logger = logging.getLogger(__name__)

# The code each step runs: the source of these files is the step's code version. The AutoML
# step takes every module of this backend (the engine is split over many), so that no change
# to it can leave a stale model reused; the others name theirs.
PACKAGE = Path(__file__).resolve().parents[2]
BACKEND_DIR = Path(__file__).resolve().parent
STEP_CODE = {
    AUTOML: lambda: [*sorted(BACKEND_DIR.glob("*.py")), *(PACKAGE / f for f in ("metrics.py", "data.py", "onnx_export.py"))],
    REGISTER: lambda: [BACKEND_DIR / "model.py", BACKEND_DIR / "records.py"],
    DEPLOY: lambda: [BACKEND_DIR / "deployment.py", BACKEND_DIR / "server.py",
                     *(PACKAGE / f for f in ("inference.py", "serving.py", "contract.py"))],
}
# The settings each step reads.
STEP_SETTINGS = {AUTOML: ("automl", "compute"), REGISTER: ("model",), DEPLOY: ("service", "inference")}
# Settings that change where logs go, not what a step makes.
NOT_IN_KEY = {"automl.path", "automl.debug_log"}


def _code_version(step: str) -> str:
    digest = hashlib.sha256()
    for path in (Path(__file__), *STEP_CODE[step]()):
        if path.exists():  # onnx_export.py arrives with the ONNX export
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def reuse_key(definition: PipelineDefinition, step: StepDefinition, inputs: Dict[str, str]) -> str:
    """The hash that decides reuse: the step, its input identities, the settings it reads, its code."""
    settings = {group: {k: v for k, v in dataclasses.asdict(getattr(definition.settings, group)).items()
                        if f"{group}.{k}" not in NOT_IN_KEY}
                for group in STEP_SETTINGS[step.name]}
    if step.name == AUTOML:  # the AutoML run is tracked in this experiment
        settings["experiment_name"] = definition.settings.experiment_name
    content = {"step": step.name, "inputs": inputs, "settings": settings, "code": _code_version(step.name)}
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()[:32]


# The steps. Each reads its inputs (paths or the dataset), writes into its output folders
# and returns its properties (short strings, logged as tags of its MLflow run).

def _automl(ws: LocalWorkspace, definition: PipelineDefinition, inputs: Dict[str, Any], outputs: Dict[str, Path],
            options: Dict[str, Any]) -> Dict[str, str]:
    settings = definition.settings
    experiment = ws.get_or_create_experiment(settings.experiment_name)
    compute = ws.get_or_create_compute(settings.compute)
    run = experiment.submit(settings.automl, inputs["training_data"], compute,
                            show_output=options.get("progress", "none") != "none",
                            progress=options.get("progress", "none"))
    best = LocalRun(ws, run.best_run_id)
    shutil.copytree(best.outputs_dir, outputs["model_data"], dirs_exist_ok=True)
    write_record(outputs["model_data"] / "run.json", {"automl_run_id": run.id, "best_run_id": best.id})
    metrics = run.get_metrics()
    (outputs["metrics_data"] / "metrics.json").write_text(json.dumps(metrics, indent=2))
    run.get_leaderboard().to_csv(outputs["metrics_data"] / "leaderboard.csv", index=False)
    primary = settings.automl.primary_metric
    return {"automl_run_id": run.id, "best_run_id": best.id, "algorithm": run.tags.get("amlpipe.best_algorithm", ""),
            primary: f"{metrics.get(primary, float('nan')):.4f}"}


def _register(ws: LocalWorkspace, definition: PipelineDefinition, inputs: Dict[str, Any], outputs: Dict[str, Path],
              options: Dict[str, Any]) -> Dict[str, str]:
    from .model import register_folder

    model_settings = definition.settings.model
    folder = Path(inputs["model_data"])
    made_by = read_record(folder / "run.json", "AutoML step output")["best_run_id"]
    model = register_folder(ws, folder, model_settings.model_name, model_settings.description,
                            dict(model_settings.tags), made_by)
    write_record(outputs["registered_model"] / "model.json", {"name": model.name, "version": model.version})
    return {"model_name": model.name, "model_version": str(model.version)}


def _deploy(ws: LocalWorkspace, definition: PipelineDefinition, inputs: Dict[str, Any], outputs: Dict[str, Path],
            options: Dict[str, Any]) -> Dict[str, str]:
    registered = read_record(Path(inputs["registered_model"]) / "model.json", "registered model")
    model = ws.get_model(registered["name"], registered["version"])
    port = {"port": options["port"]} if options.get("port") else {}
    service = ws.deploy(model, definition.settings.service, definition.settings.inference, **port)
    service.wait_for_deployment()
    record = {"service": service.name, "scoring_uri": service.scoring_uri, "model": model.id}
    write_record(outputs["service"] / "service.json", record)
    return record


STEP_FUNCTIONS = {AUTOML: _automl, REGISTER: _register, DEPLOY: _deploy}


def _still_valid(ws: LocalWorkspace, step: str, properties: Dict[str, str]) -> bool:
    """Whether a completed step's results still stand: a service must still be up with the same model."""
    if step != DEPLOY:
        return True
    try:
        service = ws.get_service(properties["service"])
    except ResourceError:
        return False
    return service.state == "Healthy" and "{}:{}".format(*service.model) == properties["model"]


def _reusable(ws: LocalWorkspace, step: str, key: str) -> Optional[Dict[str, Any]]:
    path = ws.root / "pipelines" / "reuse" / step / f"{key}.json"
    if not path.exists():
        return None
    earlier = read_record(path, "pipeline reuse")
    if not all(Path(p).is_dir() for p in earlier["outputs"].values()):
        logger.info("step %s: the outputs of run %s are gone; running it again", step, earlier["pipeline_run_id"])
        return None
    if not _still_valid(ws, step, earlier["properties"]):
        logger.info("step %s: the results of run %s no longer stand; running it again", step, earlier["pipeline_run_id"])
        return None
    return earlier


def run(ws: LocalWorkspace, definition: PipelineDefinition, dataset, allow_reuse: bool = True,
        on_step: Optional[Callable[[str], None]] = None, **options: Any) -> PipelineRun:
    """Run the steps in order; see `amlpipe.pipeline.submit`.

    Args:
        options: ``port`` for the deploy step's server; ``progress`` for the AutoML step
            (``none`` by default: the step lines are the progress).
    """
    from .experiment import _log

    on_step = on_step or (lambda line: None)
    settings = definition.settings
    client = ws.client
    experiment = ws.get_or_create_experiment(settings.experiment_name)
    started_at = datetime.now(timezone.utc)
    dataset_ref = f"{dataset.name}:{dataset.version}"
    parent = client.create_run(experiment.id, run_name=f"Pipeline_{started_at:%Y%m%d_%H%M%S}", tags={
        KIND_TAG: "pipeline", "amlpipe.pipeline": definition.name, "dataset": dataset_ref,
        "allow_reuse": str(allow_reuse)})
    run_id = parent.info.run_id
    _log(client, run_id, params={"deploy": definition.deploy, "steps": ",".join(s.name for s in definition.steps)})
    run_dir = ws.folder("pipelines", "runs", run_id)
    write_record(run_dir / "pipeline.json", definition.to_dict())
    # What each input is (for the steps) and who it is (for the reuse keys).
    values: Dict[str, Any] = {"training_data": dataset}
    identities: Dict[str, str] = {"training_data": f"{dataset_ref}:{getattr(dataset, 'sha256', '')}"}
    result = PipelineRun(run_id, "Running", definition, [StepRun(s.name, NOT_STARTED) for s in definition.steps])
    total = len(definition.steps)
    for number, (step, record) in enumerate(zip(definition.steps, result.steps), start=1):
        started = time.monotonic()
        key = reuse_key(definition, step, {name: identities[name] for name in step.inputs})
        child = client.create_run(experiment.id, run_name=step.name, tags={
            "mlflow.parentRunId": run_id, KIND_TAG: "pipeline_step", "amlpipe.step": step.name, "amlpipe.reuse_key": key})
        record.run_id = child.info.run_id
        earlier = _reusable(ws, step.name, key) if allow_reuse else None
        try:
            if earlier is not None:
                outputs = {name: Path(p) for name, p in earlier["outputs"].items()}
                properties, producer = earlier["properties"], earlier["pipeline_run_id"]
            else:
                outputs = {name: run_dir / step.name / name for name in step.outputs}
                for folder in outputs.values():
                    folder.mkdir(parents=True, exist_ok=True)
                properties = STEP_FUNCTIONS[step.name](
                    ws, definition, {name: values[name] for name in step.inputs}, outputs, options)
                producer = run_id
        except BaseException as exc:
            record.status, record.seconds, record.error = FAILED, time.monotonic() - started, f"{type(exc).__name__}: {exc}"
            result.status = FAILED
            for failed in (record.run_id, run_id):
                client.set_tag(failed, "amlpipe.error", f"step {step.name}: {record.error}"[:5000])
                client.set_terminated(failed, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
            if not isinstance(exc, Exception):
                raise
            on_step(step_line(number, total, record))
            raise StepFailed(f"pipeline {definition.name} run {run_id}: step '{step.name}' failed: {record.error}",
                             step.name, result) from exc
        record.status, record.reused, record.seconds = COMPLETED, earlier is not None, time.monotonic() - started
        record.outputs = {name: str(path) for name, path in outputs.items()}
        record.properties = dict(properties)
        if earlier is None:
            step_record = {"pipeline_run_id": run_id, "step_run_id": record.run_id, "reuse_key": key,
                           "outputs": record.outputs, "properties": record.properties, "seconds": record.seconds}
            write_record(run_dir / step.name / "step.json", step_record)
            write_record(ws.root / "pipelines" / "reuse" / step.name / f"{key}.json", step_record)
        for name, path in outputs.items():
            values[name] = str(path)
            identities[name] = f"{producer}/{step.name}/{name}"
        _finish_step_run(client, record)
        on_step(step_line(number, total, record))
    result.status = COMPLETED
    _log(client, run_id, scores={"duration_seconds": sum(s.seconds for s in result.steps),
                                 "steps_reused": sum(s.reused for s in result.steps)})
    client.set_terminated(run_id, "FINISHED")
    return result


def _finish_step_run(client, record: StepRun) -> None:
    """The step's MLflow run: reused or not, its duration, its properties; then FINISHED."""
    from mlflow.entities import Metric, RunTag

    now = int(time.time() * 1000)
    tags = {"amlpipe.reused": str(record.reused).lower(), **{f"amlpipe.{k}": str(v) for k, v in record.properties.items()}}
    client.log_batch(record.run_id, metrics=[Metric("duration_seconds", record.seconds, now, 0),
                                             Metric("reused", float(record.reused), now, 0)],
                     tags=[RunTag(k, v) for k, v in tags.items()])
    client.set_terminated(record.run_id, "FINISHED")


def _published_dir(ws: LocalWorkspace, name: str) -> Path:
    return ws.root / "pipelines" / "published" / name


def _load_published(path: Path) -> PublishedPipeline:
    record = read_record(path, "published pipeline")
    return PublishedPipeline(record["name"], record["version"], record["id"], record["description"],
                             PipelineDefinition.from_dict(record["definition"]))


def publish(ws: LocalWorkspace, definition: PipelineDefinition, description: str = "") -> PublishedPipeline:
    """Store the definition as the next version of ``definition.name``."""
    versions = [p.version for p in _versions(ws, definition.name)]
    version = max(versions, default=0) + 1
    record = {"name": definition.name, "version": version, "id": f"{definition.name}:{version}",
              "description": description, "definition": definition.to_dict(),
              "published": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    write_record(_published_dir(ws, definition.name) / f"{version}.json", record)
    logger.info("published pipeline %s version %d", definition.name, version)
    return _load_published(_published_dir(ws, definition.name) / f"{version}.json")


def _versions(ws: LocalWorkspace, name: str) -> List[PublishedPipeline]:
    folder = _published_dir(ws, name)
    found = [_load_published(p) for p in folder.glob("*.json")] if folder.is_dir() else []
    return sorted(found, key=lambda p: p.version)


def list_published(ws: LocalWorkspace) -> List[PublishedPipeline]:
    root = ws.root / "pipelines" / "published"
    names = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return [published for name in names for published in _versions(ws, name)]


def submit_published(ws: LocalWorkspace, name: str, version: Any = "latest", allow_reuse: bool = True,
                     on_step: Optional[Callable[[str], None]] = None) -> PipelineRun:
    """Run a published pipeline by name on the latest version of its dataset.

    Raises:
        ResourceError: no such pipeline or version; the message lists what is published.
    """
    versions = _versions(ws, name)
    if not versions:
        known = ", ".join(sorted({p.name for p in list_published(ws)})) or "none"
        raise ResourceError(f"no published pipeline '{name}' in workspace {ws.root} (published: {known})")
    chosen = versions[-1] if version in (None, "latest") else next(
        (p for p in versions if p.version == int(version)), None)
    if chosen is None:
        raise ResourceError(f"published pipeline '{name}' has no version {version} "
                            f"(versions: {', '.join(str(p.version) for p in versions)})")
    dataset = ws.get_dataset(chosen.definition.settings.dataset.name)
    return run(ws, chosen.definition, dataset, allow_reuse=allow_reuse, on_step=on_step)


def schedule(ws: LocalWorkspace, published: PublishedPipeline, recurrence: str):
    """Nothing on this machine runs on a schedule by itself.

    Raises:
        ConfigError: always, saying what to do instead.
    """
    raise ConfigError(
        f"the local backend cannot schedule pipeline {published.name} ({recurrence}): nothing here runs while "
        f"amlpipe is not running. Use cron with `amlpipe pipeline submit {published.name}`, or the azureml backend"
    )
