"""The pipeline on the azureml backend makes the lesson's SDK calls with the lesson's values, in order."""

import logging

import pytest

import amlpipe
from amlpipe import DeploymentError, ResourceError
from amlpipe.backends.azureml import sdk

from ..conftest import LESSON_RECORD
from . import fake_sdk

pytestmark = []


def run_pipeline(azure_config, heart_csv, service=None):
    settings = amlpipe.Settings()
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    experiment = ws.get_or_create_experiment(settings.experiment_name)
    compute = ws.get_or_create_compute(settings.compute)
    dataset = ws.register_dataset(heart_csv, settings.dataset)
    run = experiment.submit(settings.automl, dataset, compute, show_output=True, progress="lines")
    run.wait_for_completion(show_output=True)
    best_run, fitted = run.get_output()
    model = run.register_model(settings.model.model_name, settings.model.description, dict(settings.model.tags))
    deployed = ws.deploy(model, service or settings.service)
    deployed.wait_for_deployment(show_output=True)
    answer = deployed.run({"data": [LESSON_RECORD]})
    return locals()


def test_the_lessons_calls_in_order(cloud, azure_config, heart_csv):
    result = run_pipeline(azure_config, heart_csv)
    expected_order = [
        "ServicePrincipalAuthentication",
        "Workspace.from_config",
        "Experiment",
        "ComputeTarget",  # not found ...
        "ComputeTarget.create",  # ... so provisioned
        "AmlCompute.wait_for_completion",
        "Workspace.datasets",
        "Datastore.upload_files",
        "Dataset.Tabular.from_delimited_files",
        "TabularDataset.register",
        "AutoMLConfig",
        "Experiment.submit",
        "Workspace.compute_targets",  # the SDK's own submit-time check of the cluster
        "Run.wait_for_completion",  # the streamed output ...
        "Run.wait_for_completion",  # ... then to the end, post-processing included
        "AutoMLRun.get_output",
        "AutoMLRun.register_model",
        "Run.get",
        "Run.get_environment",
        "InferenceConfig",
        "AciWebservice.deploy_configuration",
        "Model.deploy",
        "Webservice.wait_for_deployment",
    ]
    assert cloud.names() == expected_order
    assert result["answer"] == {"result": [False]}  # over real HTTP, from the loopback scoring server
    assert result["fitted"] is None  # no AutoML runtime here: handled, not an error
    assert result["best_run"].id == f"{result['run'].id}_3"  # the VotingEnsemble, 0.915


def test_the_lessons_values(cloud, azure_config, heart_csv):
    run_pipeline(azure_config, heart_csv)
    assert cloud.arguments("Experiment") == {"name": "aml-experiment"}
    assert cloud.arguments("ComputeTarget.create") == {
        "name": "heart-f-cluster", "vm_size": "Standard_D2_v2", "min_nodes": 1, "max_nodes": 3}
    assert cloud.arguments("AmlCompute.wait_for_completion") == {"show_output": True}
    assert cloud.arguments("TabularDataset.register")["name"] == "heart-failure-records"
    assert cloud.arguments("TabularDataset.register")["create_new_version"] is True
    automl = cloud.arguments("AutoMLConfig")
    assert automl["compute_target"].name == "heart-f-cluster"
    assert automl["training_data"].name == "heart-failure-records"
    assert {k: automl[k] for k in ("task", "label_column_name", "path", "enable_early_stopping", "featurization",
                                   "debug_log", "experiment_timeout_minutes", "max_concurrent_iterations",
                                   "primary_metric")} == {
        "task": "classification", "label_column_name": "DEATH_EVENT", "path": ".", "enable_early_stopping": True,
        "featurization": "auto", "debug_log": "automl_errors.log", "experiment_timeout_minutes": 20,
        "max_concurrent_iterations": 3, "primary_metric": "AUC_weighted"}
    waits = [args for name, args in cloud.calls if name == "Run.wait_for_completion"]
    assert [(w["show_output"], w["wait_post_processing"]) for w in waits] == [(True, False), (False, True)]
    assert cloud.arguments("AutoMLRun.register_model") == {
        "model_name": "heart-failure-automl", "description": "aml heart failure project sdk",
        "tags": {"task": "heart-failure-prediction"}}
    assert cloud.arguments("AciWebservice.deploy_configuration") == {
        "cpu_cores": 1, "memory_gb": 1, "tags": {"type": "automl-heart-failure-prediction"},
        "description": "Sample service for AutoML Heart Failure Prediction", "auth_enabled": False}
    deploy = cloud.arguments("Model.deploy")
    assert deploy["name"] == "automl-hf-sdk" and deploy["models"] == ["heart-failure-automl"]
    assert deploy["overwrite"] is True
    inference = cloud.arguments("InferenceConfig")
    assert inference["entry_script"] == "score.py" and inference["environment"] == "AzureML-AutoML"


def test_amlpipes_score_py_ships_with_what_it_imports(cloud, azure_config, heart_csv):
    from pathlib import Path

    run_pipeline(azure_config, heart_csv)
    folder = Path(cloud.arguments("InferenceConfig")["source_directory"])
    assert {"score.py", "contract.py", "serving.py", "swagger.json"} <= {p.name for p in folder.iterdir()}


def test_automls_generated_scoring_script_when_asked(cloud, azure_config, heart_csv):
    cloud.add_cluster("heart-f-cluster")
    settings = amlpipe.Settings()
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    run = ws.get_or_create_experiment("e").submit(settings.automl, ws.register_dataset(heart_csv), None)
    run.wait_for_completion()
    model = run.register_model("m")
    ws.deploy(model, settings.service, amlpipe.InferenceSettings(script="automl"))
    assert ("Run.download_file", {"run_id": model.run_id, "name": "outputs/scoring_file_v_1_0_0.py"}) in cloud.calls
    assert cloud.arguments("InferenceConfig")["entry_script"] == "scoring_file_v_1_0_0.py"


def test_existing_compute_and_dataset_are_reused(cloud, azure_config, heart_csv):
    cloud.add_cluster("heart-f-cluster")
    for _ in range(4):
        fake_sdk.registered(cloud, "heart-failure-records", "")
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    compute = ws.get_or_create_compute(amlpipe.ComputeSettings())
    dataset = ws.register_dataset(heart_csv)
    assert compute.name == "heart-f-cluster" and dataset.version == 4
    assert "ComputeTarget.create" not in cloud.names()
    assert "TabularDataset.register" not in cloud.names()


def test_a_compute_of_the_wrong_type_is_an_error(cloud, azure_config):
    cloud.computes["heart-f-cluster"] = fake_sdk.compute_instance(cloud, "heart-f-cluster")
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    with pytest.raises(ResourceError, match="'heart-f-cluster' exists but is a ComputeInstance, not an AmlCompute"):
        ws.get_or_create_compute(amlpipe.ComputeSettings())


def test_a_dataframe_is_registered_as_such(cloud, azure_config, heart_csv):
    import pandas as pd

    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    frame = pd.read_csv(heart_csv).drop(columns=["time"])
    dataset = ws.register_dataset(dataframe=frame, settings=amlpipe.DatasetSettings(schema="any"))
    assert dataset.name == "heart-failure-records"
    assert cloud.arguments("Dataset.Tabular.register_pandas_dataframe")["rows"] == 299


def test_a_failed_deployment_raises_with_the_logs(cloud, azure_config, heart_csv):
    cloud.deployment_fails = True
    with pytest.raises(DeploymentError, match="(?s)failed to deploy.*container logs.*amlpipe_missing") as info:
        run_pipeline(azure_config, heart_csv)
    assert isinstance(info.value.__cause__, sdk.WebserviceException)


def test_reattach_to_a_run_by_id_and_to_the_latest(cloud, azure_config, heart_csv):
    first = run_pipeline(azure_config, heart_csv)["run"]
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    experiment = ws.get_experiment("aml-experiment")
    assert experiment.get_run(first.id).id == first.id
    assert ("AutoMLRun", {"run_id": first.id}) in cloud.calls
    assert experiment.get_run().id == first.id
    assert ("Experiment.get_runs", {"type": "automl"}) in cloud.calls
    with pytest.raises(ResourceError, match="run 'nope'"):
        experiment.get_run("nope")


def test_widget_only_in_a_notebook_a_person_runs(cloud, azure_config, heart_csv, monkeypatch):
    from amlpipe import environment

    cloud.add_cluster("heart-f-cluster")
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    dataset = ws.register_dataset(heart_csv)
    experiment = ws.get_or_create_experiment("e")
    experiment.submit(amlpipe.AutoMLSettings(), dataset, None, show_output=True)
    assert "RunDetails.show" not in cloud.names()  # pytest is no notebook
    monkeypatch.setattr(environment, "interactive_notebook", lambda: True)
    experiment.submit(amlpipe.AutoMLSettings(), dataset, None, show_output=True)
    assert "RunDetails.show" in cloud.names()
    cloud.calls.clear()
    experiment.submit(amlpipe.AutoMLSettings(), dataset, None, show_output=True, progress="lines")
    assert "RunDetails.show" not in cloud.names()


def test_interactive_notebook_is_false_under_ci(monkeypatch):
    from amlpipe.environment import interactive_notebook

    monkeypatch.setenv("CI", "true")
    assert interactive_notebook() is False


def test_secrets_stay_out_of_logs_and_calls(cloud, azure_config, heart_csv, caplog):
    from .conftest import ScoringHandler

    caplog.set_level(logging.DEBUG)
    result = run_pipeline(azure_config, heart_csv, amlpipe.ServiceSettings(auth_enabled=True))
    assert "s3cr3t-value" not in caplog.text
    assert "s3cr3t-value" not in repr(cloud.calls)
    assert result["deployed"].get_keys() == ("primary-secret", "secondary-secret")
    assert ScoringHandler.requests[-1]["authorization"] == "Bearer primary-secret"  # the key went to the service ...
    assert "primary-secret" not in caplog.text  # ... and nowhere else


def test_a_mistyped_experiment_name_is_an_error_not_a_new_empty_experiment(cloud, azure_config):
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    ws.get_or_create_experiment("aml-experiment")
    assert ws.get_experiment("aml-experiment").name == "aml-experiment"
    with pytest.raises(ResourceError, match="experiment 'aml-experiemnt' not found in workspace ws"):
        ws.get_experiment("aml-experiemnt")
    assert cloud.experiments == {"aml-experiment"}


def onnx_run(cloud, azure_config, heart_csv, enable_onnx_compatible_models=True):
    """A completed run submitted with (or without) enable_onnx_compatible_models."""
    cloud.add_cluster("heart-f-cluster")
    settings = amlpipe.Settings().override({"automl.enable_onnx_compatible_models": enable_onnx_compatible_models})
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    run = ws.get_or_create_experiment("e").submit(settings.automl, ws.register_dataset(heart_csv), None)
    run.wait_for_completion()
    assert cloud.arguments("AutoMLConfig")["enable_onnx_compatible_models"] is enable_onnx_compatible_models
    return run


def test_get_output_return_onnx_model_takes_the_best_child_that_converted(cloud, azure_config, heart_csv,
                                                                         monkeypatch, tmp_path):
    """As `AutoMLRun.get_output(return_onnx_model=True)`: the children in the primary metric's order, the first
    with outputs/model.onnx (here not the VotingEnsemble, whose conversion failed), downloaded and loaded."""
    monkeypatch.chdir(tmp_path)  # the SDK downloads the model into the working folder, then removes it
    cloud.onnx_conversion_fails = {"VotingEnsemble"}
    cloud.automl_runtime_installed = True
    run = onnx_run(cloud, azure_config, heart_csv)
    best_run, onnx_model = run.get_output(return_onnx_model=True)
    assert cloud.arguments("AutoMLRun.get_output") == {"run_id": run.id, "iteration": None, "metric": None,
                                                       "return_onnx_model": True, "return_split_onnx_model": None}
    assert best_run.id == f"{run.id}_1" and onnx_model.graph.name == "XGBoostClassifier"  # 0.902, after 0.915
    assert ("Run.download_file", {"run_id": best_run.id, "name": "outputs/model.onnx"}) in cloud.calls
    assert not list(tmp_path.glob("model_onnx_*"))  # downloaded, loaded, removed
    # without the flag, the lesson's call: get_output() and no model object without the runtime
    cloud.calls.clear()
    best_run, fitted = run.get_output()
    assert cloud.arguments("AutoMLRun.get_output")["return_onnx_model"] is False
    assert best_run.id == f"{run.id}_3" and fitted is None


def test_get_output_return_onnx_model_errors_name_the_setting_and_the_runtime(cloud, azure_config, heart_csv,
                                                                             monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    run = onnx_run(cloud, azure_config, heart_csv, enable_onnx_compatible_models=False)
    with pytest.raises(ResourceError, match="ONNX compatibility disabled.*automl.enable_onnx_compatible_models=True"):
        run.get_output(return_onnx_model=True)
    cloud.calls.clear()
    run = onnx_run(cloud, azure_config, heart_csv)  # converted, but the runtime that loads the model is not here
    with pytest.raises(amlpipe.ConfigError, match="azureml-train-automl-runtime"):
        run.get_output(return_onnx_model=True)
    assert not list(tmp_path.glob("model_onnx_*"))  # downloaded, loaded, removed
