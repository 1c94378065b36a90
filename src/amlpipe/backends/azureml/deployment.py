"""ACI deployment: `InferenceConfig` + `AciWebservice.deploy_configuration` + `Model.deploy`."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

from ... import client, inference
from ...errors import DeploymentError, ResourceError
from ...settings import InferenceSettings, ServiceSettings
from . import sdk
from .errors import describe, translated
from .run import AzureRun

logger = logging.getLogger(__name__)
# Model.deploy to ACI usually takes 5-15 minutes; past this the wait raises instead of polling on.
DEPLOY_TIMEOUT_SECONDS = 1800


class AzureService:
    """An ACI web service; `sdk_service` is the SDK's `AciWebservice`."""

    def __init__(self, sdk_service: Any):
        self.sdk_service = sdk_service
        self.name = sdk_service.name

    def __repr__(self) -> str:
        return f"AzureService(name={self.name!r})"

    @property
    def state(self) -> str:
        return self.sdk_service.state

    @property
    def scoring_uri(self) -> str:
        return self.sdk_service.scoring_uri

    @property
    def swagger_uri(self) -> str:
        return self.sdk_service.swagger_uri

    @property
    def auth_enabled(self) -> bool:
        return bool(getattr(self.sdk_service, "auth_enabled", False))

    @property
    def tags(self) -> Dict[str, str]:
        return dict(self.sdk_service.tags or {})

    @property
    def model(self) -> Tuple[str, int]:
        first = self.sdk_service.models[0]
        return first.name, int(first.version)

    def wait_for_deployment(self, show_output: bool = False, timeout_seconds: Optional[float] = None) -> None:
        """`service.wait_for_deployment(show_output, timeout_sec)`; a failure or a timeout raises with the container's logs.

        ``timeout_seconds`` None: `DEPLOY_TIMEOUT_SECONDS` (the SDK itself would poll without end).
        """
        timeout = DEPLOY_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
        try:
            self.sdk_service.wait_for_deployment(show_output=show_output, timeout_sec=timeout)
        except sdk.WebserviceException as exc:
            raise DeploymentError(
                f"service '{self.name}' failed to deploy: {describe(exc)}\n--- container logs ---\n{self.get_logs()}"
            ) from exc
        if self.sdk_service.state != "Healthy":
            raise DeploymentError(
                f"service '{self.name}' is {self.sdk_service.state}\n--- container logs ---\n{self.get_logs()}"
            )

    def run(self, input_data: Union[str, bytes, Dict[str, Any]], timeout: float = client.DEFAULT_TIMEOUT) -> Dict[str, Any]:
        """POST to the scoring URI as `service.run(input_data)` does, but with a timeout (the SDK's has none).

        Raises:
            ScoringError: the service refused the request (with its message and status) or did not answer in time.
        """
        key = self.get_keys()[0] if self.auth_enabled else None
        return client.post(self.scoring_uri, input_data, key=key, timeout=timeout)

    def get_keys(self) -> Tuple[str, str]:
        with translated(f"service '{self.name}'"):
            return tuple(self.sdk_service.get_keys())

    def get_logs(self, lines: Optional[int] = None) -> str:
        """`service.get_logs()`: the container's log, its last ``lines`` lines when given."""
        try:
            text = self.sdk_service.get_logs() or ""
        except sdk.WebserviceException as exc:
            return f"(no logs: {exc})"
        return "\n".join(text.splitlines()[-lines:]) if lines else text

    def delete(self) -> None:
        with translated(f"service '{self.name}'"):
            self.sdk_service.delete()
        logger.info("deleted service %s", self.name)


def aci_deploy_configuration(service: ServiceSettings):
    """`AciWebservice.deploy_configuration(cpu_cores, memory_gb, tags, description, auth_enabled)`."""
    return sdk.AciWebservice.deploy_configuration(
        cpu_cores=service.cpu_cores,
        memory_gb=service.memory_gb,
        tags=dict(service.tags),
        description=service.description,
        auth_enabled=service.auth_enabled,
    )


def deploy(ws, model, service: ServiceSettings, inference_config: Optional[InferenceSettings] = None) -> AzureService:
    """Deploy ``model`` to ACI with the best run's environment and the chosen entry script."""
    inference_config = inference_config or InferenceSettings()
    workspace = ws.sdk_workspace
    with translated(f"run '{model.run_id}' of model '{model.id}'"):
        best_run = AzureRun(ws, sdk.Run.get(workspace, model.run_id))
        status = best_run.status
        environment = best_run.get_environment()
    if status != "Completed":
        raise ResourceError(f"model '{model.id}' comes from run '{model.run_id}', which is {status}, not Completed; "
                            "deploy a model of a completed run")
    folder = Path(tempfile.mkdtemp(prefix="amlpipe-aci-"))
    if inference_config.script == "automl":
        entry = best_run.download_scoring_file(folder)
    else:
        entry = inference.write_source_directory(folder, model.properties, inference_config)
    with translated(f"service '{service.name}'"):
        config = sdk.InferenceConfig(entry_script=entry.name, source_directory=str(folder), environment=environment)
        deployment_config = aci_deploy_configuration(service)
        deployed = sdk.Model.deploy(
            workspace, service.name, [model.sdk_model], config, deployment_config, overwrite=True
        )
    logger.info("deploying %s to ACI as %s", model.id, service.name)
    return AzureService(deployed)


def get(ws, name: str) -> Optional[AzureService]:
    """`Webservice(ws, name)`, or None when there is none."""
    try:
        return AzureService(sdk.Webservice(ws.sdk_workspace, name=name))
    except sdk.WebserviceException:
        return None


def list_services(ws) -> List[AzureService]:
    with translated("services"):
        return [AzureService(s) for s in sdk.Webservice.list(ws.sdk_workspace)]
