"""What every backend shares, written once: the registry entry and the base classes of its handles.

A backend derives its workspace, experiment and AutoML run from `BaseWorkspace`,
`BaseExperiment` and `BaseAutoMLRun`. Their public methods are the protocols of
`amlpipe.protocols`; the ones whose behaviour does not depend on the backend are written
here, on top of a few ``_find_*`` hooks that answer None for "there is none":

- ``get_experiment``, ``get_compute``, ``get_dataset``, ``get_model``, ``get_service`` and
  ``get_run`` raise `ResourceError` naming what is missing and what exists;
- ``"latest"`` (or None) is the highest version, or the newest run;
- ``register_model`` and ``deploy`` fill in their defaults from `Settings`;
- the leaderboard's shape and its sort, by the direction of the primary metric.

Everything abstract here is what a new backend writes.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

import pandas as pd

from .. import metrics
from ..config import WorkspaceConfig
from ..errors import ConfigError, ResourceError
from ..protocols import LEADERBOARD_COLUMNS, AutoMLRun, Compute, Dataset, Experiment, Model, Service, Version, Workspace
from ..settings import InferenceSettings, ModelSettings, ServiceSettings

LATEST = "latest"


@dataclass(frozen=True)
class Backend:
    """A backend, as the registry in `amlpipe.backends` holds it.

    Attributes:
        name: What config.json, `AMLPIPE_BACKEND` and ``connect(backend=...)`` call it.
        connect: ``connect(config, workspace_dir)`` opens the workspace; ``workspace_dir`` is
            the folder of a backend that keeps its state on this machine, ignored by the others.
        dataset_reuse: How ``register_dataset`` reuses what is registered under the name:
            ``"content"``: data identical to a registered version returns that version, other
            data becomes a new version; ``"name"``: a dataset registered under the name is
            returned as it is, whatever the data given.
        description: One line for humans.
    """

    name: str
    connect: Callable[[WorkspaceConfig, Union[str, os.PathLike, None]], Workspace]
    dataset_reuse: str
    description: str = ""

    def __post_init__(self):
        if self.dataset_reuse not in ("content", "name"):
            raise ValueError(f"backend {self.name}: dataset_reuse must be 'content' or 'name', not {self.dataset_reuse!r}")


def parse_version(version: Version, kind: str, name: str) -> Optional[int]:
    """A version number, or None for "latest".

    Raises:
        ConfigError: neither a number nor "latest".
    """
    if version is None or version == LATEST:
        return None
    try:
        return int(version)
    except (TypeError, ValueError):
        raise ConfigError(f"{kind} '{name}': version {version!r} is neither a number nor '{LATEST}'") from None


def not_found(kind: str, name: str, workspace: str, known: Optional[Iterable[str]] = None) -> ResourceError:
    """The error for a name the workspace does not hold; ``known`` lists what it holds."""
    missing = "is not registered" if kind in ("dataset", "model") else "not found"
    listed = "" if known is None else f" ({kind}s: {', '.join(sorted(set(known))) or 'none'})"
    return ResourceError(f"{kind} '{name}' {missing} in workspace {workspace}{listed}")


def version_not_found(kind: str, name: str, version: Version, workspace: str, registered: Iterable[Any]) -> ResourceError:
    """The error for a dataset or model version the workspace does not hold; ``registered`` is what it lists."""
    registered = list(registered)
    versions = [r.version for r in registered if r.name == name]
    if versions:
        return ResourceError(f"{kind} '{name}' has no version {version} (latest: {max(versions)})")
    return not_found(kind, name, workspace, [r.name for r in registered])


def leaderboard_frame(rows: List[Dict[str, Any]], primary_metric: str) -> pd.DataFrame:
    """The leaderboard: `LEADERBOARD_COLUMNS` with ``score`` named after the metric, best first.

    Args:
        rows: One dict per child run, with the keys of `LEADERBOARD_COLUMNS` (missing ones are None).
        primary_metric: The run's primary metric; its direction sets the order.

    Raises:
        ConfigError: the metric is not one amlpipe knows the direction of.
    """
    if primary_metric not in metrics.GREATER_IS_BETTER:
        raise ConfigError(f"primary metric {primary_metric!r} is unknown; expected one of {', '.join(metrics.GREATER_IS_BETTER)}")
    columns = [primary_metric if c == "score" else c for c in LEADERBOARD_COLUMNS]
    frame = pd.DataFrame([{c: row.get(c) for c in LEADERBOARD_COLUMNS} for row in rows], columns=list(LEADERBOARD_COLUMNS))
    frame.columns = columns
    frame[primary_metric] = pd.to_numeric(frame[primary_metric], errors="coerce")
    ascending = not metrics.GREATER_IS_BETTER[primary_metric]
    return frame.sort_values(primary_metric, ascending=ascending, kind="stable", na_position="last").reset_index(drop=True)


class BaseAutoMLRun(ABC):
    """The backend-neutral half of an AutoML run (`amlpipe.protocols.AutoMLRun`)."""

    id: str

    @property
    @abstractmethod
    def properties(self) -> Dict[str, Any]: ...

    @property
    def primary_metric(self) -> str:
        """The metric the run optimised (its ``primary_metric`` property)."""
        metric = self.properties.get("primary_metric")
        if not metric:
            raise ResourceError(f"run '{self.id}' has no primary_metric property: it is not an AutoML run")
        return metric

    def get_leaderboard(self) -> pd.DataFrame:
        """One row per child run: iteration, algorithm, the primary metric, durations, run id; best first."""
        return leaderboard_frame(self._leaderboard_rows(), self.primary_metric)

    def register_model(self, model_name: Optional[str] = None, description: Optional[str] = None,
                       tags: Optional[Dict[str, str]] = None) -> Model:
        """Register the best model as a new version, as `AutoMLRun.register_model`.

        Args:
            model_name, description, tags: Default to `ModelSettings`'.
        """
        defaults = ModelSettings()
        return self._register_model(
            model_name or defaults.model_name,
            defaults.description if description is None else description,
            dict(defaults.tags if tags is None else tags),
        )

    @abstractmethod
    def _leaderboard_rows(self) -> List[Dict[str, Any]]:
        """One dict per child run with the keys of `LEADERBOARD_COLUMNS`."""

    @abstractmethod
    def _register_model(self, model_name: str, description: str, tags: Dict[str, str]) -> Model: ...


class BaseExperiment(ABC):
    """The backend-neutral half of an experiment (`amlpipe.protocols.Experiment`)."""

    name: str

    @abstractmethod
    def get_runs(self) -> List[AutoMLRun]:
        """The AutoML runs, newest first."""

    def get_run(self, run_id: Optional[str] = LATEST) -> AutoMLRun:
        """An AutoML run by id, or the newest one for ``"latest"`` (or None), as `AutoMLRun(experiment, run_id)`.

        Raises:
            ResourceError: no run of that id in this experiment, or no run yet.
        """
        if run_id in (None, "", LATEST):
            runs = self.get_runs()
            if not runs:
                raise ResourceError(f"experiment '{self.name}' has no AutoML run yet; submit one first")
            return runs[0]
        found = self._find_run(run_id)
        if found is None:
            raise ResourceError(f"run '{run_id}' not found in experiment '{self.name}'")
        return found

    @abstractmethod
    def _find_run(self, run_id: str) -> Optional[AutoMLRun]:
        """The AutoML run ``run_id`` of this experiment, or None."""


class BaseWorkspace(ABC):
    """The backend-neutral half of a workspace (`amlpipe.protocols.Workspace`)."""

    backend = ""

    @property
    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def summary(self) -> Dict[str, Any]:
        """What `amlpipe status` and the setup notebook show."""

    # Experiments
    @abstractmethod
    def get_or_create_experiment(self, name: str) -> Experiment: ...

    def get_experiment(self, name: str) -> Experiment:
        """An existing experiment.

        Raises:
            ResourceError: there is none of that name.
        """
        found = self._find_experiment(name)
        if found is None:
            raise not_found("experiment", name, self.name)
        return found

    # Compute
    @abstractmethod
    def get_or_create_compute(self, settings) -> Compute: ...

    def get_compute(self, name: str) -> Compute:
        """An existing compute target.

        Raises:
            ResourceError: there is none of that name.
        """
        found = self._find_compute(name)
        if found is None:
            raise not_found("compute", name, self.name)
        return found

    @abstractmethod
    def delete_compute(self, name: str) -> List[str]:
        """Delete the compute; returns ``["compute <name>"]``, or [] when there was none."""

    # Datasets
    @abstractmethod
    def register_dataset(self, source=None, settings=None, dataframe=None) -> Dataset: ...

    def get_dataset(self, name: str, version: Version = LATEST) -> Dataset:
        """A registered dataset version (the highest for ``"latest"``).

        Raises:
            ResourceError: no dataset of that name, or not that version.
        """
        found = self._find_dataset(name, parse_version(version, "dataset", name))
        if found is None:
            raise version_not_found("dataset", name, version, self.name, self.list_datasets())
        return found

    @abstractmethod
    def list_datasets(self) -> List[Dataset]:
        """The latest version of every registered dataset."""

    # Models
    def get_model(self, name: str, version: Version = LATEST) -> Model:
        """A registered model version (the highest for ``"latest"``).

        Raises:
            ResourceError: no model of that name, or not that version.
        """
        found = self._find_model(name, parse_version(version, "model", name))
        if found is None:
            raise version_not_found("model", name, version, self.name, self.list_models())
        return found

    @abstractmethod
    def list_models(self) -> List[Model]:
        """Every version of every registered model."""

    # Services
    def deploy(self, model: Model, service: Optional[ServiceSettings] = None,
               inference_config: Optional[InferenceSettings] = None, **options) -> Service:
        """Serve a registered model, as `Model.deploy(ws, name, [model], inference_config, deployment_config)`.

        Call `wait_for_deployment` on the result. ``options`` are the backend's own (the local one takes ``port``).
        """
        return self._deploy(model, service or ServiceSettings(), inference_config or InferenceSettings(), **options)

    def get_service(self, name: str) -> Service:
        """A deployed service.

        Raises:
            ResourceError: there is none of that name.
        """
        found = self._find_service(name)
        if found is None:
            raise not_found("service", name, self.name, [s.name for s in self.list_services()])
        return found

    @abstractmethod
    def list_services(self) -> List[Service]: ...

    # The hooks: None when there is none
    @abstractmethod
    def _find_experiment(self, name: str) -> Optional[Experiment]: ...

    @abstractmethod
    def _find_compute(self, name: str) -> Optional[Compute]: ...

    @abstractmethod
    def _find_dataset(self, name: str, version: Optional[int]) -> Optional[Dataset]:
        """``version`` None: the latest."""

    @abstractmethod
    def _find_model(self, name: str, version: Optional[int]) -> Optional[Model]:
        """``version`` None: the latest."""

    @abstractmethod
    def _find_service(self, name: str) -> Optional[Service]: ...

    @abstractmethod
    def _deploy(self, model: Model, service: ServiceSettings, inference_config: InferenceSettings, **options) -> Service: ...

