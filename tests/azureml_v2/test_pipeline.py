"""The challenge pipeline on SDK v2: `@dsl.pipeline` with the AutoML node and the register step,
validated by the SDK offline and serialised to REST; the register step's script against a real MLflow registry."""

import json
import os
import subprocess
import sys

import amlpipe
from amlpipe.backends.azureml_v2 import pipeline

SETTINGS = amlpipe.Settings().override({"automl.experiment_timeout_minutes": 15})


def built(tmp_path):
    from azure.ai.ml import Input

    job = pipeline.challenge_pipeline(SETTINGS, Input(type="mltable", path="azureml:heart-failure-records:2"),
                                      "heart-f-cluster", tmp_path)
    result = job._validate()  # the SDK's own client-side validation of a pipeline job
    assert result.passed, result.error_messages
    return job, job._to_rest_object().as_dict()["properties"]


def test_the_pipeline_is_automl_then_register(tmp_path):
    job, body = built(tmp_path)
    assert body["jobType"] == "Pipeline" and body["experimentName"] == "aml-experiment"
    assert body["settings"]["default_compute"] == "heart-f-cluster"
    assert body["inputs"]["data"] == {"uri": "azureml:heart-failure-records:2", "jobInputType": "mltable"}
    assert body["outputs"]["best_model"]["jobOutputType"] == "mlflow_model"
    train, register = body["jobs"]["train"], body["jobs"]["register_model"]
    assert train["type"] == "automl" and train["task"] == "classification"
    assert train["training_data"] == "${{parent.inputs.data}}"
    assert (train["target_column_name"], train["primary_metric"]) == ("DEATH_EVENT", "auc_weighted")
    assert train["limits"] == {"enable_early_termination": True, "max_concurrent_trials": 3, "timeout_minutes": 15}
    assert train["outputs"]["best_model"]["value"] == "${{parent.outputs.best_model}}"
    assert register["type"] == "command"
    assert register["inputs"]["model"]["value"] == "${{parent.jobs.train.outputs.best_model}}"
    assert (tmp_path / "register_step.py").is_file()


def test_the_register_step_command_names_the_model(tmp_path):
    job, _ = built(tmp_path)
    command = job.jobs["register_model"].component.command
    assert command.startswith("python register_step.py --model ${{inputs.model}} --name heart-failure-automl ")
    assert "--description 'aml heart failure project sdk'" in command


def test_submitting_sends_the_pipeline_job(cloud, azure_config, heart_csv):
    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    dataset = ws.register_dataset(heart_csv)
    compute = ws.get_or_create_compute(SETTINGS.compute)
    submitted = pipeline.submit(ws, SETTINGS, dataset, compute)
    sent = cloud.arguments("jobs.create_or_update")["job"]
    assert sent.type == "pipeline" and submitted.name == sent.name
    assert set(sent.jobs) == {"train", "register_model"}


def test_the_register_script_registers_an_mlflow_model(tmp_path):
    """register_step.py as Azure ML runs it, here against a real MLflow registry on SQLite."""
    import mlflow.sklearn
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    model = tmp_path / "best_model"
    mlflow.sklearn.save_model(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), str(model))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = subprocess.run(
        [sys.executable, str(pipeline.REGISTER_SCRIPT), "--model", str(model), "--name", "heart-failure-automl",
         "--description", "aml heart failure project sdk", "--tags", json.dumps({"task": "heart-failure-prediction"})],
        capture_output=True, text=True, env={**os.environ, "MLFLOW_TRACKING_URI": uri}, cwd=tmp_path, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "registered model heart-failure-automl version 1" in out.stdout
    version = MlflowClient(tracking_uri=uri).get_model_version("heart-failure-automl", "1")
    assert version.description == "aml heart failure project sdk"
    assert version.tags == {"task": "heart-failure-prediction"}


def test_the_pipeline_commands_say_they_do_not_run_on_this_backend_yet(cloud, azure_config):
    import pytest

    from amlpipe.pipeline import build

    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    with pytest.raises(amlpipe.ConfigError, match="run the pipeline: `amlpipe pipeline` does not run on backend 'azureml-v2'"):
        ws.run_pipeline(build(SETTINGS), dataset=None)
    with pytest.raises(amlpipe.ConfigError, match="list published pipelines"):
        ws.list_published_pipelines()
    assert not [name for name in cloud.names() if name.startswith("jobs.")]  # nothing was submitted
