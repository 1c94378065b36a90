"""The challenge pipeline on SDK v2: `@dsl.pipeline` with the AutoML node and the register step, validated by
the SDK offline and serialised to REST; run, published as a pipeline component and scheduled against the
recording fake of `MLClient`; the register step's script against a real MLflow registry."""

import json
import os
import subprocess
import sys

import pytest

import amlpipe
from amlpipe import ConfigError
from amlpipe.backends.azureml_v2 import pipeline
from amlpipe.pipeline import StepFailed, build

SETTINGS = amlpipe.Settings().override({"automl.experiment_timeout_minutes": 15})


def built(tmp_path, allow_reuse=True):
    from azure.ai.ml import Input

    job = pipeline.pipeline_job(build(SETTINGS), Input(type="mltable", path="azureml:heart-failure-records:2"),
                                "heart-f-cluster", tmp_path, allow_reuse)
    result = job._validate()  # the SDK's own client-side validation of a pipeline job
    assert result.passed, result.error_messages
    return job, job._to_rest_object().as_dict()["properties"]


def test_the_pipeline_is_automl_then_register(tmp_path):
    job, body = built(tmp_path)
    assert body["jobType"] == "Pipeline" and body["experimentName"] == "aml-experiment"
    assert body["displayName"] == "heart-failure-training" and body["description"] == "automl -> register"
    assert body["settings"] == {"default_compute": "heart-f-cluster", "force_rerun": False, "_source": "DSL"}
    assert body["inputs"]["data"] == {"uri": "azureml:heart-failure-records:2", "jobInputType": "mltable"}
    assert body["outputs"] == {"registered_model": {"jobOutputType": "uri_folder"}}
    automl, register = body["jobs"]["automl"], body["jobs"]["register"]
    assert (automl["display_name"], register["display_name"]) == ("automl", "register")  # how the steps are found
    assert automl["type"] == "automl" and automl["task"] == "classification"
    assert automl["training_data"] == "${{parent.inputs.data}}"
    assert (automl["target_column_name"], automl["primary_metric"]) == ("DEATH_EVENT", "auc_weighted")
    assert automl["limits"] == {"enable_early_termination": True, "max_concurrent_trials": 3, "timeout_minutes": 15}
    assert automl["outputs"]["best_model"]["job_output_type"] == "mlflow_model"
    assert register["type"] == "command"
    assert register["inputs"]["model"]["value"] == "${{parent.jobs.automl.outputs.best_model}}"
    assert register["outputs"]["registered_model"]["value"] == "${{parent.outputs.registered_model}}"
    assert (tmp_path / "register_step.py").is_file()


def test_no_reuse_forces_a_rerun(tmp_path):
    _, body = built(tmp_path, allow_reuse=False)
    assert body["settings"]["force_rerun"] is True


def test_the_register_step_command_is_what_its_script_parses(tmp_path):
    from amlpipe.backends.azureml_v2 import register_step

    job, _ = built(tmp_path)
    command = job.jobs["register"].component.command
    assert command.startswith("python register_step.py --model ${{inputs.model}} --name heart-failure-automl ")
    args = register_step.parse_arguments(__import__("shlex").split(command)[2:])
    assert (args.name, args.description) == ("heart-failure-automl", "aml heart failure project sdk")
    assert json.loads(args.tags) == {"task": "heart-failure-prediction"}
    assert args.registered_model == "${{outputs.registered_model}}"


def test_the_published_form_is_a_valid_pipeline_component_and_job(tmp_path):
    """What publish registers (the SDK turns the function into a `PipelineComponent`) and what submit sends."""
    from azure.ai.ml import Input
    from azure.ai.ml.entities import JobSchedule, RecurrenceTrigger
    from azure.ai.ml.operations._component_operations import _refine_component

    component = _refine_component(pipeline.pipeline_function(build(SETTINGS), tmp_path, "nightly", version="3",
                                                             tags={pipeline.PUBLISHED_TAG: "heart-failure-training"}))
    assert component._validate().passed
    spec = component._to_rest_object().as_dict()["properties"]["componentSpec"]
    assert (spec["name"], spec["version"], spec["type"], spec["description"]) == (
        "heart_failure_training", "3", "pipeline", "nightly")
    assert spec["inputs"] == {"data": {"type": "mltable"}} and spec["outputs"] == {"registered_model": {"type": "uri_folder"}}
    job = pipeline.published_job("azureml:heart_failure_training:3", Input(type="mltable", path="azureml:d@latest"),
                                 "heart-f-cluster", "aml-experiment")
    assert job._validate().passed
    body = job._to_rest_object().as_dict()["properties"]
    assert body["componentId"] == "azureml:heart_failure_training:3" and body["jobs"] == {}
    schedule = JobSchedule(name="s", trigger=RecurrenceTrigger(frequency="day", interval=1), create_job=job)
    assert schedule._validate().passed


@pytest.fixture
def ws(cloud, azure_config, heart_csv):
    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    ws.register_dataset(heart_csv, SETTINGS.dataset)
    return ws


def pipeline_calls(cloud, since=0):
    return [n for n in cloud.names()[since:] if n.split(".")[0] in ("jobs", "components", "schedules")]


def test_run_submits_streams_and_reads_each_step_back(cloud, ws):
    lines = []
    run = amlpipe.pipeline.submit(ws, build(SETTINGS), on_step=lines.append)
    assert pipeline_calls(cloud) == ["jobs.create_or_update", "jobs.stream", "jobs.get", "jobs.list"]
    assert cloud.arguments("jobs.list") == {"parent_job_name": run.id}
    sent = cloud.arguments("jobs.create_or_update")["job"]
    assert sent.type == "pipeline" and set(sent.jobs) == {"automl", "register"}
    assert run.status == "Completed" and [s.name for s in run.steps] == ["automl", "register"]
    assert [(s.status, s.reused) for s in run.steps] == [("Completed", False), ("Completed", False)]
    assert [line.split(" ")[:3] for line in lines] == [["[1/2]", "automl", "done"], ["[2/2]", "register", "done"]]
    assert run.step("automl").seconds == 60.0
    assert run.registered_model == ("heart-failure-automl", 1)
    register = run.step("register")
    assert register.outputs == {"registered_model": f"azureml://jobs/{register.run_id}/outputs/registered_model"}
    model = ws.get_model(*run.registered_model)
    assert model.description == "aml heart failure project sdk" and model.tags["task"] == "heart-failure-prediction"
    assert run.table().to_dict("list")["step"] == ["automl", "register"]


def test_a_second_run_reuses_both_steps_and_no_reuse_reruns_them(cloud, ws):
    first = amlpipe.pipeline.submit(ws, build(SETTINGS))
    since = len(cloud.calls)
    again = amlpipe.pipeline.submit(ws, build(SETTINGS))
    assert [s.reused for s in again.steps] == [True, True]
    assert again.registered_model == first.registered_model == ("heart-failure-automl", 1)  # no new version
    reused_from = [args["name"] for name, args in cloud.calls[since:] if name == "jobs.get"][1:]
    assert reused_from == [first.step("automl").run_id, first.step("register").run_id]  # the runs that did the work
    rerun = amlpipe.pipeline.submit(ws, build(SETTINGS), allow_reuse=False)
    assert [s.reused for s in rerun.steps] == [False, False] and rerun.registered_model == ("heart-failure-automl", 2)
    changed = amlpipe.pipeline.submit(ws, build(SETTINGS.override({"model.description": "v2"})))
    assert [s.reused for s in changed.steps] == [True, False]  # only the register step's definition changed


def test_a_failed_step_is_named_with_azures_error(cloud, ws):
    cloud.state.fail_node = "register"
    with pytest.raises(StepFailed, match="step 'register' Failed: UserError: Pipeline has failed child jobs. "
                                         "Failed nodes: /register") as info:
        amlpipe.pipeline.submit(ws, build(SETTINGS))
    assert info.value.step == "register"
    assert [(s.name, s.status) for s in info.value.run.steps] == [("automl", "Completed"), ("register", "Failed")]
    assert info.value.run.status == "Failed"


def test_a_canceled_pipeline_names_its_status(cloud, ws, monkeypatch):
    from . import fake_cloud

    original = fake_cloud.run_pipeline
    monkeypatch.setattr(fake_cloud, "run_pipeline", lambda c, job: (original(c, job)[0], "Canceled"))
    with pytest.raises(StepFailed, match=r"pipeline heart-failure-training job pipeline_\d+ is Canceled"):
        amlpipe.pipeline.submit(ws, build(SETTINGS))


def test_publish_registers_versions_of_a_pipeline_component_and_submit_runs_one(cloud, ws):
    definition = build(SETTINGS)
    first = amlpipe.pipeline.publish(ws, definition, "automl -> register")
    second = amlpipe.pipeline.publish(ws, definition)
    assert (first.version, second.version) == (1, 2) and second.id == "azureml:heart_failure_training:2"
    component = cloud.arguments("components.create_or_update")["component"]
    assert callable(component)  # the @dsl.pipeline function, as the SDK takes it
    assert [(p.name, p.version) for p in amlpipe.pipeline.list_published(ws)] == [
        ("heart-failure-training", 1), ("heart-failure-training", 2)]
    since = len(cloud.calls)
    run = amlpipe.pipeline.submit_published(ws, "heart-failure-training", 1)
    assert cloud.arguments("components.get") == {"name": "heart_failure_training", "version": "1", "label": None}
    sent = [args["job"] for name, args in cloud.calls[since:] if name == "jobs.create_or_update"][0]
    assert sent._to_rest_object().as_dict()["properties"]["componentId"] == "azureml:heart_failure_training:1"
    assert run.status == "Completed" and run.registered_model == ("heart-failure-automl", 1)


def test_submitting_an_unknown_published_pipeline_names_it(ws):
    with pytest.raises(amlpipe.ResourceError, match="published pipeline 'nope': not found"):
        amlpipe.pipeline.submit_published(ws, "nope")


@pytest.mark.parametrize("recurrence, frequency", [("daily", "day"), ("weekly", "week")])
def test_schedule_is_a_job_schedule_on_the_latest_data(cloud, ws, recurrence, frequency):
    published = amlpipe.pipeline.publish(ws, build(SETTINGS))
    amlpipe.pipeline.schedule(ws, published, recurrence)
    schedule = cloud.arguments("schedules.begin_create_or_update")["schedule"]
    body = schedule._to_rest_object().as_dict()["properties"]
    assert schedule.name == f"heart_failure_training-{recurrence}"
    assert (body["trigger"]["triggerType"], body["trigger"]["frequency"], body["trigger"]["interval"]) == (
        "Recurrence", frequency, 1)
    job = body["action"]["jobDefinition"]
    assert job["componentId"] == "azureml:heart_failure_training:1"
    assert job["inputs"]["data"]["uri"] == "azureml:heart-failure-records@latest"


def test_a_datastore_trigger_is_refused_by_name(ws):
    with pytest.raises(ConfigError, match="schedule 'datastore' of pipeline hf: SDK v2 schedules are time-based"):
        amlpipe.pipeline.schedule(ws, amlpipe.pipeline.PublishedPipeline("hf", 1, "azureml:hf:1", ""), "datastore")


def test_the_deploy_step_runs_after_the_job_and_is_reused_while_the_service_serves_the_model(cloud, ws):
    try:
        run = amlpipe.pipeline.submit(ws, build(SETTINGS, deploy=True))
        deploy = run.step("deploy")
        assert (deploy.status, deploy.reused) == ("Completed", False)
        assert deploy.properties["model"] == "heart-failure-automl:1"
        assert deploy.properties["scoring_uri"].startswith("http://127.0.0.1:")
        again = amlpipe.pipeline.submit(ws, build(SETTINGS, deploy=True))
        assert [s.reused for s in again.steps] == [True, True, True]
        assert cloud.names().count("online_deployments.begin_create_or_update") == 1
    finally:
        cloud.stop_servers()


def test_local_options_are_refused(ws):
    with pytest.raises(ConfigError, match="pipeline options port are the local backend's"):
        amlpipe.pipeline.submit(ws, build(SETTINGS), port=1234)


def test_the_register_script_registers_an_mlflow_model_and_reports_it(tmp_path):
    """register_step.py as Azure ML runs it, here against a real MLflow registry on SQLite."""
    import mlflow.sklearn
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    model = tmp_path / "best_model"
    mlflow.sklearn.save_model(LogisticRegression().fit([[0.0], [1.0]], [0, 1]), str(model))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = subprocess.run(
        [sys.executable, str(pipeline.REGISTER_SCRIPT), "--model", str(model), "--name", "heart-failure-automl",
         "--description", "aml heart failure project sdk", "--tags", json.dumps({"task": "heart-failure-prediction"}),
         "--registered_model", str(tmp_path / "registered")],
        capture_output=True, text=True, env={**os.environ, "MLFLOW_TRACKING_URI": uri}, cwd=tmp_path, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "registered model heart-failure-automl version 1" in out.stdout
    client = MlflowClient(tracking_uri=uri)
    version = client.get_model_version("heart-failure-automl", "1")
    assert version.description == "aml heart failure project sdk"
    assert version.tags == {"task": "heart-failure-prediction"}
    assert json.loads((tmp_path / "registered" / "model.json").read_text()) == {"name": "heart-failure-automl",
                                                                               "version": 1}
    tags = client.get_run(version.run_id).data.tags
    assert (tags["model_name"], tags["model_version"]) == ("heart-failure-automl", "1")


def test_the_cli_runs_publishes_lists_and_submits_on_v2(cloud, azure_config, heart_csv, capsys):
    from amlpipe import cli

    common = ["--backend", "azureml-v2", "--config", str(azure_config)]
    assert cli.main(["pipeline", "run", *common, "--data", str(heart_csv), "--budget-minutes", "15",
                     "--publish", "hf-challenge", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("pipeline hf-challenge on the azureml-v2 backend: automl -> register, dataset ")
    steps = [line for line in out if line.startswith("[")]  # between the job's streamed log lines
    assert steps[0].startswith("[1/2] automl done in ") and steps[1].startswith("[2/2] register done in ")
    assert "published pipeline hf-challenge version 1" in out
    assert [s["name"] for s in json.loads(out[-1])["steps"]] == ["automl", "register"]
    assert cli.main(["pipeline", "list", *common]) == 0
    assert capsys.readouterr().out.startswith("hf-challenge version 1 (azureml:hf_challenge:1)")
    assert cli.main(["pipeline", "submit", "hf-challenge", *common, "--json"]) == 0
    steps = json.loads(capsys.readouterr().out.splitlines()[-1])["steps"]
    assert [(s["name"], s["reused"]) for s in steps] == [("automl", True), ("register", True)]


def test_a_pipeline_job_that_is_not_there_is_named(cloud, ws):
    from azure.core.exceptions import ResourceNotFoundError

    with pytest.raises(amlpipe.ResourceError, match="pipeline job 'gone': not found") as info:
        pipeline._finish(ws, build(SETTINGS), "gone", True, None)
    assert isinstance(info.value.__cause__, ResourceNotFoundError)
    with pytest.raises(ResourceNotFoundError):  # the fake, as the SDK: the parent is looked up first
        ws.ml_client.jobs.list(parent_job_name="gone")
