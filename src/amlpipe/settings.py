"""Typed, frozen settings that mirror the Azure ML SDK v1 names: the one place a default lives.

Defaults are the lesson's values (heart-failure survival, AutoML on an AmlCompute
cluster, ACI deployment); the lesson's data facts (label, columns, the leaking column)
are the ``HEART_FAILURE_*`` values below, and only the defaults refer to them. Every value
can be overridden by the caller, either by constructing a dataclass with keywords or with
`Settings.override` and dotted keys (``"automl.experiment_timeout_minutes"``), which is what
notebooks and the CLI use (see `amlpipe.overrides`).
"""

from __future__ import annotations

import collections.abc
import dataclasses
import math
import typing
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from . import names
from .errors import ConfigError

CLASSIFICATION_METRICS = (
    "AUC_weighted",
    "accuracy",
    "norm_macro_recall",
    "average_precision_score_weighted",
    "precision_score_weighted",
)
REGRESSION_METRICS = (
    "spearman_correlation",
    "normalized_root_mean_squared_error",
    "r2_score",
    "normalized_mean_absolute_error",
)
TASKS = ("classification", "regression")

# The worked example: UCI "Heart failure clinical records" (id 519).
HEART_FAILURE_LABEL = "DEATH_EVENT"
# Its feature columns, in file order; booleans are 0/1 in the file.
HEART_FAILURE_SCHEMA: Dict[str, str] = {
    "age": "number",
    "anaemia": "boolean",
    "creatinine_phosphokinase": "number",
    "diabetes": "boolean",
    "ejection_fraction": "number",
    "high_blood_pressure": "boolean",
    "platelets": "number",
    "serum_creatinine": "number",
    "serum_sodium": "number",
    "sex": "boolean",
    "smoking": "boolean",
    "time": "number",
}
# Columns known only after the outcome. `time` is the follow-up period: patients who died
# were followed for less time (Chicco & Jurman 2020), so it leaks the label.
HEART_FAILURE_LEAKAGE: Dict[str, str] = {
    "time": "follow-up period, known only after the outcome (Chicco & Jurman 2020)",
}


@dataclass(frozen=True)
class ComputeSettings:
    """An AmlCompute cluster (`AmlCompute.provisioning_configuration`)."""

    name: str = "heart-f-cluster"
    vm_size: str = "Standard_D2_v2"
    min_nodes: int = 1
    max_nodes: int = 3

    def __post_init__(self) -> None:
        names.check("compute", self.name, "compute.name")
        _require(self.min_nodes >= 0, "compute.min_nodes", self.min_nodes, "must be 0 or more")
        _require(self.max_nodes >= 1, "compute.max_nodes", self.max_nodes, "must be 1 or more")
        _require(
            self.min_nodes <= self.max_nodes,
            "compute.min_nodes",
            self.min_nodes,
            f"must not exceed max_nodes ({self.max_nodes})",
        )


@dataclass(frozen=True)
class DatasetSettings:
    """A registered tabular dataset."""

    name: str = "heart-failure-records"
    description: str = "Heart failure clinical records (UCI id 519)"
    # "heart-failure" checks the lesson's 13 columns on registration; "any" takes any CSV.
    schema: str = "heart-failure"
    # Columns known only after the outcome, each with the reason: the data guardrail flags them.
    leakage_columns: Mapping[str, str] = field(default_factory=lambda: dict(HEART_FAILURE_LEAKAGE))

    def __post_init__(self) -> None:
        names.check("dataset", self.name, "dataset.name")
        _require(self.schema in ("heart-failure", "any"), "dataset.schema", self.schema, "must be 'heart-failure' or 'any'")


@dataclass(frozen=True)
class AutoMLSettings:
    """`AutoMLConfig` arguments, with the SDK's names.

    ``n_cross_validations=None`` and no validation data pick validation as Azure does:
    10-fold CV under 1,000 rows, 3-fold CV up to 20,000 rows, a 10% holdout beyond.
    ``seed`` seeds the folds, the search and every model (runs with ``iterations`` that end
    inside the budget repeat exactly); ``test_size`` keeps a share of the rows out of
    training to score the final model on once, as Azure's test run.
    """

    task: str = "classification"
    primary_metric: str = "AUC_weighted"
    label_column_name: str = HEART_FAILURE_LABEL
    experiment_timeout_minutes: float = 20
    max_concurrent_iterations: int = 3
    enable_early_stopping: bool = True
    featurization: str = "auto"
    debug_log: str = "automl_errors.log"
    n_cross_validations: Optional[int] = None
    validation_size: Optional[float] = None
    iterations: Optional[int] = None
    allowed_models: Optional[Tuple[str, ...]] = None
    blocked_models: Optional[Tuple[str, ...]] = None
    enable_voting_ensemble: bool = True
    enable_stack_ensemble: bool = True
    # As on Azure: only models that convert to ONNX are searched, and no stack ensemble is built.
    enable_onnx_compatible_models: bool = False
    weight_column_name: Optional[str] = None
    path: str = "."
    seed: int = 42
    test_size: Optional[float] = None

    def __post_init__(self) -> None:
        _require(self.task in TASKS, "automl.task", self.task, f"must be one of {', '.join(TASKS)}")
        metrics = CLASSIFICATION_METRICS if self.task == "classification" else REGRESSION_METRICS
        _require(
            self.primary_metric in metrics,
            "automl.primary_metric",
            self.primary_metric,
            f"must be one of {', '.join(metrics)} for {self.task}",
        )
        _require(
            0 < self.experiment_timeout_minutes < math.inf,
            "automl.experiment_timeout_minutes",
            self.experiment_timeout_minutes,
            "must be positive and finite",
        )
        _require(
            self.max_concurrent_iterations >= 1,
            "automl.max_concurrent_iterations",
            self.max_concurrent_iterations,
            "must be 1 or more",
        )
        _require(
            self.featurization in ("auto", "off"),
            "automl.featurization",
            self.featurization,
            "must be 'auto' or 'off'",
        )
        if self.n_cross_validations is not None:
            _require(
                self.n_cross_validations >= 2,
                "automl.n_cross_validations",
                self.n_cross_validations,
                "must be 2 or more",
            )
        if self.validation_size is not None:
            _require(
                0 < self.validation_size < 1,
                "automl.validation_size",
                self.validation_size,
                "must be between 0 and 1",
            )
            _require(
                self.n_cross_validations is None,
                "automl.validation_size",
                self.validation_size,
                "cannot be combined with n_cross_validations",
            )
        if self.test_size is not None:
            _require(0 < self.test_size < 1, "automl.test_size", self.test_size, "must be between 0 and 1")
        if self.iterations is not None:
            _require(self.iterations >= 1, "automl.iterations", self.iterations, "must be 1 or more")
        # Lists arrive from JSON and papermill as lists; keep the frozen value hashable.
        for name in ("allowed_models", "blocked_models"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, tuple):
                object.__setattr__(self, name, tuple(value))


@dataclass(frozen=True)
class ModelSettings:
    """`run.register_model(model_name, description, tags)`."""

    model_name: str = "heart-failure-automl"
    description: str = "aml heart failure project sdk"
    tags: Mapping[str, str] = field(default_factory=lambda: {"task": "heart-failure-prediction"})

    def __post_init__(self) -> None:
        names.check("model", self.model_name, "model.model_name")


@dataclass(frozen=True)
class ServiceSettings:
    """`AciWebservice.deploy_configuration` plus the service name."""

    name: str = "automl-hf-sdk"
    cpu_cores: float = 1
    memory_gb: float = 1
    tags: Mapping[str, str] = field(default_factory=lambda: {"type": "automl-heart-failure-prediction"})
    description: str = "Sample service for AutoML Heart Failure Prediction"
    auth_enabled: bool = False

    def __post_init__(self) -> None:
        names.check("service", self.name, "service.name")
        _require(0 < self.cpu_cores < math.inf, "service.cpu_cores", self.cpu_cores, "must be positive and finite")
        _require(0 < self.memory_gb < math.inf, "service.memory_gb", self.memory_gb, "must be positive and finite")


@dataclass(frozen=True)
class InferenceSettings:
    """`InferenceConfig`: which entry script serves the model.

    ``entry_script=None`` is amlpipe's `inference/score.py`; on the azureml backend
    ``script="automl"`` deploys AutoML's generated scoring script instead.
    """

    entry_script: Optional[str] = None
    script: str = "amlpipe"
    max_rows: int = 10_000

    def __post_init__(self) -> None:
        _require(self.script in ("amlpipe", "automl"), "inference.script", self.script, "must be 'amlpipe' or 'automl'")
        _require(self.max_rows >= 1, "inference.max_rows", self.max_rows, "must be 1 or more")


@dataclass(frozen=True)
class Settings:
    """Every step's settings together, as the notebooks and the CLI pass them around."""

    experiment_name: str = "aml-experiment"
    compute: ComputeSettings = field(default_factory=ComputeSettings)
    dataset: DatasetSettings = field(default_factory=DatasetSettings)
    automl: AutoMLSettings = field(default_factory=AutoMLSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    service: ServiceSettings = field(default_factory=ServiceSettings)
    inference: InferenceSettings = field(default_factory=InferenceSettings)

    def __post_init__(self) -> None:
        names.check("experiment", self.experiment_name, "experiment_name")

    def override(self, values: Mapping[str, Any]) -> "Settings":
        """Return a copy with dotted keys replaced, e.g. ``{"automl.iterations": 5}``.

        Values are coerced where that is unambiguous (``"2"`` for a number, ``"true"`` for a
        boolean, as they come from a command line) and refused otherwise.

        Raises:
            ConfigError: a key names no setting, or a value is of the wrong type or invalid;
                the message names the key.
        """
        groups: dict[str, dict[str, Any]] = {}
        top: dict[str, Any] = {}
        for key, value in values.items():
            group, _, name = key.partition(".")
            if not name:
                _check_field(type(self), key)
                top[key] = _coerce(key, typing.get_type_hints(type(self))[key], value)
                continue
            _check_field(type(self), group)
            group_type = type(getattr(self, group))
            _check_field(group_type, name, prefix=f"{group}.")
            groups.setdefault(group, {})[name] = _coerce(key, typing.get_type_hints(group_type)[name], value)
        replaced = {g: dataclasses.replace(getattr(self, g), **v) for g, v in groups.items()}
        return dataclasses.replace(self, **top, **replaced)


def _check_field(cls: type, name: str, prefix: str = "") -> None:
    names = [f.name for f in dataclasses.fields(cls)]
    if name not in names:
        raise ConfigError(f"unknown setting '{prefix}{name}'; known: {', '.join(prefix + n for n in names)}")


def _coerce(key: str, expected: Any, value: Any) -> Any:
    """``value`` as the type a setting declares, or a ConfigError naming ``key``."""
    origin, arguments = typing.get_origin(expected), typing.get_args(expected)
    if origin is typing.Union and type(None) in arguments:  # Optional[X]
        if value is None:
            return None
        expected = next(a for a in arguments if a is not type(None))
        origin, arguments = typing.get_origin(expected), typing.get_args(expected)
    if dataclasses.is_dataclass(expected):
        if isinstance(value, expected):
            return value
        raise ConfigError(f"setting '{key}' is a group: set its fields with '{key}.<name>', not {value!r}")
    if expected is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ConfigError(f"setting '{key}' = {value!r} must be true or false")
    if expected in (int, float):
        number = value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                number = None
        finite = isinstance(number, int) or (isinstance(number, float) and math.isfinite(number))
        if isinstance(number, bool) or not finite:
            raise ConfigError(f"setting '{key}' = {value!r} must be a finite {'whole ' if expected is int else ''}number")
        if expected is int:
            if isinstance(number, float) and not number.is_integer():
                raise ConfigError(f"setting '{key}' = {value!r} must be a whole number")
            return int(number)
        return number
    if expected is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"setting '{key}' = {value!r} must be a string")
    if origin is tuple:
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ConfigError(f"setting '{key}' = {value!r} must be a list of names, like [\"LightGBM\"]")
    if origin in (dict, typing.Mapping, collections.abc.Mapping):
        if isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
            return dict(value)
        raise ConfigError(f"setting '{key}' = {value!r} must be a mapping of strings to strings")
    return value


def _require(ok: bool, key: str, value: Any, rule: str) -> None:
    if not ok:
        raise ConfigError(f"setting '{key}' = {value!r} {rule}")


__all__ = [
    "AutoMLSettings",
    "ComputeSettings",
    "DatasetSettings",
    "ModelSettings",
    "ServiceSettings",
    "InferenceSettings",
    "Settings",
    "CLASSIFICATION_METRICS",
    "REGRESSION_METRICS",
]
