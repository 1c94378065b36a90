"""Names and settings are checked at the settings boundary, before any work, with Azure's own rules."""

import math

import pytest

from amlpipe import (
    AutoMLSettings, ComputeSettings, ConfigError, DatasetSettings, ModelSettings, ServiceSettings, Settings, names,
)


@pytest.mark.parametrize("kind, name", [
    ("service", "automl-hf-sdk"), ("service", "abc"), ("service", "a" * 32),
    ("experiment", "aml-experiment"), ("experiment", "Exp_1"), ("compute", "heart-f-cluster"), ("compute", "c1"),
    ("model", "heart-failure-automl"), ("model", "model.v2_final"), ("dataset", "heart-failure-records"),
])
def test_azure_names_pass(kind, name):
    assert names.check(kind, name) == name


@pytest.mark.parametrize("kind, name", [
    ("service", ".."), ("service", ""), ("service", "../../x"), ("service", "team/svc"), ("service", "ab"),
    ("service", "a" * 33), ("service", "Upper"), ("service", "svc-"), ("service", "1svc"),
    ("experiment", "../../escape"), ("experiment", "ab"), ("experiment", "_exp"), ("experiment", "a b c"),
    ("compute", "x"), ("compute", "a" * 17), ("compute", "c/d"),
    ("model", "team/model"), ("model", "it's"), ("model", ".hidden"), ("model", ""), ("model", "m\n"),
    ("dataset", "../data"), ("dataset", "d/e"), ("dataset", ".."), ("service", None), ("model", 5),
])
def test_bad_names_are_refused_naming_the_rule(kind, name):
    with pytest.raises(ConfigError, match=f"not a valid {kind} name: use "):
        names.check(kind, name)


@pytest.mark.parametrize("build, setting", [
    (lambda: ServiceSettings(name=".."), "service.name"),
    (lambda: ServiceSettings(name=""), "service.name"),
    (lambda: ServiceSettings(name="team/svc"), "service.name"),
    (lambda: ModelSettings(model_name="team/model"), "model.model_name"),
    (lambda: ModelSettings(model_name="it's"), "model.model_name"),
    (lambda: Settings(experiment_name="../../escape"), "experiment_name"),
    (lambda: ComputeSettings(name="../c"), "compute.name"),
    (lambda: DatasetSettings(name="../d"), "dataset.name"),
    (lambda: Settings().override({"model.model_name": "team/model"}), "model.model_name"),
])
def test_settings_refuse_bad_names_when_built(build, setting):
    with pytest.raises(ConfigError, match=f"setting '{setting}'"):
        build()


@pytest.mark.parametrize("values, expected", [
    ({"automl.experiment_timeout_minutes": "2"}, ("automl", "experiment_timeout_minutes", 2.0)),
    ({"automl.max_concurrent_iterations": "2"}, ("automl", "max_concurrent_iterations", 2)),
    ({"automl.iterations": 4.0}, ("automl", "iterations", 4)),
    ({"automl.enable_early_stopping": "false"}, ("automl", "enable_early_stopping", False)),
    ({"automl.allowed_models": ["LightGBM"]}, ("automl", "allowed_models", ("LightGBM",))),
    ({"automl.iterations": None}, ("automl", "iterations", None)),
    ({"inference.max_rows": "500"}, ("inference", "max_rows", 500)),
])
def test_override_coerces_what_is_unambiguous(values, expected):
    group, name, value = expected
    got = getattr(getattr(Settings().override(values), group), name)
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize("values, key", [
    ({"automl.experiment_timeout_minutes": "abc"}, "automl.experiment_timeout_minutes"),
    ({"automl.experiment_timeout_minutes": math.inf}, "automl.experiment_timeout_minutes"),
    ({"automl.experiment_timeout_minutes": "inf"}, "automl.experiment_timeout_minutes"),
    ({"automl.experiment_timeout_minutes": True}, "automl.experiment_timeout_minutes"),
    ({"automl": 1}, "automl"),
    ({"inference.max_rows": 1.5}, "inference.max_rows"),
    ({"automl.max_concurrent_iterations": "2.5"}, "automl.max_concurrent_iterations"),
    ({"automl.allowed_models": "LightGBM"}, "automl.allowed_models"),
    ({"automl.allowed_models": [1]}, "automl.allowed_models"),
    ({"automl.enable_early_stopping": "yes please"}, "automl.enable_early_stopping"),
    ({"automl.task": 3}, "automl.task"),
    ({"service.tags": "x"}, "service.tags"),
    ({"service.cpu_cores": math.nan}, "service.cpu_cores"),
    ({"experiment_name": 12345}, "experiment_name"),
])
def test_override_refuses_the_rest_by_key(values, key):
    with pytest.raises(ConfigError, match=f"setting '{key}'"):
        Settings().override(values)


def test_infinite_budget_is_refused_when_built():
    with pytest.raises(ConfigError, match="automl.experiment_timeout_minutes"):
        AutoMLSettings(experiment_timeout_minutes=math.inf)
