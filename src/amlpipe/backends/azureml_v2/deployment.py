"""Managed online endpoints: `ManagedOnlineEndpoint(auth_mode="key")` + `ManagedOnlineDeployment` serving
amlpipe's `inference/score.py` beside the registered MLflow model, with all traffic.

Managed online endpoints always need a key (or a token): there is no unauthenticated
endpoint as ACI's ``auth_enabled=False``, so amlpipe's calls send the primary key.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import yaml

from ... import client, inference
from ...errors import DeploymentError, ResourceError
from ...settings import InferenceSettings, ServiceSettings
from . import sdk
from .errors import translated
from .model import input_schema

logger = logging.getLogger(__name__)

DEPLOYMENT_NAME = "blue"
MODEL_TAG = "amlpipe.model"
# The image Microsoft's AutoML samples deploy MLflow models' conda environments on.
INFERENCE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"
SERVER_PACKAGE = "azureml-inference-server-http"  # score.py runs inside it
# Managed online endpoint VM sizes, smallest first: (name, cores, memory GB). The lesson's
# 1 core / 1 GB on ACI maps to the first.
INSTANCE_TYPES = (
    ("Standard_DS1_v2", 1, 3.5),
    ("Standard_DS2_v2", 2, 7),
    ("Standard_DS3_v2", 4, 14),
    ("Standard_DS4_v2", 8, 28),
    ("Standard_DS5_v2", 16, 56),
)
LOG_LINES = 100
PROVISIONING_STATES = {"Succeeded": "Healthy", "Failed": "Failed", "Canceled": "Failed",
                       "Creating": "Transitioning", "Updating": "Transitioning", "Deleting": "Transitioning"}


def instance_type(service: ServiceSettings) -> str:
    """The smallest managed online endpoint VM size with at least ``cpu_cores`` and ``memory_gb``.

    Raises:
        DeploymentError: no listed size is big enough.
    """
    for name, cores, memory in INSTANCE_TYPES:
        if cores >= service.cpu_cores and memory >= service.memory_gb:
            return name
    raise DeploymentError(
        f"no managed online endpoint size in amlpipe's list has {service.cpu_cores} cores and {service.memory_gb} GB "
        f"(largest: {INSTANCE_TYPES[-1][0]})"
    )


class AzureV2Service:
    """A managed online endpoint with amlpipe's deployment; `sdk_endpoint` is the SDK's entity as last fetched."""

    def __init__(self, ws, sdk_endpoint: Any):
        self.workspace = ws
        self.sdk_endpoint = sdk_endpoint
        self.name = sdk_endpoint.name

    def __repr__(self) -> str:
        return f"AzureV2Service(name={self.name!r})"

    @property
    def state(self) -> str:
        """Healthy, Transitioning or Failed, from the endpoint's provisioning state."""
        return PROVISIONING_STATES.get(self.sdk_endpoint.provisioning_state, str(self.sdk_endpoint.provisioning_state))

    @property
    def scoring_uri(self) -> str:
        return self.sdk_endpoint.scoring_uri

    @property
    def swagger_uri(self) -> str:
        return self.sdk_endpoint.openapi_uri

    @property
    def auth_enabled(self) -> bool:
        return True  # key or token: managed online endpoints have no anonymous access

    @property
    def tags(self) -> Dict[str, str]:
        return dict(self.sdk_endpoint.tags or {})

    @property
    def model(self) -> Tuple[str, int]:
        name, _, version = self.tags.get(MODEL_TAG, ":0").rpartition(":")
        return name, int(version)

    def wait_for_deployment(self, show_output: bool = False, timeout_seconds: Optional[float] = None) -> None:
        """The endpoint is deployed when `deploy` returns (its pollers waited); this checks it is Succeeded.

        Raises:
            DeploymentError: the endpoint is not Succeeded; the message carries the deployment's logs.
        """
        with translated(f"endpoint '{self.name}'", failure=DeploymentError):
            self.sdk_endpoint = self.workspace.ml_client.online_endpoints.get(self.name)
        if self.state != "Healthy":
            raise DeploymentError(
                f"endpoint '{self.name}' is {self.sdk_endpoint.provisioning_state}\n"
                f"--- deployment logs ---\n{self.get_logs()}"
            )
        if show_output:
            print(f"endpoint {self.name}: Healthy at {self.scoring_uri}", flush=True)

    def run(self, input_data: Union[str, bytes, Dict[str, Any]], timeout: float = 60) -> Dict[str, Any]:
        """POST ``input_data`` to the scoring URI with the primary key (``Authorization: Bearer``).

        Raises:
            ScoringError: the endpoint answered 4xx/5xx (with its message) or could not be reached.
        """
        return client.post(self.scoring_uri, input_data, key=self.get_keys()[0], timeout=timeout)

    def get_keys(self) -> Tuple[str, str]:
        """`ml_client.online_endpoints.get_keys(name)`: the primary and secondary keys."""
        with translated(f"endpoint '{self.name}'"):
            keys = self.workspace.ml_client.online_endpoints.get_keys(self.name)
        return keys.primary_key, keys.secondary_key

    def get_logs(self, lines: Optional[int] = None) -> str:
        """`ml_client.online_deployments.get_logs(...)`: the inference server's log (score.py's init() and errors),
        its last ``lines`` lines (default `LOG_LINES`)."""
        try:
            with translated(f"deployment '{DEPLOYMENT_NAME}' of endpoint '{self.name}'"):
                return self.workspace.ml_client.online_deployments.get_logs(
                    name=DEPLOYMENT_NAME, endpoint_name=self.name, lines=lines or LOG_LINES
                ) or ""
        except ResourceError as exc:
            return f"(no logs: {exc})"

    def delete(self) -> None:
        """`ml_client.online_endpoints.begin_delete(name).result()`: the endpoint and its deployments."""
        with translated(f"endpoint '{self.name}'"):
            self.workspace.ml_client.online_endpoints.begin_delete(name=self.name).result()
        logger.info("deleted endpoint %s", self.name)


def endpoint_entity(service: ServiceSettings, model_id: str):
    """`ManagedOnlineEndpoint(name, auth_mode="key", description, tags)`; the tags name the model served."""
    if not service.auth_enabled:
        logger.warning("managed online endpoints always need a key: '%s' gets key auth although auth_enabled=False",
                       service.name)
    return sdk.ManagedOnlineEndpoint(
        name=service.name, auth_mode="key", description=service.description,
        tags={**service.tags, MODEL_TAG: model_id},
    )


def serving_environment(model_folder: Path, folder: Path):
    """`Environment(image, conda_file)`: the MLflow model's own conda.yaml, plus the inference server score.py runs in."""
    conda_file = model_folder / "conda.yaml"
    if not conda_file.is_file():
        raise DeploymentError(f"the model at {model_folder} has no conda.yaml to build its serving environment from")
    spec = yaml.safe_load(conda_file.read_text()) or {}
    dependencies = spec.setdefault("dependencies", [])
    pip = next((d for d in dependencies if isinstance(d, dict) and "pip" in d), None)
    if pip is None:
        pip = {"pip": []}
        dependencies.append(pip)
    if not any(re.split(r"[<>=!~\[ ]", str(p))[0] == SERVER_PACKAGE for p in pip["pip"]):
        pip["pip"].append(SERVER_PACKAGE)
    target = folder / "conda.yaml"
    target.write_text(yaml.safe_dump(spec, sort_keys=False))
    return sdk.Environment(image=INFERENCE_IMAGE, conda_file=str(target), description="amlpipe serving environment")


def deployment_entity(service: ServiceSettings, model_id: str, code: Path, environment: Any,
                      inference_config: InferenceSettings):
    """`ManagedOnlineDeployment(model, code_configuration=CodeConfiguration(code, "score.py"), environment, instance_type, instance_count=1)`."""
    return sdk.ManagedOnlineDeployment(
        name=DEPLOYMENT_NAME,
        endpoint_name=service.name,
        model=model_id,
        code_configuration=sdk.CodeConfiguration(code=str(code), scoring_script="score.py"),
        environment=environment,
        instance_type=instance_type(service),
        instance_count=1,
        environment_variables={"AMLPIPE_MAX_ROWS": str(inference_config.max_rows)},
    )


def deploy(ws, model, service: ServiceSettings, inference_config: Optional[InferenceSettings] = None) -> AzureV2Service:
    """Create the endpoint, its deployment of ``model`` with amlpipe's score.py, then give it all traffic.

    Each step waits for its poller (`begin_create_or_update(...).result()`).

    Raises:
        DeploymentError: a step failed; a failed deployment's message carries its logs.
    """
    inference_config = inference_config or InferenceSettings()
    if inference_config.script != "amlpipe":
        raise DeploymentError(
            "setting 'inference.script' = 'automl' needs the azureml backend; on SDK v2 amlpipe deploys its score.py "
            "(AutoML's v2 scoring file is in the best trial's outputs)"
        )
    operations = ws.ml_client
    model_id = f"azureml:{model.name}:{model.version}"
    folder = Path(tempfile.mkdtemp(prefix="amlpipe-managed-"))
    code = folder / "code"
    model_folder = model.download(folder / "model")
    metadata = {**model.properties, "input_schema": input_schema(model_folder)}
    inference.write_source_directory(code, metadata, inference_config)
    (code / "metadata.json").write_text(json.dumps(metadata))  # score.py's request schema, from the model's signature
    environment = serving_environment(model_folder, folder)
    endpoint = endpoint_entity(service, f"{model.name}:{model.version}")
    with translated(f"endpoint '{service.name}'", failure=DeploymentError):
        operations.online_endpoints.begin_create_or_update(endpoint).result()
    logger.info("endpoint %s created; deploying %s to it (%s)", service.name, model.id, instance_type(service))
    deployment = deployment_entity(service, model_id, code, environment, inference_config)
    try:
        with translated(f"deployment '{DEPLOYMENT_NAME}' of endpoint '{service.name}'", failure=DeploymentError):
            operations.online_deployments.begin_create_or_update(deployment).result()
    except DeploymentError as exc:
        logs = AzureV2Service(ws, endpoint).get_logs()
        raise DeploymentError(f"{exc}\n--- deployment logs ---\n{logs}") from exc.__cause__
    endpoint.traffic = {DEPLOYMENT_NAME: 100}
    with translated(f"endpoint '{service.name}' traffic", failure=DeploymentError):
        updated = operations.online_endpoints.begin_create_or_update(endpoint).result()
    logger.info("endpoint %s serves %s with 100%% of its traffic", service.name, model.id)
    return AzureV2Service(ws, updated)


def get(ws, name: str) -> Optional[AzureV2Service]:
    """`ml_client.online_endpoints.get(name)`, or None when there is none."""
    with translated(f"endpoint '{name}'"):
        try:
            return AzureV2Service(ws, ws.ml_client.online_endpoints.get(name))
        except sdk.ResourceNotFoundError:
            return None


def list_services(ws) -> List[AzureV2Service]:
    with translated("endpoints"):
        return [AzureV2Service(ws, e) for e in ws.ml_client.online_endpoints.list()]
