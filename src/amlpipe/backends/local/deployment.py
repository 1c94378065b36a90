"""Local deployment: azureml-inference-server-http serving inference/score.py on loopback.

`deploy` starts the server (the one inside Azure ML's inference images) as a background
process in its own session, so it outlives the notebook or command that started it, and
records it in `services/<name>.json`; any process finds it by name. The record's state
is checked against the live process and the health route, so a dead server never reads
as Healthy. `delete` stops every process of the server's session (gunicorn's master and
its workers, even when the master died first) and checks that the port is free. A
corrupt record hides no other service: it reads as Failed, and deleting it still stops
the server it was about (found by its process group, or by its working folder). With ``auth_enabled`` a primary and a secondary key are generated and kept
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

from ... import client, inference, names
from ...errors import DeploymentError, ResourceError
from ...settings import InferenceSettings, ServiceSettings
from .records import list_records, read_record, write_record

if TYPE_CHECKING:
    from .workspace import LocalWorkspace

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
LOG_TAIL_LINES = 60
DEPLOY_TIMEOUT_SECONDS = 120
STOP_SECONDS = 10
PORT_RELEASE_SECONDS = 5


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
    """A running (or failed) local service; the calls of `AciWebservice`.

    Attributes:
        problem: Why the service's record could not be read, or None.
    """

    def __init__(self, ws: LocalWorkspace, record: ServiceRecord, problem: Optional[str] = None):
        self.workspace = ws
        self._record = record
        self.problem = problem

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
        if recorded == "Failed" or self.problem:
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
            DeploymentError: the service's record is corrupt.
        """
        if self.problem:
            raise DeploymentError(self.problem)
        key = self.get_keys()[0] if self._record.auth_enabled else None
        return client.post(self.scoring_uri, input_data, key=key, timeout=timeout)

    def get_keys(self) -> Tuple[str, str]:
        """The primary and secondary keys.

        Raises:
            DeploymentError: the service was deployed without ``auth_enabled``.
        """
        if self.problem:
            raise DeploymentError(self.problem)
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
        """Stop the server, check its port is free, and remove the record and the keys.

        Raises:
            DeploymentError: the port is still taken after the server was stopped.
        """
        self._stop_process()
        folder = self.workspace.root / "services" / self.name
        if self._record.keys_file:
            Path(self._record.keys_file).unlink(missing_ok=True)
        (self.workspace.root / "services" / f"{self.name}.json").unlink(missing_ok=True)
        shutil.rmtree(folder, ignore_errors=True)
        logger.info("deleted service %s", self.name)

    def _stop_process(self) -> None:
        """Stop every process of the server: SIGTERM, then SIGKILL after `STOP_SECONDS`; wait for the port."""
        import psutil

        app_root = self.workspace.root / "services" / self.name / "app"
        processes = _server_processes(self._record.pid, self._record.process_started, app_root)
        for process in processes:
            _signal(process, signal.SIGTERM)
        _, alive = psutil.wait_procs(processes, timeout=STOP_SECONDS)
        for process in alive:
            _signal(process, signal.SIGKILL)
        psutil.wait_procs(alive, timeout=STOP_SECONDS)
        for process in processes:
            _reap(process.pid)
        port = self._record.port
        deadline = time.monotonic() + PORT_RELEASE_SECONDS
        while port and not _port_free(port):
            if time.monotonic() > deadline:
                raise DeploymentError(
                    f"service '{self.name}': port {port} on {HOST} is still in use after its server was stopped; "
                    "find the process with `ss -ltnp` and stop it"
                )
            time.sleep(0.1)

    def _set_state(self, state: str) -> None:
        self._record.state = state
        write_record(_record_path(self.workspace, self.name), asdict(self._record))


def _server_processes(pid: int, started: float, app_root: Path) -> list:
    """The live processes of a server: its session's process group (gunicorn's master and workers,
    started no earlier than the master) and any process working in its app folder."""
    import psutil

    found = []
    for process in psutil.process_iter():
        if process.pid == os.getpid():
            continue
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            in_group = pid > 0 and started > 0 and os.getpgid(process.pid) == pid and process.create_time() >= started - 1
            if in_group or process.cwd() == str(app_root):
                found.append(process)
        except (psutil.Error, OSError):  # gone, or another user's
            continue
    return found


def _signal(process, signum: int) -> None:
    import psutil

    try:
        process.send_signal(signum)
    except psutil.Error:
        pass


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
    model_dir = _model_mount(folder, model)
    env = {
        **os.environ,
        "AZUREML_MODEL_DIR": str(model_dir),
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
    """Every service with a record; a corrupt record is a Failed service, never an error."""
    found = []
    for path in list_records(ws.root / "services"):
        if names.is_valid("service", path.stem):
            found.append(_load(ws, path))
        else:
            logger.warning("ignoring %s: not a service record (not a valid service name)", path)
    return found


def get(ws: LocalWorkspace, name: str) -> Optional[LocalService]:
    """The service called ``name``, or None."""
    path = _record_path(ws, name)
    if not path.exists():
        return None
    return _load(ws, path)


def _load(ws: LocalWorkspace, path: Path) -> LocalService:
    """The service a record describes; from a corrupt record, what can be saved of it (pid, port)."""
    name = path.stem
    fields: Any = None
    try:
        fields = read_record(path, "service")
        if not isinstance(fields, dict):
            raise ResourceError(f"service record {path} is corrupt: not a JSON object")
        record = ServiceRecord(**fields)
        _check_types(record, path)
        return LocalService(ws, record)
    except (ResourceError, TypeError) as exc:
        problem = str(exc) if isinstance(exc, ResourceError) else f"service record {path} is corrupt ({exc})"
        problem += f"; `amlpipe down --service {name}` stops its server and removes it"
        logger.warning("%s", problem)
        saved = fields if isinstance(fields, dict) else {}
        return LocalService(ws, _salvaged_record(name, saved, ws), problem=problem)


def _check_types(record: ServiceRecord, path: Path) -> None:
    for field_name, kind in (("name", str), ("port", int), ("pid", int), ("process_started", (int, float)),
                             ("log_file", str), ("model_version", int)):
        value = getattr(record, field_name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ResourceError(f"service record {path} is corrupt: '{field_name}' = {value!r}")


def _salvaged_record(name: str, saved: Dict[str, Any], ws: LocalWorkspace) -> ServiceRecord:
    def number(key, kind):
        value = saved.get(key)
        return value if isinstance(value, kind) and not isinstance(value, bool) else 0

    return ServiceRecord(
        name=name, model_name="", model_version=0, model_dir="", port=number("port", int), pid=number("pid", int),
        process_started=number("process_started", (int, float)), state="Failed",
        log_file=str(ws.root / "services" / name / "server.log"), auth_enabled=False, keys_file=None,
        cpu_cores=0, memory_gb=0, tags={}, description="", created="",
    )


def _record_path(ws: LocalWorkspace, name: str) -> Path:
    return ws.root / "services" / f"{names.check('service', name)}.json"


def _service_dir(ws: LocalWorkspace, name: str) -> Path:
    return ws.folder("services", names.check("service", name))


def _model_mount(folder: Path, model) -> Path:
    """``models/<name>/<version>`` in the service folder, linked to the model: how Azure mounts
    AZUREML_MODEL_DIR, and what the server's Application Insights client reads the model id from."""
    mount = folder / "models" / model.name / str(model.version)
    mount.parent.mkdir(parents=True, exist_ok=True)
    if mount.is_symlink() or mount.exists():
        mount.unlink()
    mount.symlink_to(Path(model.path).resolve(), target_is_directory=True)
    return mount


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
