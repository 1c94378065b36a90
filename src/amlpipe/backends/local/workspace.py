"""The local workspace: a folder with an MLflow tracking store on SQLite and the artifacts.

Layout (default `.amlpipe/` in the working folder)::

    mlflow.db        MLflow runs, metrics and model registry (`mlflow ui --backend-store-uri sqlite:///...`)
    artifacts/       run artifacts, one folder per experiment; registered models point into it
    datasets/        registered dataset snapshots, datasets/<name>/<version>/
    computes/        compute records, computes/<name>.json
    services/        deployed services, services/<name>.json (+ logs, keys)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

from ...config import WorkspaceConfig
from ..base import BaseWorkspace
from . import compute, dataset, deployment, experiment, model

logger = logging.getLogger(__name__)

DEFAULT_DIR = ".amlpipe"


class LocalWorkspace(BaseWorkspace):
    """A workspace on this machine (`amlpipe.protocols.Workspace`)."""

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


def connect(config: WorkspaceConfig, workspace_dir: Optional[Union[str, os.PathLike]] = None) -> LocalWorkspace:
    """Open (creating if needed) the local workspace folder.

    The folder is ``workspace_dir``, else `AMLPIPE_WORKSPACE`, else `.amlpipe/` in the working folder.
    """
    root = workspace_dir or os.environ.get("AMLPIPE_WORKSPACE") or DEFAULT_DIR
    return LocalWorkspace(root, config)
