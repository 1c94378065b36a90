"""The workflow on the azureml-v2 backend against a recording fake of `MLClient`: the calls in order,
reuse, azure-core's exceptions translated, and a real endpoint process answering with the key."""

import logging

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

import amlpipe
from amlpipe import ConfigError, DeploymentError, ResourceError, client

from ..conftest import LESSON_RECORD
from .conftest import fake_azure

SETTINGS = amlpipe.Settings().override({"automl.experiment_timeout_minutes": 15})


def train(azure_config, heart_csv):
    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    experiment = ws.get_or_create_experiment(SETTINGS.experiment_name)
    compute = ws.get_or_create_compute(SETTINGS.compute)
    dataset = ws.register_dataset(heart_csv, SETTINGS.dataset)
    run = experiment.submit(SETTINGS.automl, dataset, compute, show_output=True)
    run.wait_for_completion(show_output=True)
    return ws, run


@pytest.fixture(scope="module")
def deployed(heart_csv, tmp_path_factory):
    """One fake cloud where the whole workflow ran, up to a deployed endpoint (a real server process)."""
    with fake_azure(tmp_path_factory.mktemp("v2")) as (cloud, azure_config):
        ws, run = train(azure_config, heart_csv)
        best_run, fitted = run.get_output()
        model = run.register_model(SETTINGS.model.model_name, SETTINGS.model.description, dict(SETTINGS.model.tags))
        service = ws.deploy(model, SETTINGS.service)
        service.wait_for_deployment()
        yield {"cloud": cloud, "calls": cloud.names(), "config": azure_config, "ws": ws, "run": run,
               "best_run": best_run, "fitted": fitted, "model": model, "service": service}


def test_the_workflow_in_order_with_a_real_endpoint(deployed):
    assert deployed["calls"] == [
        "MLClient.from_config",
        "workspaces.get",  # the MLflow tracking URI: the experiment is an MLflow experiment
        "compute.get",  # not found ...
        "compute.begin_create_or_update",  # ... so created
        "data.get",  # no version yet ...
        "data.create_or_update",  # ... so version 1 uploaded
        "jobs.create_or_update",
        "jobs.stream",
        "jobs.get",  # the status after the stream
        "jobs.get",  # get_output: the best trial from the job's automl_best_child_run_id tag, no MLflow
        "jobs.get",  # register_model: the same
        "models.create_or_update",
        "models.download",  # the MLflow model's signature and conda.yaml
        "online_endpoints.begin_create_or_update",
        "online_deployments.begin_create_or_update",
        "online_endpoints.begin_create_or_update",  # traffic 100% to the deployment
        "online_endpoints.get",
    ]
    service = deployed["service"]
    assert service.state == "Healthy" and service.scoring_uri.startswith("http://127.0.0.1:")
    assert service.run({"data": [LESSON_RECORD]}) == {"result": [False]}
    assert deployed["fitted"] is None and deployed["best_run"].id == deployed["model"].run_id
    status, body = client.post_unchecked(service, {"data": [{**LESSON_RECORD, "age": "sixty"}]})
    assert status == 400 and body["error"]["field"] == "age"


def test_a_failed_deployment_raises_with_its_logs(deployed):
    cloud, ws = deployed["cloud"], deployed["ws"]
    refusal = HttpResponseError(message="Deployment blue failed: ResourceNotReady (user container exited)")
    cloud.state.fail["online_deployments.begin_create_or_update"] = refusal
    try:
        with pytest.raises(DeploymentError, match="(?s)deployment 'blue' of endpoint 'other': Deployment blue failed: "
                                                  "ResourceNotReady.*deployment logs") as info:
            ws.deploy(deployed["model"], amlpipe.ServiceSettings(name="other"))
    finally:
        del cloud.state.fail["online_deployments.begin_create_or_update"]
    assert info.value.__cause__ is refusal
    assert cloud.names()[-1] == "online_deployments.get_logs"


def test_the_lessons_values_reach_the_sdk(deployed):
    cloud = deployed["cloud"]
    from azure.ai.ml.automl import ClassificationJob
    from azure.ai.ml.entities import AmlCompute, Data, ManagedOnlineDeployment, ManagedOnlineEndpoint, Model

    created = cloud.arguments("compute.begin_create_or_update")["compute"]
    assert isinstance(created, AmlCompute)
    assert (created.name, created.size, created.min_instances, created.max_instances) == (
        "heart-f-cluster", "Standard_D2_v2", 1, 3)
    data = cloud.arguments("data.create_or_update")["data"]
    assert isinstance(data, Data) and (data.name, data.version, data.type) == ("heart-failure-records", "1", "mltable")
    job = cloud.arguments("jobs.create_or_update")["job"]
    assert isinstance(job, ClassificationJob)
    assert job.training_data.path == "azureml:heart-failure-records:1" and job.compute == "heart-f-cluster"
    assert job.limits.timeout_minutes == 15 and job.limits.max_concurrent_trials == 3
    model = cloud.arguments("models.create_or_update")["model"]
    assert isinstance(model, Model) and model.type == "mlflow_model"
    assert model.path == f"azureml://jobs/{deployed['best_run'].id}/outputs/artifacts/paths/outputs/mlflow-model/"
    endpoint = cloud.arguments("online_endpoints.begin_create_or_update")["endpoint"]
    assert isinstance(endpoint, ManagedOnlineEndpoint) and endpoint.auth_mode == "key"
    assert [args["traffic"] for name, args in cloud.calls if name == "online_endpoints.begin_create_or_update"
            and args["endpoint"].name == "automl-hf-sdk"] == [{}, {"blue": 100}]
    deployment = cloud.arguments("online_deployments.begin_create_or_update")["deployment"]
    assert isinstance(deployment, ManagedOnlineDeployment)
    assert deployment.code_configuration.scoring_script == "score.py"
    assert (deployment.model, deployment.instance_type, deployment.instance_count) == (
        "azureml:heart-failure-automl:1", "Standard_DS1_v2", 1)
    assert "azureml-inference-server-http" in deployment.environment.conda_file["dependencies"][-1]["pip"]


def test_metrics_leaderboard_and_status_from_mlflow(deployed):
    ws, run = deployed["ws"], deployed["run"]
    assert run.status == "Completed"
    assert run.properties["primary_metric"] == "AUC_weighted"
    leaderboard = run.get_leaderboard()
    assert list(leaderboard.algorithm) == ["VotingEnsemble", "LogisticRegression"]
    assert list(leaderboard.AUC_weighted) == [0.91, 0.88]
    assert ws.get_experiment(SETTINGS.experiment_name).get_run().id == run.id
    assert ws.get_experiment(SETTINGS.experiment_name).get_run(run.id).id == run.id


def test_unchanged_data_is_reused_and_changed_data_is_a_new_version(cloud, azure_config, heart_csv):
    import pandas as pd

    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    first = ws.register_dataset(heart_csv)
    again = ws.register_dataset(heart_csv)
    assert (first.version, again.version) == (1, 1)
    assert cloud.names().count("data.create_or_update") == 1
    changed = ws.register_dataset(dataframe=pd.read_csv(heart_csv).head(200),
                                  settings=amlpipe.DatasetSettings(schema="any"))
    assert changed.version == 2 and len(changed.to_pandas_dataframe()) == 200
    assert ws.get_dataset("heart-failure-records", 1).to_pandas_dataframe().shape == (299, 13)


def test_an_existing_compute_is_reused_and_a_wrong_type_refused(cloud, azure_config):
    from azure.ai.ml.entities import AmlCompute, ComputeInstance

    cloud.state.computes["heart-f-cluster"] = AmlCompute(name="heart-f-cluster", size="Standard_D2_v2", max_instances=4)
    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    found = ws.get_or_create_compute(amlpipe.ComputeSettings())
    assert found.max_nodes == 4 and "compute.begin_create_or_update" not in cloud.names()
    cloud.state.computes["heart-f-cluster"] = ComputeInstance(name="heart-f-cluster", size="Standard_DS3_v2")
    with pytest.raises(ResourceError, match="'heart-f-cluster' exists but is a computeinstance, not an AmlCompute"):
        ws.get_or_create_compute(amlpipe.ComputeSettings())


def test_refused_cluster_names_the_compute_and_the_quota(cloud, azure_config):
    refusal = HttpResponseError(message="QuotaExceeded: Standard_D2_v2 cores\nmore detail")
    cloud.state.fail["compute.begin_create_or_update"] = refusal
    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    with pytest.raises(ResourceError, match="compute 'heart-f-cluster': QuotaExceeded.*check the VM size and your quota") as info:
        ws.get_or_create_compute(amlpipe.ComputeSettings())
    assert info.value.__cause__ is refusal and "more detail" not in str(info.value)


def test_azure_core_exceptions_become_amlpipe_errors_naming_the_resource(cloud, azure_config):
    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    with pytest.raises(ResourceError, match=r"^model 'nope' is not registered in workspace ws \(models: none\)$"):
        ws.get_model("nope")  # ResourceNotFoundError: none of that name
    refusal = ClientAuthenticationError("AADSTS7000215: Invalid client secret")
    cloud.state.fail["models.get"] = refusal
    with pytest.raises(ConfigError, match=r"model 'nope': authentication failed \(AADSTS7000215") as info:
        ws.get_model("nope")
    assert info.value.__cause__ is refusal
    refusal = HttpResponseError(message="Operation returned an invalid status 'Service Unavailable'")
    cloud.state.fail["models.get"] = refusal
    with pytest.raises(ResourceError, match="model 'nope': Operation returned an invalid status") as info:
        ws.get_model("nope")
    assert info.value.__cause__ is refusal


def test_missing_service_experiment_and_run_are_resource_errors(cloud, azure_config):
    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    with pytest.raises(ResourceError, match=r"service 'nope' not found in workspace ws \(services: none\)"):
        ws.get_service("nope")
    with pytest.raises(ResourceError, match="experiment 'e' not found in workspace ws"):
        ws.get_experiment("e")
    experiment = ws.get_or_create_experiment("e")
    assert ws.get_experiment("e").name == "e"
    with pytest.raises(ResourceError, match="run 'nope' not found in experiment 'e'"):
        experiment.get_run("nope")
    with pytest.raises(ResourceError, match="experiment 'e' has no AutoML run yet"):
        experiment.get_run()


def test_a_failed_job_is_an_error_naming_it(deployed):
    cloud, ws = deployed["cloud"], deployed["ws"]
    cloud.state.job_status = "Failed"
    dataset = ws.get_dataset(SETTINGS.dataset.name)
    run = ws.get_or_create_experiment("e").submit(SETTINGS.automl, dataset, ws.get_compute(SETTINGS.compute.name))
    with pytest.raises(ResourceError, match=f"AutoML job '{run.id}' ended Failed"):
        run.wait_for_completion()
    # Streaming, the SDK raises its JobException holding Azure's error: kept in the message, no traceback of it.
    with pytest.raises(ResourceError, match=rf"AutoML job '{run.id}' ended Failed \(SystemError: the job failed\)"):
        run.wait_for_completion(show_output=True)


def test_secrets_stay_out_of_logs_and_calls(deployed, caplog):
    cloud = deployed["cloud"]
    caplog.set_level(logging.DEBUG)
    service = deployed["service"]
    keys = service.get_keys()
    service.run({"data": [LESSON_RECORD]})
    assert "s3cr3t-value" not in repr(cloud.calls) and "s3cr3t-value" not in caplog.text
    assert not any(key in caplog.text for key in keys)
    assert cloud.arguments("MLClient.from_config")["credential"] == "EnvironmentCredential"


def test_delete_removes_the_endpoint_and_stops_its_server(deployed):  # last: the other tests use the endpoint
    cloud, ws = deployed["cloud"], deployed["ws"]
    ws.get_service("automl-hf-sdk").delete()
    assert cloud.names()[-1] == "online_endpoints.begin_delete" and "automl-hf-sdk" not in cloud.state.servers
    assert [s.name for s in ws.list_services()] == ["other"]
    assert ws.delete_compute("heart-f-cluster") == ["compute heart-f-cluster"]
    assert ws.delete_compute("heart-f-cluster") == []


def test_no_network_at_sign_in_names_the_host_not_the_credentials():
    from azure.core.exceptions import ServiceRequestError

    from amlpipe.backends.azureml_v2.errors import translated

    inner = ServiceRequestError("HTTPSConnection(host='login.microsoftonline.com', port=443): Failed to resolve "
                                "'login.microsoftonline.com' ([Errno -2] Name or service not known)")
    with pytest.raises(ResourceError, match="workspace 'ws': cannot reach login.microsoftonline.com to sign in"):
        with translated("workspace 'ws'"):
            try:
                raise inner
            except ServiceRequestError as exc:
                raise ClientAuthenticationError(f"Authentication failed: {exc}") from exc


def test_offline_status_is_one_line_naming_the_workspace(tmp_path):
    """Against the real SDK: no Azure here, so signing in fails; the CLI says so in one line."""
    import os
    import subprocess
    import sys

    (tmp_path / "config.json").write_text('{"subscription_id": "0", "resource_group": "rg", "workspace_name": "ws"}')
    env = {**os.environ, "AZURE_TENANT_ID": "00000000-0000-0000-0000-000000000000", "AZURE_CLIENT_ID": "c",
           "AZURE_CLIENT_SECRET": "s3cr3t-value"}
    out = subprocess.run([sys.executable, "-m", "amlpipe", "status", "--backend", "azureml-v2"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("amlpipe: error:")]
    assert len(errors) == 1 and errors[0].startswith("amlpipe: error: workspace 'ws' (resource group rg): ")
    assert "Traceback" not in out.stderr and "s3cr3t-value" not in out.stderr


def test_an_azureml_tracking_uri_without_its_plugin_names_the_package(cloud, azure_config, monkeypatch):
    from amlpipe import MissingDependencyError

    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    monkeypatch.setattr(type(cloud), "tracking_uri", "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/0")
    with pytest.raises(MissingDependencyError, match="pip install azureml-mlflow"):
        ws.mlflow


def test_without_mlflows_azureml_plugin_train_register_and_the_pipeline_still_work(cloud, azure_config, heart_csv,
                                                                                   monkeypatch):
    """azureml-mlflow is not installed: the best trial comes from the job's tag (jobs.get), the model from the
    trial's output path; only metrics and the leaderboard need the workspace's MLflow."""
    from amlpipe import MissingDependencyError
    from amlpipe.pipeline import build

    from . import fake_cloud

    uri = "azureml://westeurope.api.azureml.ms/mlflow/v1.0/subscriptions/0"  # the fake keeps its own MLflow store
    monkeypatch.setattr(fake_cloud.WorkspaceOperations, "get", lambda self, name: fake_cloud.Workspace(name, uri))
    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    experiment = ws.get_or_create_experiment(SETTINGS.experiment_name)  # the name the jobs file under
    dataset = ws.register_dataset(heart_csv, SETTINGS.dataset)
    run = experiment.submit(SETTINGS.automl, dataset, ws.get_or_create_compute(SETTINGS.compute))
    run.wait_for_completion(show_output=True)
    best, _ = run.get_output()
    model = run.register_model(SETTINGS.model.model_name, SETTINGS.model.description, dict(SETTINGS.model.tags))
    assert model.run_id == best.id and model.version == 1
    assert amlpipe.pipeline.submit(ws, build(SETTINGS)).registered_model == ("heart-failure-automl", 2)
    with pytest.raises(MissingDependencyError, match="pip install azureml-mlflow"):
        run.get_leaderboard()
