"""The local workspace: a folder with an MLflow tracking store on SQLite and the artifacts.

Layout (default `.amlpipe/` in the working folder)::

    mlflow.db        MLflow runs, metrics and model registry (`mlflow ui --backend-store-uri sqlite:///...`)
    artifacts/       run artifacts, one folder per experiment; registered models point into it
    datasets/        registered dataset snapshots, datasets/<name>/<version>/
    computes/        compute records, computes/<name>.json
    services/        deployed services, services/<name>.json (+ logs, keys)
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from ...config import WorkspaceConfig
from ...errors import ResourceError
from ...workspace import Workspace

logger = logging.getLogger(__name__)

DEFAULT_DIR = ".amlpipe"


class LocalWorkspace(Workspace):
    """A workspace on this machine; the same methods as the azureml backend's workspace."""

    backend = "local"

    def __init__(self, root: Union[str, os.PathLike], config: Optional[WorkspaceConfig] = None):
        self.root = Path(root).resolve()
        self.config = config or WorkspaceConfig()
        self.root.mkdir(parents=True, exist_ok=True)
        self._client = None

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
    def client(self):
        """An `mlflow.tracking.MlflowClient` on this workspace's store (no global MLflow state)."""
        if self._client is None:
            from mlflow.tracking import MlflowClient

            # Quiet MLflow's one-off schema migration messages on a new store.
            logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
            logging.getLogger("alembic").setLevel(logging.WARNING)
            self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)
        return self._client

    def folder(self, *parts: str) -> Path:
        """A sub-folder of the workspace, created on demand."""
        path = self.root.joinpath(*parts)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def summary(self) -> Dict[str, Any]:
        """What `amlpipe status` and the setup notebook show."""
        return {"backend": self.backend, "workspace": self.name, "location": str(self.root), "tracking_uri": self.tracking_uri}


def read_record(path: Path, kind: str) -> Dict[str, Any]:
    """Read one of the workspace's JSON records, naming it on failure."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ResourceError(f"{kind} record {path} not found") from None
    except json.JSONDecodeError:
        raise ResourceError(f"{kind} record {path} is corrupt; delete it and create the {kind} again") from None


def write_record(path: Path, record: Dict[str, Any], mode: Optional[int] = None) -> None:
    """Write a JSON record atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    if mode is not None:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh, indent=2, default=str)
    else:
        partial.write_text(json.dumps(record, indent=2, default=str))
    partial.replace(path)


def list_records(folder: Path) -> List[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []
