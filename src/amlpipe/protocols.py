"""What every backend provides: the handles `amlpipe.connect` returns and the calls they answer.

A backend (``local``, ``azureml``, ``azureml-v2``, ...) implements these protocols and joins
the registry in `amlpipe.backends`; ``tests/contract/`` checks it against them. The
behaviour that does not depend on the backend lives once in `amlpipe.backends.base`,
whose base classes a backend derives from:

- an unknown name or version raises `ResourceError` (``get_experiment``, ``get_compute``,
  ``get_dataset``, ``get_model``, ``get_service``, ``Experiment.get_run``);
- ``"latest"`` (or None) means the highest version of a dataset or model and the newest
  AutoML run of an experiment;
- ``register_model`` defaults to `ModelSettings`;
- the leaderboard has the columns `LEADERBOARD_COLUMNS` (the score under the run's primary
  metric's name), best first in that metric's direction;
- ``get_oof_predictions`` returns a DataFrame, or None when the run keeps none.

Each backend says how ``register_dataset`` reuses a registered dataset (`Backend.dataset_reuse`).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Protocol, Tuple, Union, runtime_checkable

import pandas as pd

from .settings import AutoMLSettings, ComputeSettings, DatasetSettings, InferenceSettings, ServiceSettings

#: A dataset or model version: a number, or "latest" (None means "latest" too).
Version = Union[int, str, None]

#: The leaderboard's columns; ``"score"`` stands for the run's primary metric's name.
LEADERBOARD_COLUMNS = ("iteration", "algorithm", "score", "duration_s", "elapsed_s", "run_id")


@runtime_checkable
class Dataset(Protocol):
    """One version of a registered tabular dataset."""

    name: str
    version: int

    def to_pandas_dataframe(self) -> pd.DataFrame: ...


@runtime_checkable
class Compute(Protocol):
    """A compute target: a cluster on Azure, this machine locally."""

    name: str
    vm_size: str
    min_nodes: int
    max_nodes: int

    @property
    def max_workers(self) -> int:
        """How many trials or worker processes it runs at once."""


@runtime_checkable
class Run(Protocol):
    """A tracked run: a trial, an ensemble, the best child run."""

    id: str

    @property
    def status(self) -> str:
        """Azure ML's run status: Queued, Running, Completed, Failed, Canceled."""

    @property
    def properties(self) -> Dict[str, Any]: ...

    @property
    def tags(self) -> Dict[str, Any]: ...

    def get_properties(self) -> Dict[str, Any]: ...

    def get_metrics(self) -> Dict[str, float]: ...


@runtime_checkable
class AutoMLRun(Run, Protocol):
    """An AutoML parent run, as `Experiment.submit` returns it."""

    @property
    def primary_metric(self) -> str: ...

    def wait_for_completion(self, show_output: bool = False) -> Dict[str, Any]: ...

    def get_children(self) -> List[Run]: ...

    def get_leaderboard(self) -> pd.DataFrame:
        """One row per child run, `LEADERBOARD_COLUMNS`, best first."""

    def get_output(self, return_onnx_model: bool = False) -> Tuple[Run, Any]:
        """The best run and the fitted model (None where it cannot be loaded here), or with
        ``return_onnx_model`` its ONNX model."""

    def get_oof_predictions(self) -> Optional[pd.DataFrame]:
        """The best model's out-of-fold predictions (``y_true``, ``y_pred``, ``proba_<class>``), or None."""

    def get_training_data(self) -> pd.DataFrame: ...

    def register_model(self, model_name: Optional[str] = None, description: Optional[str] = None,
                       tags: Optional[Dict[str, str]] = None) -> "Model": ...


@runtime_checkable
class Experiment(Protocol):
    """An experiment: where AutoML runs are submitted and found again."""

    name: str

    def submit(self, config: AutoMLSettings, training_data: Any, compute_target: Any = None,
               validation_data: Any = None, show_output: bool = False, progress: str = "auto",
               test_data: Any = None) -> AutoMLRun: ...

    def get_runs(self) -> List[AutoMLRun]:
        """The AutoML runs, newest first."""

    def get_run(self, run_id: Optional[str] = "latest") -> AutoMLRun: ...


@runtime_checkable
class Model(Protocol):
    """One version of a registered model."""

    name: str
    version: int
    description: str
    tags: Dict[str, str]
    run_id: Optional[str]

    @property
    def id(self) -> str:
        """``name:version``."""

    @property
    def properties(self) -> Dict[str, Any]: ...

    def load(self) -> Any:
        """The fitted model."""


@runtime_checkable
class Service(Protocol):
    """A deployed model behind an HTTP scoring endpoint."""

    name: str

    @property
    def state(self) -> str:
        """Transitioning, Healthy, Unhealthy or Failed."""

    @property
    def scoring_uri(self) -> str: ...

    @property
    def swagger_uri(self) -> str: ...

    @property
    def auth_enabled(self) -> bool: ...

    @property
    def tags(self) -> Dict[str, str]: ...

    @property
    def model(self) -> Tuple[str, int]:
        """The served model's name and version."""

    def wait_for_deployment(self, show_output: bool = False, timeout_seconds: Optional[float] = None) -> None: ...

    def run(self, input_data: Union[str, bytes, Dict[str, Any]], timeout: float = 60) -> Dict[str, Any]: ...

    def get_keys(self) -> Tuple[str, str]: ...

    def get_logs(self, lines: Optional[int] = None) -> str:
        """The server's log; the last ``lines`` lines when given."""

    def delete(self) -> None: ...


@runtime_checkable
class Workspace(Protocol):
    """The handle `amlpipe.connect` returns."""

    backend: str

    @property
    def name(self) -> str: ...

    def summary(self) -> Dict[str, Any]: ...

    def get_or_create_experiment(self, name: str) -> Experiment: ...

    def get_experiment(self, name: str) -> Experiment: ...

    def get_or_create_compute(self, settings: ComputeSettings) -> Compute: ...

    def get_compute(self, name: str) -> Compute: ...

    def delete_compute(self, name: str) -> List[str]:
        """What was deleted (``["compute <name>"]``), or [] when there was none."""

    def register_dataset(self, source: Any = None, settings: Optional[DatasetSettings] = None,
                         dataframe: Optional[pd.DataFrame] = None) -> Dataset: ...

    def get_dataset(self, name: str, version: Version = "latest") -> Dataset: ...

    def list_datasets(self) -> List[Dataset]: ...

    def get_model(self, name: str, version: Version = "latest") -> Model: ...

    def list_models(self) -> List[Model]: ...

    def deploy(self, model: Model, service: Optional[ServiceSettings] = None,
               inference_config: Optional[InferenceSettings] = None, **options: Any) -> Service: ...

    def get_service(self, name: str) -> Service: ...

    def list_services(self) -> List[Service]: ...

    # The training pipeline (`amlpipe.pipeline`, which documents these).
    def run_pipeline(self, definition: Any, dataset: Any, allow_reuse: bool = True,
                     on_step: Optional[Callable[[str], None]] = None, **options: Any) -> Any: ...

    def publish_pipeline(self, definition: Any, description: str = "") -> Any: ...

    def list_published_pipelines(self) -> List[Any]: ...

    def submit_published_pipeline(self, name: str, version: Version = "latest", allow_reuse: bool = True,
                                  on_step: Optional[Callable[[str], None]] = None) -> Any: ...

    def schedule_pipeline(self, published: Any, recurrence: str) -> Any: ...
