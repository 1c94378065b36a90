"""Registered models: the MLflow model registry, one version per registration.

A version's source is the best run's `outputs/` folder, which holds `model.pkl`
(joblib), `requirements.txt` (what unpickling it needs) and `metadata.json` (metric,
algorithm, input schema, data version). `AZUREML_MODEL_DIR` points there when served.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from ... import names
from ...errors import ResourceError
from .records import artifact_path

if TYPE_CHECKING:
    from .workspace import LocalWorkspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalModel:
    """One version of a registered model."""

    name: str
    version: int
    description: str
    tags: Dict[str, str]
    run_id: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def properties(self) -> Dict[str, Any]:
        """The model's metadata.json: metric, algorithm, schema, data version."""
        return json.loads((self.path / "metadata.json").read_text())

    def load(self):
        """The fitted pipeline."""
        import joblib

        return joblib.load(self.path / "model.pkl")


def _from_version(mv) -> LocalModel:
    return LocalModel(
        name=mv.name,
        version=int(mv.version),
        description=mv.description or "",
        tags=dict(mv.tags),
        run_id=mv.run_id,
        path=artifact_path(mv.source),
    )


def register(ws: LocalWorkspace, best_run_id: str, model_name: str, description: str, tags: Dict[str, str]) -> LocalModel:
    """Register the model in the outputs of run ``best_run_id`` under ``model_name``, as a new version."""
    source = ws.client.get_run(best_run_id).info.artifact_uri + "/outputs"
    return register_folder(ws, artifact_path(source), model_name, description, tags, best_run_id, source)


def register_folder(ws: LocalWorkspace, folder: Path, model_name: str, description: str, tags: Dict[str, str],
                    run_id: str, source: str = "") -> LocalModel:
    """Register the model in ``folder`` (model.pkl, metadata.json) as a new version of ``model_name``.

    Args:
        run_id: The run that made the model.
        source: The URI recorded as the version's source (default: the folder's file URI).

    Raises:
        ResourceError: the folder holds no model.pkl.
    """
    from mlflow.exceptions import MlflowException

    names.check("model", model_name)
    if not (folder / "model.pkl").exists():
        raise ResourceError(f"{folder} has no model.pkl to register (run '{run_id}')")
    client = ws.client
    try:
        client.get_registered_model(model_name)
    except MlflowException:
        client.create_registered_model(model_name, description=description)
    metadata = json.loads((folder / "metadata.json").read_text())
    all_tags = {**{k: str(v) for k, v in tags.items()}, "algorithm": metadata["algorithm"],
                metadata["primary_metric"]: f"{metadata['score']:.4f}"}
    version = client.create_model_version(
        model_name, source=source or folder.as_uri(), run_id=run_id, tags=all_tags, description=description
    )
    logger.info("registered model %s version %s", model_name, version.version)
    return _from_version(version)


def get(ws: LocalWorkspace, name: str, version: Optional[int] = None) -> Optional[LocalModel]:
    """A registered model version (None: the latest), or None when there is none."""
    versions = ws.client.search_model_versions(f"name = '{names.check('model', name)}'")  # a valid name holds no quote
    if version is not None:
        versions = [mv for mv in versions if int(mv.version) == version]
    return _from_version(max(versions, key=lambda v: int(v.version))) if versions else None


def list_models(ws: LocalWorkspace) -> List[LocalModel]:
    """Every version of every registered model, by name then version."""
    versions = ws.client.search_model_versions("")
    return sorted((_from_version(v) for v in versions), key=lambda m: (m.name, m.version))
