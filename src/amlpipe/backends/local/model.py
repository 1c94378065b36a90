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
from typing import Any, Dict, List, Union

from ...errors import ResourceError
from .run import artifact_path
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


def register(ws: LocalWorkspace, run, model_name: str, description: str, tags: Dict[str, str]) -> LocalModel:
    """Register ``run``'s best model under ``model_name`` as a new version."""
    from mlflow.exceptions import MlflowException

    best_run_id = run.best_run_id
    client = ws.client
    source = client.get_run(best_run_id).info.artifact_uri + "/outputs"
    if not (artifact_path(source) / "model.pkl").exists():
        raise ResourceError(f"run '{best_run_id}' has no outputs/model.pkl to register")
    try:
        client.get_registered_model(model_name)
    except MlflowException:
        client.create_registered_model(model_name, description=description)
    metadata = json.loads((artifact_path(source) / "metadata.json").read_text())
    all_tags = {**{k: str(v) for k, v in tags.items()}, "algorithm": metadata["algorithm"],
                metadata["primary_metric"]: f"{metadata['score']:.4f}"}
    version = client.create_model_version(
        model_name, source=source, run_id=best_run_id, tags=all_tags, description=description
    )
    logger.info("registered model %s version %s", model_name, version.version)
    return _from_version(version)


def get(ws: LocalWorkspace, name: str, version: Union[int, str] = "latest") -> LocalModel:
    """A registered model by name and version (``"latest"`` by default).

    Raises:
        ResourceError: no such model or version.
    """
    versions = ws.client.search_model_versions(f"name = '{name}'")
    if not versions:
        known = ", ".join(m.name for m in list_models(ws)) or "none"
        raise ResourceError(f"model '{name}' is not registered in workspace {ws.root} (registered: {known})")
    if version in (None, "latest"):
        return _from_version(max(versions, key=lambda v: int(v.version)))
    for mv in versions:
        if int(mv.version) == int(version):
            return _from_version(mv)
    numbers = ", ".join(sorted((v.version for v in versions), key=int))
    raise ResourceError(f"model '{name}' has no version {version} (versions: {numbers})")


def list_models(ws: LocalWorkspace) -> List[LocalModel]:
    """Every version of every registered model, by name then version."""
    versions = ws.client.search_model_versions("")
    return sorted((_from_version(v) for v in versions), key=lambda m: (m.name, m.version))
