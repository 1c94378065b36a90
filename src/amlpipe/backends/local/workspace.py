"""The local workspace: a folder with an MLflow tracking store on SQLite and the artifacts.

Layout (default `.amlpipe/` in the working folder)::

    mlflow.db        MLflow runs, metrics and model registry (`mlflow ui --backend-store-uri sqlite:///...`)
    artifacts/       run artifacts, one folder per experiment; registered models point into it
    datasets/        registered dataset snapshots, datasets/<name>/<version>/
    computes/        compute records, computes/<name>.json
    services/        deployed services, services/<name>.json (+ logs, keys)
    tmp/             a running AutoML run's scratch files, tmp/<run id>/
    .lock            held while a process opens the store (MLflow creates or migrates its tables then)
    workspace.json   where the folder was last opened: a moved or copied folder is found out

MLflow keeps absolute paths (artifact locations, model sources); when the folder has been
moved or copied, they are rewritten to the new place on opening, so a copy serves its own
models and writes its own artifacts. Service records are not carried over: their servers
run from the original folder (deploy again in the copy).

Opening the store is serialised between processes, and then AutoML runs left Running by a
process that is gone (kill -9, a power cut) are marked Failed with the reason. A store that
stays busy (SQLite locked by another process) is retried for `BUSY_SECONDS`, then reported.
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import shutil
import time
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

from ...config import WorkspaceConfig
from ...errors import ResourceError
from ..base import BaseWorkspace
from . import compute, dataset, deployment, experiment, model, pipeline
from .records import OWNER_PID_TAG, OWNER_STARTED_TAG, list_records, read_record, write_record

logger = logging.getLogger(__name__)

DEFAULT_DIR = ".amlpipe"
BUSY_SECONDS = 30
_BUSY = ("database is locked", "database is busy", "database table is locked")
_BROKEN = ("file is not a database", "database disk image is malformed", "unable to open database file",
           "no such table")


class LocalWorkspace(BaseWorkspace):
    """A workspace on this machine (`amlpipe.protocols.Workspace`)."""

    backend = "local"

    def __init__(self, root: Union[str, os.PathLike], config: Optional[WorkspaceConfig] = None):
        self.root = Path(root).resolve()
        self.config = config or WorkspaceConfig()
        self.root.mkdir(parents=True, exist_ok=True)
        self._client = None
        self.moved_from: Optional[str] = None
        with self.lock():
            self._follow_move()

    def __repr__(self) -> str:
        return f"LocalWorkspace(root={str(self.root)!r})"

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def tracking_uri(self) -> str:
        """The MLflow tracking and registry URI (SQLite)."""
        return f"sqlite:///{self.root / 'mlflow.db'}"

    @property
    def client(self) -> "StoreClient":
        """An `mlflow.tracking.MlflowClient` on this workspace's store (no global MLflow state).

        Raises:
            ResourceError: the store is not a readable MLflow database, or stays locked.
        """
        if self._client is None:
            from mlflow.tracking import MlflowClient

            # Quiet MLflow's one-off schema migration messages on a new store, and the tracebacks it logs
            # for database errors, which it raises too: StoreClient retries or reports them in one line.
            logging.getLogger("mlflow.store.db.utils").setLevel(logging.CRITICAL)
            logging.getLogger("alembic").setLevel(logging.WARNING)
            with self.lock():  # MLflow creates or migrates the tables here: one process at a time
                store = self.root / "mlflow.db"
                if not store.exists():
                    copy_empty_store(store)
                client = StoreClient(call_store(
                    lambda: MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri), store), store)
                client.search_registered_models(max_results=1)
                fail_orphaned_runs(self, client)
            self._client = client
        return self._client

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the workspace's lock file (between processes on this machine)."""
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _follow_move(self) -> None:
        """Rewrite the store's absolute paths if the folder was moved or copied since it was last opened."""
        marker = self.root / "workspace.json"
        recorded = read_record(marker, "workspace").get("root") if marker.exists() else None
        store = self.root / "mlflow.db"
        if recorded and recorded != str(self.root):
            self.moved_from = recorded
            if store.exists():
                call_store(lambda: relocate_store(store, Path(recorded), self.root), store)
            for record in list_records(self.root / "services"):
                record.unlink()
            logger.warning("workspace %s was moved or copied from %s: paths in its store now point here; "
                           "its services stayed with the original folder", self.root, recorded)
        if recorded != str(self.root):
            write_record(marker, {"root": str(self.root)})

    def folder(self, *parts: str) -> Path:
        """A sub-folder of the workspace, created on demand."""
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def summary(self) -> Dict[str, Any]:
        """What `amlpipe status` and the setup notebook show."""
        summary = {"backend": self.backend, "workspace": self.name, "location": str(self.root),
                   "tracking_uri": self.tracking_uri}
        if self.moved_from:
            summary["moved_from"] = self.moved_from
        return summary

    # What BaseWorkspace leaves to the backend: each is a function of a concept module whose
    # first argument is the workspace (a method, then). `get` answers None when there is none.
    get_or_create_experiment = experiment.get_or_create
    _find_experiment = experiment.get
    get_or_create_compute = compute.get_or_create
    _find_compute = compute.get
    delete_compute = compute.delete  # the record; this machine stays
    register_dataset = dataset.register
    _find_dataset = dataset.get
    list_datasets = dataset.list_datasets
    _find_model = model.get
    list_models = model.list_models
    _deploy = deployment.deploy
    _find_service = deployment.get
    list_services = deployment.list_services
    run_pipeline = pipeline.run
    publish_pipeline = pipeline.publish
    list_published_pipelines = pipeline.list_published
    submit_published_pipeline = pipeline.submit_published
    schedule_pipeline = pipeline.schedule


def copy_empty_store(store: Path) -> None:
    """An empty MLflow store at ``store``: a copy of one MLflow built, kept in the user cache per MLflow version.

    MLflow builds a new store by running each of its schema migrations, about 3 s; a copy takes
    milliseconds. Where the cache cannot be written, nothing is copied and MLflow builds the store in place.
    The copy's Default experiment (amlpipe does not use it) keeps the artifact location MLflow gave it
    when the template was built. Both files are written whole (beside, then renamed): a process
    stopped halfway leaves no half store.
    """
    from mlflow.tracking import MlflowClient
    from mlflow.version import VERSION

    from ...data import cache_dir

    template = cache_dir() / f"mlflow-{VERSION}-empty-store.db"
    partials = [template.with_name(f"{template.name}.{os.getpid()}.part"), store.with_name(f"{store.name}.part")]
    try:
        if not template.is_file():
            template.parent.mkdir(parents=True, exist_ok=True)
            MlflowClient(tracking_uri=f"sqlite:///{partials[0]}").search_experiments(max_results=1)
            os.replace(partials[0], template)
        shutil.copyfile(template, partials[1])
        os.replace(partials[1], store)
    except OSError as exc:
        logger.debug("no empty-store template in %s (%s): MLflow builds %s", template.parent, exc, store)
    finally:
        for partial in partials:
            with suppress(OSError):
                partial.unlink(missing_ok=True)


# Columns of MLflow's store holding file URIs into the workspace.
_PATH_COLUMNS = (("experiments", "artifact_location"), ("runs", "artifact_uri"),
                 ("model_versions", "source"), ("model_versions", "storage_location"))


def relocate_store(store: Path, old_root: Path, new_root: Path) -> None:
    """Point the store's file URIs under ``old_root`` to the same places under ``new_root``."""
    import sqlite3

    old, new = old_root.as_uri() + "/", new_root.as_uri() + "/"
    with sqlite3.connect(store) as db:
        for table, column in _PATH_COLUMNS:
            if column not in {row[1] for row in db.execute(f"PRAGMA table_info({table})")}:
                continue
            db.execute(f"UPDATE {table} SET {column} = ? || substr({column}, ?) WHERE substr({column}, 1, ?) = ?",
                       (new, len(old) + 1, len(old), old))
    db.close()


class StoreClient:
    """An MlflowClient whose calls wait out a busy SQLite store and name a broken one.

    A busy store (another process writing) is retried with a growing pause for up to
    `BUSY_SECONDS`; a file that is not an MLflow database raises `ResourceError` naming it.
    Every other MLflow error passes through as it is.
    """

    def __init__(self, client, path: Path):
        self.wrapped = client
        self._path = path

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.wrapped, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args, **kwargs):
            return call_store(lambda: attribute(*args, **kwargs), self._path)

        return call


def call_store(call: Callable[[], Any], path: Path) -> Any:
    """``call()``, retried while the SQLite store at ``path`` is busy; a broken store is a `ResourceError`."""
    import sqlite3

    from mlflow.exceptions import MlflowException
    from sqlalchemy.exc import SQLAlchemyError

    deadline = time.monotonic() + BUSY_SECONDS
    pause = 0.05
    while True:
        try:
            return call()
        except (MlflowException, SQLAlchemyError, sqlite3.Error) as exc:
            message = str(exc).lower()
            if any(text in message for text in _BROKEN):
                raise ResourceError(
                    f"{path} is not a readable MLflow store ({_first_line(exc)}); restore it from a copy, "
                    "or move the workspace folder away to start a new one"
                ) from None
            if not any(text in message for text in _BUSY):
                raise
            if time.monotonic() > deadline:
                raise ResourceError(
                    f"{path} stayed locked for {BUSY_SECONDS} s (another amlpipe process is writing to it); "
                    "try again when it has finished"
                ) from None
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def fail_orphaned_runs(ws: "LocalWorkspace", client: "StoreClient") -> List[str]:
    """Mark Failed the runs left Running by a process that is gone; returns their ids."""
    import psutil

    orphaned = []
    experiments = client.search_experiments()
    if not experiments:
        return orphaned
    running = client.search_runs([e.experiment_id for e in experiments], filter_string="attributes.status = 'RUNNING'",
                                 max_results=1000)
    for run in running:
        pid, started = run.data.tags.get(OWNER_PID_TAG), run.data.tags.get(OWNER_STARTED_TAG)
        if pid is None or started is None:
            continue
        try:
            alive = abs(psutil.Process(int(pid)).create_time() - float(started)) < 1.0
        except (psutil.Error, ValueError):
            alive = False
        if alive:
            continue
        client.set_tag(run.info.run_id, "amlpipe.error", f"the process that ran it (pid {pid}) ended before the run did")
        client.set_terminated(run.info.run_id, "FAILED")
        shutil.rmtree(ws.root / "tmp" / run.info.run_id, ignore_errors=True)
        logger.warning("run %s was left Running by process %s, which is gone: marked Failed", run.info.run_id, pid)
        orphaned.append(run.info.run_id)
    return orphaned


def connect(config: WorkspaceConfig, workspace_dir: Optional[Union[str, os.PathLike]] = None) -> LocalWorkspace:
    """Open (creating if needed) the local workspace folder.

    The folder is ``workspace_dir``, else `AMLPIPE_WORKSPACE`, else `.amlpipe/` in the working folder.
    """
    root = workspace_dir or os.environ.get("AMLPIPE_WORKSPACE") or DEFAULT_DIR
    return LocalWorkspace(root, config)
