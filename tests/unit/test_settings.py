import dataclasses

import pytest

from amlpipe import AutoMLSettings, ComputeSettings, ConfigError, ServiceSettings, Settings


def test_defaults_are_the_lessons_values():
    s = Settings()
    assert s.experiment_name == "aml-experiment"
    assert (s.compute.name, s.compute.vm_size, s.compute.min_nodes, s.compute.max_nodes) == (
        "heart-f-cluster", "Standard_D2_v2", 1, 3)
    assert s.dataset.name == "heart-failure-records"
    a = s.automl
    assert (a.task, a.primary_metric, a.label_column_name) == ("classification", "AUC_weighted", "DEATH_EVENT")
    assert (a.experiment_timeout_minutes, a.max_concurrent_iterations) == (20, 3)
    assert a.enable_early_stopping is True and a.featurization == "auto" and a.debug_log == "automl_errors.log"
    assert s.model.description == "aml heart failure project sdk"
    sv = s.service
    assert (sv.name, sv.cpu_cores, sv.memory_gb) == ("automl-hf-sdk", 1, 1)
    assert sv.tags == {"type": "automl-heart-failure-prediction"}
    assert sv.description == "Sample service for AutoML Heart Failure Prediction"


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Settings().automl.task = "regression"


def test_override_with_dotted_keys_changes_only_those():
    s = Settings().override({"automl.experiment_timeout_minutes": 0.5, "experiment_name": "exp-x", "compute.max_nodes": 1})
    assert s.automl.experiment_timeout_minutes == 0.5
    assert s.experiment_name == "exp-x"
    assert s.compute.max_nodes == 1
    assert s.automl.primary_metric == "AUC_weighted"
    assert Settings().automl.experiment_timeout_minutes == 20


@pytest.mark.parametrize("key", ["automl.nope", "nope", "nope.task"])
def test_unknown_override_key_is_named(key):
    with pytest.raises(ConfigError, match=key.split(".")[-1] if key != "nope.task" else "nope"):
        Settings().override({key: 1})


@pytest.mark.parametrize(
    "kwargs, named",
    [
        ({"task": "clustering"}, "automl.task"),
        ({"primary_metric": "r2_score"}, "automl.primary_metric"),
        ({"experiment_timeout_minutes": 0}, "automl.experiment_timeout_minutes"),
        ({"max_concurrent_iterations": 0}, "automl.max_concurrent_iterations"),
        ({"featurization": "custom"}, "automl.featurization"),
        ({"n_cross_validations": 1}, "automl.n_cross_validations"),
        ({"validation_size": 1.5}, "automl.validation_size"),
        ({"iterations": 0}, "automl.iterations"),
    ],
)
def test_invalid_automl_values_name_the_setting(kwargs, named):
    with pytest.raises(ConfigError, match=named):
        AutoMLSettings(**kwargs)


def test_regression_takes_regression_metrics():
    assert AutoMLSettings(task="regression", primary_metric="r2_score").primary_metric == "r2_score"


def test_model_lists_from_json_become_tuples():
    assert AutoMLSettings(allowed_models=["RandomForest"]).allowed_models == ("RandomForest",)


def test_compute_and_service_checks():
    with pytest.raises(ConfigError, match="compute.min_nodes"):
        ComputeSettings(min_nodes=4, max_nodes=3)
    with pytest.raises(ConfigError, match="service.memory_gb"):
        ServiceSettings(memory_gb=0)
