"""The SDK v2's real entities, built offline from amlpipe's settings, validated by the SDK's own schemas
(`_to_dict`) and serialised to the REST bodies the service receives (`_to_rest_object`)."""

import dataclasses

import pandas as pd
import pytest

import amlpipe
from amlpipe import ConfigError, DeploymentError
from amlpipe.backends.azureml_v2 import compute, dataset, deployment, experiment, model


def rest(entity, **kwargs):
    entity._to_dict()  # the SDK's marshmallow schema: raises on a value the service would refuse
    return entity._to_rest_object(**kwargs).as_dict()


def training_input():
    from azure.ai.ml import Input

    return Input(type="mltable", path="azureml:heart-failure-records:3")


def test_aml_compute_from_the_lessons_settings():
    body = rest(compute.aml_compute(amlpipe.ComputeSettings()))["properties"]
    assert body["computeType"] == "AmlCompute"
    assert body["properties"]["vmSize"] == "Standard_D2_v2"
    assert body["properties"]["scaleSettings"]["minNodeCount"] == 1
    assert body["properties"]["scaleSettings"]["maxNodeCount"] == 3


def test_mltable_data_asset_holds_the_csv_and_its_hash(heart_csv, tmp_path):
    import mltable

    frame = pd.read_csv(heart_csv)
    asset = dataset.data_asset(frame, amlpipe.DatasetSettings(), 4, tmp_path / "table", str(heart_csv))
    body = rest(asset)["properties"]
    assert body["dataType"] == "mltable" and body["dataUri"] == str(tmp_path / "table")
    assert asset.version == "4"
    assert body["tags"]["amlpipe.sha256"] == amlpipe.data.sha256_of_frame(frame)
    assert body["tags"]["amlpipe.rows"] == "299"
    assert (tmp_path / "table" / "MLTable").is_file()
    loaded = mltable.load(str(tmp_path / "table")).to_pandas_dataframe()
    assert loaded.shape == (299, 13) and loaded["anaemia"].dtype == bool  # MLTable infers the lesson's booleans


def test_the_lessons_automl_job():
    job = experiment.automl_job(amlpipe.Settings().override({"automl.experiment_timeout_minutes": 20}).automl,
                                training_input(), "heart-f-cluster", "aml-experiment")
    body = rest(job)["properties"]
    task = body["taskDetails"]
    assert (body["jobType"], body["experimentName"], body["computeId"]) == ("AutoML", "aml-experiment", "heart-f-cluster")
    assert task["taskType"] == "Classification" and task["primaryMetric"] == "AUCWeighted"
    assert task["targetColumnName"] == "DEATH_EVENT"
    assert task["trainingData"] == {"uri": "azureml:heart-failure-records:3", "jobInputType": "mltable"}
    assert task["limitSettings"]["timeout"] == "PT20M"
    assert task["limitSettings"]["maxConcurrentTrials"] == 3
    assert task["limitSettings"]["enableEarlyTermination"] is True
    assert task["featurizationSettings"]["mode"] == "auto"
    training = task["trainingSettings"]
    assert training["enableVoteEnsemble"] is True and training["enableStackEnsemble"] is True
    assert training["enableModelExplainability"] is True  # v1's default, asked for explicitly in v2


def test_optional_settings_reach_the_job():
    settings = amlpipe.AutoMLSettings(
        experiment_timeout_minutes=30, n_cross_validations=5, iterations=12, blocked_models=["KNN", "LightGBM"],
        weight_column_name="w", enable_stack_ensemble=False, featurization="off", primary_metric="accuracy",
    )
    task = rest(experiment.automl_job(settings, training_input(), "c", "e"))["properties"]["taskDetails"]
    assert task["nCrossValidations"] == {"value": 5, "mode": "Custom"}
    assert task["limitSettings"]["maxTrials"] == 12 and task["limitSettings"]["timeout"] == "PT30M"
    assert task["trainingSettings"]["blockedTrainingAlgorithms"] == ["KNN", "LightGBM"]
    assert task["trainingSettings"]["enableStackEnsemble"] is False
    assert task["featurizationSettings"]["mode"] == "off"
    assert task["weightColumnName"] == "w" and task["primaryMetric"] == "Accuracy"


def test_validation_and_test_sizes_allowed_models_and_onnx():
    settings = amlpipe.AutoMLSettings(experiment_timeout_minutes=15, validation_size=0.2, test_size=0.1,
                                      allowed_models=["LogisticRegression"], enable_onnx_compatible_models=True)
    task = rest(experiment.automl_job(settings, training_input(), "c", "e"))["properties"]["taskDetails"]
    assert task["validationDataSize"] == 0.2 and task["testDataSize"] == 0.1
    assert task["trainingSettings"]["allowedTrainingAlgorithms"] == ["LogisticRegression"]
    assert task["trainingSettings"]["enableOnnxCompatibleModels"] is True


def test_every_automl_setting_is_mapped_or_refused():
    fields = {f.name for f in dataclasses.fields(amlpipe.AutoMLSettings)}
    assert fields == set(experiment.V2_CALLS) | set(experiment.NOT_IN_V2)
    assert not set(experiment.V2_CALLS) & set(experiment.NOT_IN_V2)


@pytest.mark.parametrize("override, says", [
    ({"debug_log": "my.log"}, "'automl.debug_log' = 'my.log' has no SDK v2 equivalent"),
    ({"path": "project"}, "'automl.path' = 'project' has no SDK v2 equivalent"),
    ({"seed": 7}, "'automl.seed' = 7 has no SDK v2 equivalent"),
    ({"experiment_timeout_minutes": 0.5}, "'automl.experiment_timeout_minutes' = 0.5 must be whole minutes, at least 15"),
    ({"experiment_timeout_minutes": 14}, "'automl.experiment_timeout_minutes' = 14 must be whole minutes, at least 15"),
    ({"experiment_timeout_minutes": 15.5}, "= 15.5 must be whole minutes"),
])
def test_settings_v2_cannot_honour_are_refused_by_name(override, says):
    settings = dataclasses.replace(amlpipe.AutoMLSettings(experiment_timeout_minutes=15), **override)
    with pytest.raises(ConfigError, match=says.replace("(", r"\(").replace(")", r"\)")):
        experiment.automl_job(settings, training_input(), "c", "e")


def test_regression_uses_automl_regression():
    settings = amlpipe.AutoMLSettings(task="regression", primary_metric="r2_score", experiment_timeout_minutes=15)
    task = rest(experiment.automl_job(settings, training_input(), "c", "e"))["properties"]["taskDetails"]
    assert task["taskType"] == "Regression" and task["primaryMetric"] == "R2Score"


def test_mlflow_model_of_the_best_trial():
    entity = model.mlflow_model("run_7", "heart-failure-automl", "aml heart failure project sdk",
                                {"task": "heart-failure-prediction"})
    body = rest(entity)["properties"]
    assert body["modelType"] == "mlflow_model"
    assert body["modelUri"] == "azureml://jobs/run_7/outputs/artifacts/paths/outputs/mlflow-model/"
    assert body["tags"] == {"task": "heart-failure-prediction", "amlpipe.run_id": "run_7"}


def test_managed_online_endpoint_always_has_key_auth(caplog):
    entity = deployment.endpoint_entity(amlpipe.ServiceSettings(), "heart-failure-automl:2")
    body = entity._to_rest_online_endpoint("westeurope").as_dict()
    assert body["properties"]["authMode"] == "Key"
    assert body["tags"] == {"type": "automl-heart-failure-prediction", "amlpipe.model": "heart-failure-automl:2"}
    assert "always need a key" in caplog.text  # auth_enabled=False cannot be honoured: said, not dropped


def test_managed_online_deployment_serves_amlpipes_score_py(tmp_path):
    from azure.ai.ml.entities import Environment

    environment = Environment(image=deployment.INFERENCE_IMAGE, conda_file={"dependencies": ["python=3.11"]})
    entity = deployment.deployment_entity(amlpipe.ServiceSettings(), "azureml:heart-failure-automl:2", tmp_path,
                                          environment, amlpipe.InferenceSettings())
    entity._to_dict()
    body = entity._to_rest_object(location="westeurope").as_dict()["properties"]
    assert body["codeConfiguration"] == {"codeId": str(tmp_path), "scoringScript": "score.py"}
    assert body["model"] == "azureml:heart-failure-automl:2"
    assert body["instanceType"] == "Standard_DS1_v2" and body["endpointComputeType"] == "Managed"
    assert entity.instance_count == 1 and entity.endpoint_name == "automl-hf-sdk"


@pytest.mark.parametrize("cores, memory, expected", [(1, 1, "Standard_DS1_v2"), (1, 4, "Standard_DS2_v2"),
                                                     (3, 1, "Standard_DS3_v2"), (16, 56, "Standard_DS5_v2")])
def test_instance_type_is_the_smallest_that_fits(cores, memory, expected):
    assert deployment.instance_type(amlpipe.ServiceSettings(cpu_cores=cores, memory_gb=memory)) == expected


def test_no_instance_type_big_enough_is_an_error():
    with pytest.raises(DeploymentError, match="no managed online endpoint size .* 64 cores"):
        deployment.instance_type(amlpipe.ServiceSettings(cpu_cores=64))


def test_serving_environment_adds_the_inference_server(tmp_path):
    (tmp_path / "conda.yaml").write_text("name: env\ndependencies:\n- python=3.11\n- pip:\n  - scikit-learn==1.5\n")
    env = deployment.serving_environment(tmp_path, tmp_path)
    assert env.image == deployment.INFERENCE_IMAGE
    assert env.conda_file["dependencies"][1]["pip"] == ["scikit-learn==1.5", "azureml-inference-server-http"]
