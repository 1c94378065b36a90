"""Local deployment: azureml-inference-server-http serving inference/score.py on loopback.

`deploy` starts the server (the one inside Azure ML's inference images) as a background
process in its own session, so it outlives the notebook or command that started it, and
records it in `services/<name>.json`; any process finds it by name. The record's state
is checked against the live process and the health route, so a dead server never reads
as Healthy. With ``auth_enabled`` a primary and a secondary key are generated and kept
in a 0600 file that only the scoring script reads; they never reach logs or errors.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

from ... import client, inference
from ...errors import DeploymentError
from ...settings import InferenceSettings, ServiceSettings
from .records import list_records, read_record, write_record

if TYPE_CHECKING:
    from .workspace import LocalWorkspace

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
LOG_TAIL_LINES = 60
DEPLOY_TIMEOUT_SECONDS = 120
STOP_SECONDS = 10


@dataclass
class ServiceRecord:
    """What the workspace keeps about a service (`services/<name>.json`)."""

    name: str
    model_name: str
    model_version: int
    model_dir: str
    port: int
    pid: int
    process_started: float
    state: str
    log_file: str
    auth_enabled: bool
    keys_file: Optional[str]
    cpu_cores: float
    memory_gb: float
    tags: Dict[str, str]
    description: str
    created: str


class LocalService:
    """A running (or failed) local service; the calls of `AciWebservice`."""

    def __init__(self, ws: LocalWorkspace, record: ServiceRecord):
        self.workspace = ws
        self._record = record

    def __repr__(self) -> str:
        return f"LocalService(name={self.name!r}, state={self.state!r}, scoring_uri={self.scoring_uri!r})"

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def record(self) -> ServiceRecord:
        return self._record

    @property
    def scoring_uri(self) -> str:
        return f"http://{HOST}:{self._record.port}/score"

    @property
    def swagger_uri(self) -> str:
        return f"http://{HOST}:{self._record.port}/swagger.json"

    @property
    def port(self) -> int:
        return self._record.port

    @property
    def tags(self) -> Dict[str, str]:
        return dict(self._record.tags)

    @property
    def auth_enabled(self) -> bool:
        return self._record.auth_enabled

    @property
    def description(self) -> str:
        return self._record.description

    @property
    def model(self) -> Tuple[str, int]:
        return self._record.model_name, self._record.model_version

    @property
    def state(self) -> str:
        """Transitioning, Healthy, Unhealthy or Failed, checked against the process and the health route."""
        recorded = self._record.state
        if recorded == "Failed":
            return "Failed"
        if not _process_alive(self._record.pid, self._record.process_started):
            return "Failed" if recorded == "Transitioning" else "Unhealthy"
        if _healthy(self._record.port, timeout=1.0):
            return "Healthy"
        return "Transitioning" if recorded == "Transitioning" else "Unhealthy"

    def wait_for_deployment(self, show_output: bool = False, timeout_seconds: Optional[float] = None) -> None:
        """Poll the health route until the server answers, the process dies, or the time runs out.

        Args:
            show_output: Print progress dots.
            timeout_seconds: How long to wait; default `DEPLOY_TIMEOUT_SECONDS`.

        Raises:
            DeploymentError: the server did not come up; the message carries the tail of its log.
        """
        timeout_seconds = DEPLOY_TIMEOUT_SECONDS if timeout_seconds is None else timeout_seconds
        deadline = time.monotonic() + timeout_seconds
        dots = 0
        while time.monotonic() < deadline:
            if not _process_alive(self._record.pid, self._record.process_started):
                self._set_state("Failed")
                raise DeploymentError(
                    f"service '{self.name}' failed: the server process exited.\n--- server log (tail) ---\n{self.get_logs()}"
                )
            if _healthy(self._record.port, timeout=1.0):
                self._set_state("Healthy")
                if show_output:
                    print(f"\nservice {self.name}: Healthy at {self.scoring_uri}", flush=True)
                return
            if show_output:
                print("." if dots % 40 else f"service {self.name}: Transitioning ", end="", flush=True)
                dots += 1
            time.sleep(0.25)
        self._stop_process()
        self._set_state("Failed")
        raise DeploymentError(
            f"service '{self.name}' did not become healthy within {timeout_seconds:.0f} s.\n"
            f"--- server log (tail) ---\n{self.get_logs()}"
        )

    def run(self, input_data: Union[str, bytes, Dict[str, Any]], timeout: float = 60) -> Dict[str, Any]:
        """Score ``input_data`` (a JSON string or a dict), as `AciWebservice.run` does.

        Raises:
            ScoringError: the service answered 4xx/5xx (with its message) or could not be reached.
        """
        key = self.get_keys()[0] if self._record.auth_enabled else None
        return client.post(self.scoring_uri, input_data, key=key, timeout=timeout)

    def get_keys(self) -> Tuple[str, str]:
        """The primary and secondary keys.

        Raises:
            DeploymentError: the service was deployed without ``auth_enabled``.
        """
        if not self._record.auth_enabled or not self._record.keys_file:
            raise DeploymentError(f"service '{self.name}' has no keys: it was deployed with auth_enabled=False")
        stored = json.loads(Path(self._record.keys_file).read_text())
        return stored["primary_key"], stored["secondary_key"]

    def get_logs(self, lines: Optional[int] = None) -> str:
        """The last ``lines`` lines of the server's log (default `LOG_TAIL_LINES`)."""
        path = Path(self._record.log_file)
        if not path.exists():
            return "(no log yet)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-(lines or LOG_TAIL_LINES):])

    def delete(self) -> None:
        """Stop the server, free its port and remove the record and the keys."""
        self._stop_process()
        folder = _service_dir(self.workspace, self.name)
        if self._record.keys_file:
            Path(self._record.keys_file).unlink(missing_ok=True)
        _record_path(self.workspace, self.name).unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        logger.info("deleted service %s", self.name)

    def _stop_process(self) -> None:
        pid = self._record.pid
        if not _process_alive(pid, self._record.process_started):
            return
        try:
            os.killpg(pid, signal.SIGTERM)  # the server runs in its own session: stop gunicorn and its workers
        except ProcessLookupError:
            return
        deadline = time.monotonic() + STOP_SECONDS
        while time.monotonic() < deadline and _process_alive(pid, self._record.process_started):
            time.sleep(0.1)
        if _process_alive(pid, self._record.process_started):
            os.killpg(pid, signal.SIGKILL)
        _reap(pid)

    def _set_state(self, state: str) -> None:
        self._record.state = state
        write_record(_record_path(self.workspace, self.name), asdict(self._record))


def deploy(
    ws: LocalWorkspace,
    model,
    service: ServiceSettings,
    inference_config: Optional[InferenceSettings] = None,
    port: Optional[int] = None,
) -> LocalService:
    """Serve ``model`` (a registered `LocalModel`) as ``service.name``; replaces a service of that name.

    Call `wait_for_deployment` on the result, as with `Model.deploy`.

    Raises:
        DeploymentError: the requested port is taken, or the server cannot be started.
    """
    inference_config = inference_config or InferenceSettings()
    if inference_config.script != "amlpipe":
        raise DeploymentError(
            "setting 'inference.script' = 'automl' needs the azureml backend (AutoML's generated script is made on Azure)"
        )
    script = inference.entry_script(inference_config)
    existing = get(ws, service.name)
    if existing is not None:
        logger.info("replacing service %s", service.name)
        existing.delete()
    port = port or _free_port()
    if not _port_free(port):
        raise DeploymentError(f"port {port} on {HOST} is in use; pick another or leave it to amlpipe")
    folder = _service_dir(ws, service.name)
    app_root = folder / "app"
    metadata = model.properties
    inference.write_swagger(app_root, metadata, inference_config)
    keys_file = _write_keys(folder) if service.auth_enabled else None
    log_file = folder / "server.log"
    env = {
        **os.environ,
        "AZUREML_MODEL_DIR": str(model.path),
        "AML_APP_ROOT": str(app_root),
        "AMLPIPE_MAX_ROWS": str(inference_config.max_rows),
        "WORKER_COUNT": str(max(1, int(service.cpu_cores))),
    }
    env.pop("AMLPIPE_KEYS_FILE", None)
    if keys_file:
        env["AMLPIPE_KEYS_FILE"] = str(keys_file)
    command = [sys.executable, "-m", "amlpipe.backends.local.server", "--entry_script", str(script), "--port", str(port)]
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            command, cwd=app_root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    record = ServiceRecord(
        name=service.name,
        model_name=model.name,
        model_version=model.version,
        model_dir=str(model.path),
        port=port,
        pid=process.pid,
        process_started=_process_start_time(process.pid),
        state="Transitioning",
        log_file=str(log_file),
        auth_enabled=service.auth_enabled,
        keys_file=str(keys_file) if keys_file else None,
        cpu_cores=service.cpu_cores,
        memory_gb=service.memory_gb,
        tags=dict(service.tags),
        description=service.description,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
    )
    write_record(_record_path(ws, service.name), asdict(record))
    logger.info("started service %s (model %s:%s) on port %d", service.name, model.name, model.version, port)
    return LocalService(ws, record)


def list_services(ws: LocalWorkspace) -> List[LocalService]:
    return [LocalService(ws, ServiceRecord(**read_record(p, "service"))) for p in list_records(ws.root / "services")]


def get(ws: LocalWorkspace, name: str) -> Optional[LocalService]:
    """The service called ``name``, or None."""
    path = _record_path(ws, name)
    if not path.exists():
        return None
    return LocalService(ws, ServiceRecord(**read_record(path, "service")))


def _record_path(ws: LocalWorkspace, name: str) -> Path:
    return ws.root / "services" / f"{name}.json"


def _service_dir(ws: LocalWorkspace, name: str) -> Path:
    return ws.folder("services", name)


def _write_keys(folder: Path) -> Path:
    path = folder / "keys.json"
    keys = {"primary_key": secrets.token_urlsafe(32), "secondary_key": secrets.token_urlsafe(32)}
    write_record(path, keys, mode=0o600)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _port_free(port: int) -> bool:
    """Whether a server could listen on ``port`` (with SO_REUSEADDR, as gunicorn binds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _healthy(port: int, timeout: float) -> bool:
    import requests

    try:
        return requests.get(f"http://{HOST}:{port}/", timeout=timeout).status_code == 200
    except requests.RequestException:
        return False


def _process_start_time(pid: int) -> float:
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return 0.0


def _process_alive(pid: int, started: float) -> bool:
    """True if ``pid`` is running and is the process we started (not a reused pid or a zombie)."""
    import psutil

    try:
        process = psutil.Process(pid)
        return abs(process.create_time() - started) < 1.0 and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _reap(pid: int) -> None:
    """Collect the exit status if the server is our child, so it leaves no zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
