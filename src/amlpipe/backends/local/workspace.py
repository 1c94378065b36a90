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
from typing import Any, Dict, List, Optional, Union

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

    def get_or_create_experiment(self, name: str) -> experiment.LocalExperiment:
        return experiment.get_or_create(self, name)

    def get_or_create_compute(self, settings) -> compute.LocalCompute:
        return compute.get_or_create(self, settings)

    def delete_compute(self, name: str) -> List[str]:
        """Delete the compute's record (this machine stays)."""
        return compute.delete(self, name)

    def register_dataset(self, source=None, settings=None, dataframe=None) -> dataset.LocalDataset:
        return dataset.register(self, source=source, settings=settings, dataframe=dataframe)

    def list_datasets(self) -> List[dataset.LocalDataset]:
        return dataset.list_datasets(self)

    def list_models(self) -> List[model.LocalModel]:
        return model.list_models(self)

    def list_services(self) -> List[deployment.LocalService]:
        return deployment.list_services(self)

    def _find_experiment(self, name):
        return experiment.get(self, name)

    def _find_compute(self, name):
        return compute.get(self, name)

    def _find_dataset(self, name, version):
        return dataset.get(self, name, version)

    def _find_model(self, name, version):
        return model.get(self, name, version)

    def _find_service(self, name):
        return deployment.get(self, name)

    def _deploy(self, model, service, inference_config, port: Optional[int] = None):
        return deployment.deploy(self, model, service, inference_config, port=port)


def connect(config: WorkspaceConfig, workspace_dir: Optional[Union[str, os.PathLike]] = None) -> LocalWorkspace:
    """Open (creating if needed) the local workspace folder.

    The folder is ``workspace_dir``, else `AMLPIPE_WORKSPACE`, else `.amlpipe/` in the working folder.
    """
    root = workspace_dir or os.environ.get("AMLPIPE_WORKSPACE") or DEFAULT_DIR
    return LocalWorkspace(root, config)
