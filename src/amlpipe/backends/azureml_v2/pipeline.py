"""The challenge as an Azure ML pipeline on SDK v2: `@dsl.pipeline` with the AutoML node and a register step.

The AutoML node is the same job `experiment.automl_job` builds for a single run; its
``best_model`` output (an MLflow model) feeds the register command component, which runs
`register_step.py` inside Azure ML and registers the model under ``settings.model.model_name``.
"""

from __future__ import annotations

import json
import logging
import shlex
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, List, Optional

from ...errors import ConfigError
from ...settings import Settings
from . import sdk
from .deployment import INFERENCE_IMAGE
from .errors import translated
from .experiment import automl_job

logger = logging.getLogger(__name__)
PIPELINE_NAME = "heart-failure-challenge"
REGISTER_SCRIPT = Path(__file__).with_name("register_step.py")


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
        display_name="register the best model",
        command=(f"python {REGISTER_SCRIPT.name} --model ${{{{inputs.model}}}} --name {shlex.quote(model.model_name)} "
                 f"--description {shlex.quote(model.description)} --tags {shlex.quote(json.dumps(dict(model.tags)))}"),
        inputs={"model": sdk.Input(type="mlflow_model")},
        code=str(code),
        environment=environment,
    )


def challenge_pipeline(settings: Settings, training_data: Any, compute: str, code: Path):
    """The pipeline job, not yet submitted: AutoML node → register step, with the model as the pipeline's output.

    Args:
        training_data: `Input(type="mltable", ...)` of the registered data asset.
        compute: The AmlCompute cluster both steps run on.
        code: A folder for the register step's code (register_step.py is copied there).
    """
    register = register_component(settings, code)

    @sdk.dsl.pipeline(name=PIPELINE_NAME, description="AutoML, then register the best model", default_compute=compute)
    def heart_failure_challenge(data):
        train = automl_job(settings.automl, data, None, settings.experiment_name,
                           outputs={"best_model": sdk.Output(type="mlflow_model")})
        register_model = register(model=train.outputs.best_model)  # the node is named after its variable
        register_model.display_name = "register the best model"
        return {"best_model": train.outputs.best_model}

    job = heart_failure_challenge(data=training_data)
    job.experiment_name = settings.experiment_name
    return job


def submit(ws, settings: Settings, dataset, compute) -> Any:
    """Build the challenge pipeline and submit it (`ml_client.jobs.create_or_update`); returns the SDK's job."""
    code = Path(tempfile.mkdtemp(prefix="amlpipe-pipeline-"))
    job = challenge_pipeline(settings, dataset.as_input(), compute.name, code)
    with translated(f"pipeline '{PIPELINE_NAME}' in experiment '{settings.experiment_name}'"):
        submitted = ws.ml_client.jobs.create_or_update(job)
    logger.info("submitted pipeline %s (%s)", submitted.name, getattr(submitted, "studio_url", ""))
    return submitted


# The workspace's pipeline methods (`amlpipe.protocols.Workspace`): `amlpipe pipeline` runs the
# challenge on the local and azureml backends; on this backend only `submit` above exists so far.
def _not_wired(ws, action: str):
    raise ConfigError(
        f"{action}: `amlpipe pipeline` does not run on backend {ws.backend!r} yet; use backend 'local' or "
        "'azureml', or submit the @dsl.pipeline job with amlpipe.backends.azureml_v2.pipeline.submit"
    )


def run(ws, definition: Any, dataset: Any, allow_reuse: bool = True,
        on_step: Optional[Callable[[str], None]] = None, **options: Any) -> Any:
    _not_wired(ws, "run the pipeline")


def publish(ws, definition: Any, description: str = "") -> Any:
    _not_wired(ws, "publish the pipeline")


def list_published(ws) -> List[Any]:
    _not_wired(ws, "list published pipelines")


def submit_published(ws, name: str, version: Any = "latest", allow_reuse: bool = True,
                     on_step: Optional[Callable[[str], None]] = None) -> Any:
    _not_wired(ws, f"submit published pipeline '{name}'")


def schedule(ws, published: Any, recurrence: str) -> Any:
    _not_wired(ws, "schedule the pipeline")
