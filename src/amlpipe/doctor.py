"""`amlpipe doctor`: a preflight to run before spending money.

Versions, the config file found, the backend, which credential the Azure backend's chain
would use (its name and why, never a secret), Azure's budget floor, the compute and
service names, and whether the workspace answers. Offline it says so within seconds.
"""

from __future__ import annotations

import os
import platform
import socket
import threading
from importlib import metadata
from typing import Any, Dict, Optional, Tuple

PACKAGES = ("azureml-core", "azureml-train-automl-client", "azureml-widgets", "azure-ai-ml", "flaml", "mlflow",
            "papermill", "azureml-inference-server-http")
AZURE_ENDPOINT: Tuple[str, int] = ("management.azure.com", 443)
REACH_TIMEOUT_SECONDS = 3.0
CONNECT_TIMEOUT_SECONDS = 30.0


def versions() -> Dict[str, Optional[str]]:
    """Python, amlpipe and the installed versions of the packages that matter (None: not installed)."""
    from . import __version__

    found: Dict[str, Optional[str]] = {"python": platform.python_version(), "amlpipe": __version__}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def reachable(endpoint: Optional[Tuple[str, int]] = None, timeout: float = REACH_TIMEOUT_SECONDS) -> Tuple[bool, str]:
    """Whether a TCP connection to Azure Resource Manager (`AZURE_ENDPOINT`) opens within ``timeout``."""
    host, port = endpoint or AZURE_ENDPOINT
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, f"{host}:{port} reachable"
    except OSError as exc:
        return False, f"offline: cannot reach {host}:{port} ({type(exc).__name__}: {exc})"


def _workspace_answers(config, auth, timeout: float, connect) -> str:
    """Open the workspace in a thread (``connect(config, auth)``, then its summary: SDK v2 reaches Azure only
    then); a silent network must not hold the preflight up."""
    outcome: Dict[str, str] = {}

    def attempt() -> None:
        try:
            ws = connect(config, auth)
            ws.summary()
            outcome["text"] = f"workspace {ws.name} answers"
        except Exception as exc:  # noqa: BLE001 - any failure is the answer the preflight reports
            outcome["text"] = f"workspace does not answer: {exc}"

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout)
    return outcome.get("text", f"workspace did not answer within {timeout:g} s")


def collect(backend: Optional[str] = None, config_path: Optional[str] = None,
            endpoint: Optional[Tuple[str, int]] = None, connect_timeout: float = CONNECT_TIMEOUT_SECONDS) -> Dict[str, Any]:
    """Everything the preflight reports, as a JSON-able dict.

    Raises:
        ConfigError: the config file is malformed or misses a key the backend needs.
    """
    from .config import load_config
    from .settings import Settings

    config = load_config(config_path, backend)
    settings = Settings()
    info: Dict[str, Any] = {
        "versions": versions(),
        "backend": config.backend,
        "config_file": str(config.path) if config.path else None,
        "experiment": settings.experiment_name,
        "compute": settings.compute.name,
        "service": settings.service.name,
        "budget_minutes_default": settings.automl.experiment_timeout_minutes,
    }
    if config.backend == "local":
        info.update(budget_floor_minutes=None, credential=None, workspace=os.environ.get("AMLPIPE_WORKSPACE") or ".amlpipe")
        return info

    from .backends.azureml.limits import MIN_EXPERIMENT_TIMEOUT_MINUTES

    if config.backend == "azureml-v2":
        from .backends.azureml_v2 import auth
        from .backends.azureml_v2.workspace import connect
    else:
        from .backends.azureml import auth
        from .backends.azureml.workspace import connect

    chosen, tried = auth.describe()
    info.update(
        budget_floor_minutes=MIN_EXPERIMENT_TIMEOUT_MINUTES,
        workspace=f"{config.workspace_name} (resource group {config.resource_group}, subscription {config.subscription_id})",
        credential=chosen,
        credential_checks=tried,
    )
    online, why = reachable(endpoint)
    if not online:
        info["workspace_check"] = why
    elif chosen is None:
        info["workspace_check"] = "not checked: no credential"
    elif chosen == "interactive login":
        info["workspace_check"] = "not checked: it would need an interactive login"
    else:
        credential, _ = auth.resolve()
        info["workspace_check"] = _workspace_answers(config, credential, connect_timeout, connect)
    return info


def render(info: Dict[str, Any]) -> str:
    """The report as aligned lines."""
    installed = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    missing = ", ".join(k for k, v in info["versions"].items() if not v)
    lines = [
        f"versions     {installed}" + (f" (not installed: {missing})" if missing else ""),
        f"backend      {info['backend']}",
        f"config.json  {info['config_file'] or 'none found (searched like Workspace.from_config)'}",
        f"workspace    {info['workspace']}",
        f"names        experiment {info['experiment']}, compute {info['compute']}, service {info['service']}",
    ]
    floor = info["budget_floor_minutes"]
    lines.append(f"budget       default {info['budget_minutes_default']:g} min"
                 + (f", Azure's floor {floor} min" if floor else ", no floor (fractions allowed locally)"))
    if info["backend"] != "local":
        lines.append(f"credential   {info['credential'] or 'none usable'}")
        lines.extend(f"             - {line}" for line in info["credential_checks"])
        lines.append(f"check        {info['workspace_check']}")
    return "\n".join(lines)
