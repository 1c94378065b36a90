"""Submitting AutoML: Azure's rules checked first, the SDK's own submit-time validation, always the cluster."""

import pytest

import amlpipe
from amlpipe import ConfigError, ResourceError
from amlpipe.backends.azureml import auth, sdk
from amlpipe.backends.azureml.experiment import automl_config_arguments
from amlpipe.cli import main


@pytest.fixture
def ready(cloud, azure_config, heart_csv):
    """A workspace with the cluster provisioned and the dataset registered."""
    cloud.add_cluster("heart-f-cluster")
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    return ws, ws.register_dataset(heart_csv), ws.get_compute("heart-f-cluster")


def test_the_sdk_gets_a_real_automlconfig_with_a_real_tabular_dataset_and_cluster(cloud, ready):
    from azureml.core.compute import AmlCompute
    from azureml.data import TabularDataset
    from azureml.train.automl import AutoMLConfig

    ws, dataset, compute = ready
    ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(), dataset, compute)
    config = cloud.arguments("Experiment.submit")["config"]
    assert isinstance(config, AutoMLConfig)
    assert isinstance(config.user_settings["training_data"], TabularDataset)
    assert isinstance(config.user_settings["compute_target"], AmlCompute)
    # The SDK's settings validation ran and kept the cluster's VM size, as before a real submit.
    assert config.user_settings["vm_type"] == "STANDARD_D2_V2"


def test_the_floor_matches_the_sdks():
    from azureml.automl.core.automl_base_settings import AutoMLBaseSettings

    from amlpipe.backends.azureml.limits import MIN_EXPERIMENT_TIMEOUT_MINUTES

    assert MIN_EXPERIMENT_TIMEOUT_MINUTES == AutoMLBaseSettings.MIN_EXPTIMEOUT_MINUTES


def test_the_sdk_itself_refuses_a_short_budget_at_submit(cloud, ready):
    """What amlpipe's check spares the user: the SDK's refusal, in hours, only once submitted."""
    from azureml.automl.core.shared.exceptions import ConfigException

    ws, dataset, compute = ready
    settings = amlpipe.AutoMLSettings(experiment_timeout_minutes=14)
    config = sdk.AutoMLConfig(**automl_config_arguments(settings, dataset.sdk_dataset, compute.sdk_target))
    experiment = ws.get_or_create_experiment("e").sdk_experiment
    with pytest.raises(ConfigException, match="experiment_timeout_hours"):
        experiment.submit(config)


def test_a_short_budget_is_refused_before_anything_is_built(cloud, ready):
    ws, dataset, compute = ready
    with pytest.raises(ConfigError, match="'automl.experiment_timeout_minutes' = 14.*experiment_timeout_minutes of at least 15"):
        ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(experiment_timeout_minutes=14), dataset, compute)
    assert "AutoMLConfig" not in cloud.names() and "Experiment.submit" not in cloud.names()


def test_a_cluster_still_provisioning_is_the_sdks_compute_not_ready(cloud, ready):
    ws, dataset, compute = ready
    cloud.add_cluster("heart-f-cluster", state="Creating")
    with pytest.raises(ConfigError, match="(?s)Azure AutoML refused a setting: .*ComputeNotReady") as info:
        ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(), dataset, compute)
    assert type(info.value.__cause__).__name__ == "ConfigException"


def test_without_a_compute_target_the_cluster_is_passed_never_none(cloud, ready):
    ws, dataset, _ = ready
    ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(), dataset, None)
    target = cloud.arguments("AutoMLConfig")["compute_target"]
    assert target is not None and target.name == "heart-f-cluster"  # None would train in this process


def test_without_a_compute_target_and_no_cluster_nothing_is_submitted(cloud, azure_config, heart_csv):
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    dataset = ws.register_dataset(heart_csv)
    with pytest.raises(ResourceError, match="compute 'heart-f-cluster' not found"):
        ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(), dataset, None)
    assert "Experiment.submit" not in cloud.names()


@pytest.fixture
def no_azure_no_notebooks(monkeypatch):
    """Fails the test if a notebook runs or a credential is looked for."""
    import amlpipe.notebook_runner

    def forbidden(*args, **kwargs):
        raise AssertionError("must not be reached")

    monkeypatch.setattr(amlpipe.notebook_runner, "run_pipeline", forbidden)
    monkeypatch.setattr(auth, "resolve", forbidden)


@pytest.mark.parametrize("command", [["run"], ["train", "--progress", "none"]])
def test_cli_refuses_a_budget_under_the_floor_at_once(azure_config, capsys, no_azure_no_notebooks, command):
    code = main([*command, "--backend", "azureml", "--config", str(azure_config), "--budget-minutes", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert "experiment_timeout_minutes" in err and "at least 15" in err


def test_cli_run_on_azureml_uses_the_lessons_20_minutes(azure_config, monkeypatch, capsys):
    import amlpipe.notebook_runner

    from amlpipe.overrides import PARAMETER, load_settings

    passed = {}
    monkeypatch.setattr(amlpipe.notebook_runner, "run_pipeline",
                        lambda parameters, output, **kwargs: passed.update(parameters) or [])
    assert main(["run", "--backend", "azureml", "--config", str(azure_config), "--output", "unused"]) == 0
    assert passed["BACKEND"] == "azureml"
    assert load_settings(passed[PARAMETER]).automl.experiment_timeout_minutes == 20  # what the notebooks will use
