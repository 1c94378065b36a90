"""The training pipeline on the azureml backend: the SDK's real step objects, and the pipeline service faked."""

import json
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest

import amlpipe
from amlpipe import ResourceError, pipeline
from amlpipe.backends.azureml import sdk
from amlpipe.backends.azureml.dataset import AzureDataset
from amlpipe.backends.azureml.pipeline import STEP_SCRIPTS, build_steps

from . import fake_pipeline_sdk

URL = "https://archive.ics.uci.edu/static/public/519/heart_failure_clinical_records_dataset.csv"


@pytest.fixture(scope="module")
def tabular():
    """A real `TabularDataset`, defined offline (nothing is read)."""
    from azureml.core import Dataset

    return Dataset.Tabular.from_delimited_files(URL, validate=False, infer_column_types=False)


@pytest.fixture
def service(cloud, monkeypatch):
    """The fake pipeline service on top of the fake workspace; the real AutoMLConfig and step classes."""
    from azureml.train.automl import AutoMLConfig

    state = fake_pipeline_sdk.PipelineService(cloud)
    for name, fake in fake_pipeline_sdk.build(state).items():
        monkeypatch.setattr(sdk, name, fake, raising=False)
    monkeypatch.setattr(sdk, "AutoMLConfig", AutoMLConfig)
    monkeypatch.setattr(sdk, "Experiment", fake_pipeline_sdk.submitting_experiment(sdk.Experiment))
    return state


@pytest.fixture
def ws(service, azure_config):
    return amlpipe.connect(backend="azureml", config_path=azure_config)


def definition(deploy=False, **overrides):
    return pipeline.build(amlpipe.Settings().override(overrides), deploy=deploy)


def test_the_real_steps_hold_amlpipes_settings(tabular):
    from azureml.pipeline.core import PipelineData
    from azureml.pipeline.steps import AutoMLStep, PythonScriptStep

    chosen = definition(deploy=True, **{"automl.experiment_timeout_minutes": 30, "model.model_name": "hf-model",
                                        "service.name": "hf-service"})
    automl, register, deploy = build_steps(chosen, tabular, "heart-f-cluster", allow_reuse=True)
    assert isinstance(automl, AutoMLStep) and isinstance(register, PythonScriptStep)
    assert (automl.name, register.name, deploy.name) == ("automl", "register", "deploy")
    held = automl._automl_config.user_settings
    assert held["experiment_timeout_minutes"] == 30 and held["primary_metric"] == "AUC_weighted"
    assert held["label_column_name"] == "DEATH_EVENT" and held["compute_target"] == "heart-f-cluster"
    outputs = {o.name: o for o in automl._outputs}
    assert sorted(outputs) == ["metrics_data", "model_data"]
    assert all(isinstance(o, PipelineData) for o in outputs.values())
    assert outputs["metrics_data"]._training_output.type == "Metrics"
    assert outputs["model_data"]._training_output.type == "Model"
    assert outputs["model_data"]._pipeline_output_name == "best_model_output"
    # The model output flows into the register step, whose output flows into the deploy step.
    assert register._inputs == [outputs["model_data"]] and deploy._inputs == register._outputs
    assert fake_pipeline_sdk.step_arguments(register) == [
        "--model_data", "model_data", "--model_name", "hf-model", "--description", "aml heart failure project sdk",
        "--tags", '{"task": "heart-failure-prediction"}', "--registered_model", "registered_model"]
    assert ["--service_name", "hf-service"] == fake_pipeline_sdk.step_arguments(deploy)[2:4]
    assert all(step._allow_reuse for step in (automl, register, deploy))
    assert register._compute_target == "heart-f-cluster" and register._script_name == "register_model.py"


def test_the_script_steps_source_directory_ships_the_scripts_and_the_entry_script(tabular):
    _, register, deploy = build_steps(definition(deploy=True), tabular, "heart-f-cluster")
    folder = Path(register._source_directory)
    assert (folder / "register_model.py").read_text() == (STEP_SCRIPTS / "register_model.py").read_text()
    assert {"deploy_model.py", "score.py", "contract.py", "serving.py"} <= {p.name for p in folder.iterdir()}
    packages = list(register._runconfig.environment.python.conda_dependencies.pip_packages)
    assert any(p.startswith("azureml-core~=1.") for p in packages)


def test_allow_reuse_false_reaches_every_step(tabular):
    assert not any(step._allow_reuse for step in build_steps(definition(), tabular, "c", allow_reuse=False))


def test_submit_waits_and_reads_each_step_back(cloud, service, ws, tabular):
    service.reused = {"automl"}
    lines = []
    run = pipeline.submit(ws, definition(), AzureDataset(tabular), on_step=lines.append)
    built = cloud.arguments("Pipeline")
    assert [s.name for s in built["steps"]] == ["automl", "register"] and built["description"] == "automl -> register"
    assert cloud.arguments("Experiment.submit(pipeline)") == {"experiment": "aml-experiment", "regenerate_outputs": False}
    assert cloud.arguments("PipelineRun.wait_for_completion")["raise_on_error"] is False
    assert run.status == "Completed"
    assert [(s.name, s.status, s.reused, s.seconds) for s in run.steps] == [
        ("automl", "Completed", True, 1.5), ("register", "Completed", False, 1260.0)]
    assert run.registered_model == ("heart-failure-automl", 3)
    assert run.step("automl").outputs["model_data"] == f"azureml/{run.id}-automl/model_data"
    assert lines == ["[1/2] automl reused (1.5 s)", "[2/2] register done in 1260.0 s"]


def test_no_reuse_regenerates_the_outputs(cloud, service, ws, tabular):
    pipeline.submit(ws, definition(), AzureDataset(tabular), allow_reuse=False)
    assert cloud.arguments("Experiment.submit(pipeline)")["regenerate_outputs"] is True
    assert not any(step._allow_reuse for step in cloud.arguments("Pipeline")["steps"])


def test_a_failed_step_is_named_and_the_later_ones_never_start(service, ws, tabular):
    service.step_status = {"register": "Failed"}
    with pytest.raises(pipeline.StepFailed) as failed:
        pipeline.submit(ws, definition(deploy=True), AzureDataset(tabular))
    assert failed.value.step == "register" and "register: ModuleNotFoundError" in str(failed.value)
    run = failed.value.run
    assert [(s.name, s.status) for s in run.steps] == [
        ("automl", "Completed"), ("register", "Failed"), ("deploy", "NotStarted")]
    assert run.step("automl").outputs["model_data"].endswith("/model_data")  # kept
    assert run.to_json()["status"] == "Failed"


def test_publish_creates_the_endpoint_then_adds_versions(cloud, service, ws, heart_csv):
    ws.register_dataset(heart_csv)
    first = pipeline.publish(ws, definition(), "AutoML -> register")
    second = pipeline.publish(ws, definition(), "again")
    assert "PipelineEndpoint.publish" in cloud.names() and "PipelineEndpoint.add_default" in cloud.names()
    assert cloud.arguments("PipelineEndpoint.publish")["pipeline_id"] == first.id
    assert (first.name, first.version, second.version) == ("heart-failure-training", 0, 1)
    assert [(p.name, p.version, p.id) for p in pipeline.list_published(ws)] == [
        ("heart-failure-training", 0, first.id), ("heart-failure-training", 1, second.id)]


def test_submit_published_by_name_and_version(cloud, service, ws, heart_csv):
    ws.register_dataset(heart_csv)
    pipeline.publish(ws, definition(deploy=True))
    run = pipeline.submit_published(ws, "heart-failure-training", version=0)
    assert cloud.arguments("PipelineEndpoint.submit") == {
        "name": "heart-failure-training", "experiment": "aml-experiment", "pipeline_version": "0"}
    assert [s.name for s in run.steps] == ["automl", "register", "deploy"] and run.status == "Completed"


def test_submitting_an_unknown_pipeline_names_it(service, ws):
    with pytest.raises(ResourceError, match="pipeline endpoint 'nope'.*404"):
        pipeline.submit_published(ws, "nope")


@pytest.mark.parametrize("recurrence, frequency", [("daily", "Day"), ("weekly", "Week")])
def test_schedule_with_a_real_recurrence(cloud, service, ws, recurrence, frequency):
    published = pipeline.PublishedPipeline("heart-failure-training", 0, "published-7", "")
    pipeline.schedule(ws, published, recurrence)
    created = cloud.arguments("Schedule.create")
    assert (created["name"], created["pipeline_id"]) == (f"heart-failure-training-{recurrence}", "published-7")
    assert (created["recurrence"].frequency, created["recurrence"].interval) == (frequency, 1)


def test_schedule_on_a_datastore_change(cloud, service, ws):
    pipeline.schedule(ws, pipeline.PublishedPipeline("hf", 0, "published-7", ""), "datastore")
    created = cloud.arguments("Schedule.create")
    assert created["recurrence"] is None and created["datastore"] == "workspaceblobstore"
    assert created["path_on_datastore"] == "amlpipe-data"


def test_an_unknown_recurrence_is_refused(ws):
    with pytest.raises(amlpipe.ConfigError, match="hourly"):
        pipeline.schedule(ws, pipeline.PublishedPipeline("hf", 0, "p", ""), "hourly")


def test_the_register_script_registers_the_model_output_and_reports_it(tmp_path, monkeypatch):
    from azureml.core import Run
    from azureml.core.model import Model

    calls = {}
    run = SimpleNamespace(experiment=SimpleNamespace(workspace="ws"), add_properties=lambda p: calls.update(properties=p))
    monkeypatch.setattr(Run, "get_context", staticmethod(lambda: run))

    def register(**arguments):
        calls["register"] = arguments
        return SimpleNamespace(name=arguments["model_name"], version=4)

    monkeypatch.setattr(Model, "register", staticmethod(register))
    monkeypatch.setattr("sys.argv", ["register_model.py", "--model_data", str(tmp_path / "model.pkl"),
                                     "--model_name", "hf", "--tags", '{"a": "b"}',
                                     "--registered_model", str(tmp_path / "out")])
    runpy.run_path(str(STEP_SCRIPTS / "register_model.py"), run_name="__main__")
    assert calls["register"] == {"workspace": "ws", "model_path": str(tmp_path / "model.pkl"), "model_name": "hf",
                                 "description": "", "tags": {"a": "b"}}
    assert json.loads((tmp_path / "out" / "model.json").read_text()) == {"name": "hf", "version": 4}
    assert calls["properties"] == {"model_name": "hf", "model_version": "4"}
