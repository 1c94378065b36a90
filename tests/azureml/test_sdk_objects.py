"""The real SDK's configuration objects, built offline from amlpipe's settings."""

import pandas as pd
import pytest

import amlpipe
from amlpipe.backends.azureml.compute import provisioning_configuration
from amlpipe.backends.azureml.deployment import aci_deploy_configuration
from amlpipe.backends.azureml.experiment import automl_config_arguments


def test_automl_config_holds_the_lessons_settings(heart_csv):
    from azureml.train.automl import AutoMLConfig

    settings = amlpipe.Settings().automl
    config = AutoMLConfig(**automl_config_arguments(settings, pd.read_csv(heart_csv), "heart-f-cluster"))
    held = config.user_settings
    assert held["primary_metric"] == "AUC_weighted"
    assert held["experiment_timeout_minutes"] == 20
    assert held["max_concurrent_iterations"] == 3
    assert held["enable_early_stopping"] is True
    assert held["featurization"] == "auto"
    assert held["debug_log"] == "automl_errors.log"
    assert held["label_column_name"] == "DEATH_EVENT"
    assert held["compute_target"] == "heart-f-cluster"
    assert held["enable_voting_ensemble"] is True


def test_optional_automl_settings_pass_through(heart_csv):
    from azureml.train.automl import AutoMLConfig

    settings = amlpipe.AutoMLSettings(n_cross_validations=5, blocked_models=["KNN"], iterations=30,
                                      enable_onnx_compatible_models=True)
    held = AutoMLConfig(**automl_config_arguments(settings, pd.read_csv(heart_csv), "c")).user_settings
    assert held["n_cross_validations"] == 5 and held["iterations"] == 30
    assert held["blocked_models"] == ["KNN"]
    assert held["enable_onnx_compatible_models"] is True


def test_provisioning_configuration():
    config = provisioning_configuration(amlpipe.ComputeSettings())
    assert config.vm_size == "Standard_D2_v2"
    assert (config.scale_settings.minimum_node_count, config.scale_settings.maximum_node_count) == (1, 3)


def test_aci_deploy_configuration():
    config = aci_deploy_configuration(amlpipe.ServiceSettings(auth_enabled=True))
    assert (config.cpu_cores, config.memory_gb, config.auth_enabled) == (1, 1, True)
    assert config.tags == {"type": "automl-heart-failure-prediction"}
    assert config.description == "Sample service for AutoML Heart Failure Prediction"


def test_inference_config_with_amlpipes_entry_script(tmp_path, trained_metadata):
    from azureml.core import Environment
    from azureml.core.model import InferenceConfig

    from amlpipe.inference import write_source_directory

    entry = write_source_directory(tmp_path, trained_metadata)
    config = InferenceConfig(entry_script=entry.name, source_directory=str(tmp_path), environment=Environment("env"))
    assert config.entry_script == "score.py" and config.source_directory == str(tmp_path)
    assert (tmp_path / "contract.py").exists() and (tmp_path / "serving.py").exists()


@pytest.fixture
def trained_metadata():
    from amlpipe.data import HEART_FAILURE_SCHEMA

    return {"input_schema": HEART_FAILURE_SCHEMA, "classes": [0, 1], "algorithm": "VotingEnsemble", "task": "classification"}
