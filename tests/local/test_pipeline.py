"""The training pipeline on the local backend, end to end on the real data with budgets of seconds.

One workspace for the module: the first `amlpipe pipeline run` trains; the later runs show
what is reused and what reruns, and why.
"""

import contextlib
import io
import json
import logging
import socket
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import amlpipe
from amlpipe import cli, pipeline
from amlpipe.backends.local.deployment import HOST
from amlpipe.notebook_runner import PIPELINE_STEP, PIPELINE_STEPS, run_pipeline
from tests.conftest import TEST_BUDGET_MINUTES

pytestmark = pytest.mark.slow

# A holdout instead of 10-fold CV: AutoML takes FLAML's best model, with no out-of-fold scoring of
# candidates, so each training run costs about its budget. The pipeline does not depend on it.
HOLDOUT = {"automl.validation_size": 0.2}
RUN = ["run", "--budget-minutes", str(TEST_BUDGET_MINUTES), "--set", "automl.validation_size=0.2"]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def amlpipe_pipeline(root: Path, *arguments: str) -> Result:
    """`amlpipe pipeline ARGUMENTS --workspace ROOT/ws`, in this process (a new one costs seconds of imports)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.chdir(root)  # AutoML's debug log goes to the working folder
        patch.setattr(logging.getLogger("amlpipe"), "handlers", [])  # none left over, bound to another test's stream
        code = cli.main(["pipeline", *arguments, "--workspace", str(root / "ws")])
    return Result(code, out.getvalue(), err.getvalue())


def last_json(result: Result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def steps_of(report: dict) -> dict:
    return {s["name"]: s for s in report["steps"]}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("pipeline")


@pytest.fixture(scope="module")
def first(root, heart_csv):
    """`amlpipe pipeline run --json`, once, on a new workspace."""
    result = amlpipe_pipeline(root, *RUN, "--data", str(heart_csv), "--json", "--publish", "hf-training")
    assert result.returncode == 0, result.stderr[-3000:]
    return result, last_json(result)


@pytest.fixture(scope="module")
def second(root, heart_csv, first):
    """The same command again: nothing changed."""
    result = amlpipe_pipeline(root, *RUN, "--data", str(heart_csv), "--json", "--publish", "hf-training")
    assert result.returncode == 0, result.stderr[-3000:]
    return result, last_json(result)


@pytest.fixture(scope="module")
def ws(root, first):
    return amlpipe.connect(backend="local", workspace_dir=root / "ws")


@pytest.fixture
def settings(root):
    """The CLI's settings, with overrides; the debug log in the module's folder (not part of the reuse key)."""
    def make(**overrides):
        return amlpipe.Settings().override({"automl.experiment_timeout_minutes": TEST_BUDGET_MINUTES, **HOLDOUT,
                                            "automl.path": str(root), **overrides})
    return make


def test_first_run_prints_a_line_per_step_and_json_last(first):
    result, report = first
    assert "[1/2] automl done in " in result.stdout and "[2/2] register done in " in result.stdout
    assert report["status"] == "Completed" and report["pipeline"] == "hf-training"
    assert [(s["name"], s["status"], s["reused"]) for s in report["steps"]] == [
        ("automl", "Completed", False), ("register", "Completed", False)]


def test_outputs_flow_from_automl_to_the_registered_model(ws, first):
    _, report = first
    run_dir = ws.root / "pipelines" / "runs" / report["run_id"]
    model_data = run_dir / "automl" / "model_data"
    assert (model_data / "model.pkl").exists() and (model_data / "metadata.json").exists()
    metrics = json.loads((run_dir / "automl" / "metrics_data" / "metrics.json").read_text())
    assert 0.8 < metrics["AUC_weighted"] <= 1
    registered = json.loads((run_dir / "register" / "registered_model" / "model.json").read_text())
    model = ws.get_model(registered["name"], registered["version"])
    assert (model.name, model.version) == ("heart-failure-automl", 1)
    assert model.path == model_data  # the register step registered the AutoML step's output
    assert hasattr(model.load(), "predict_proba")


def test_the_pipeline_run_is_a_parent_mlflow_run_with_a_child_per_step(ws, first):
    _, report = first
    client = ws.client
    parent = client.get_run(report["run_id"])
    assert parent.info.status == "FINISHED" and parent.data.tags["amlpipe.kind"] == "pipeline"
    children = client.search_runs([parent.info.experiment_id], f"tags.mlflow.parentRunId = '{report['run_id']}'")
    by_step = {c.data.tags["amlpipe.step"]: c for c in children}
    assert sorted(by_step) == ["automl", "register"]
    for step in by_step.values():
        assert step.info.status == "FINISHED" and step.data.tags["amlpipe.reused"] == "false"
        assert step.data.metrics["duration_seconds"] >= 0 and step.data.metrics["reused"] == 0
    assert by_step["register"].data.tags["amlpipe.model_version"] == "1"


def test_second_run_reuses_both_steps_and_is_much_faster(ws, first, second):
    result, report = second
    assert "[1/2] automl reused" in result.stdout and "[2/2] register reused" in result.stdout
    assert all(s["reused"] and s["status"] == "Completed" for s in report["steps"])
    first_seconds = sum(s["seconds"] for s in first[1]["steps"])
    assert sum(s["seconds"] for s in report["steps"]) < 0.1 * first_seconds
    assert [m.version for m in ws.list_models()] == [1]  # no new model version
    assert report["run_id"] != first[1]["run_id"]
    child = ws.client.search_runs([ws.get_experiment("aml-experiment").id],
                                  f"tags.mlflow.parentRunId = '{report['run_id']}'")[0]
    assert child.data.tags["amlpipe.reused"] == "true" and child.data.metrics["reused"] == 1


def test_a_changed_register_setting_reruns_only_the_register_step(ws, second, settings):
    run = pipeline.submit(ws, pipeline.build(settings(**{"model.description": "from the pipeline"})))
    assert [(s.name, s.reused) for s in run.steps] == [("automl", True), ("register", False)]
    assert run.registered_model == ("heart-failure-automl", 2)
    assert ws.get_model("heart-failure-automl", 2).description == "from the pipeline"


def test_published_pipeline_is_listed_and_submitted_by_name(root, second):
    listed = amlpipe_pipeline(root, "list", "--json")
    assert [(p["name"], p["version"]) for p in json.loads(listed.stdout)] == [("hf-training", 1), ("hf-training", 2)]
    result = amlpipe_pipeline(root, "submit", "hf-training", "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    report = last_json(result)
    assert report["pipeline"] == "hf-training" and report["status"] == "Completed"
    missing = amlpipe_pipeline(root, "submit", "no-such-pipeline")
    assert missing.returncode == 1 and "no published pipeline 'no-such-pipeline'" in missing.stderr


def test_a_changed_automl_setting_reruns_both_steps(ws, first, second, settings):
    reused = pipeline.submit(ws, pipeline.build(settings()))
    assert reused.step("automl").reused and first[1]["run_id"] in reused.step("automl").outputs["model_data"]
    run = pipeline.submit(ws, pipeline.build(settings(**{"automl.experiment_timeout_minutes": 0.05})))
    assert [(s.name, s.reused) for s in run.steps] == [("automl", False), ("register", False)]
    assert run.id in run.step("automl").outputs["model_data"]  # a new output, in this run's folder


def test_a_new_dataset_version_reruns_both_steps(ws, heart_csv, second, settings):
    definition = pipeline.build(settings())
    pipeline.submit(ws, definition, ws.get_dataset("heart-failure-records", 1))  # reused: the first run's
    fewer = pd.read_csv(heart_csv).iloc[:-1]
    dataset = ws.register_dataset(dataframe=fewer, settings=amlpipe.DatasetSettings())
    assert dataset.version == 2
    run = pipeline.submit(ws, definition, dataset)
    assert [(s.name, s.reused) for s in run.steps] == [("automl", False), ("register", False)]
    automl_run = ws.get_experiment("aml-experiment").get_run(run.step("automl").properties["automl_run_id"])
    assert automl_run.tags["dataset"] == "heart-failure-records:2"
    again = pipeline.submit(ws, definition, dataset)
    assert [s.reused for s in again.steps] == [True, True]


def test_no_reuse_reruns_every_step(root, heart_csv, second):
    """The first run's command reuses both steps; with --no-reuse it reruns them."""
    command = [*RUN, "--data", str(heart_csv), "--json"]
    reused = amlpipe_pipeline(root, *command)
    assert reused.returncode == 0, reused.stderr[-3000:]
    assert [s["reused"] for s in last_json(reused)["steps"]] == [True, True]
    rerun = amlpipe_pipeline(root, *command, "--no-reuse")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert [(s["name"], s["reused"]) for s in last_json(rerun)["steps"]] == [("automl", False), ("register", False)]


def test_a_failing_step_stops_the_run_is_named_and_earlier_outputs_stay(ws, second, settings):
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen()
        with pytest.raises(pipeline.StepFailed) as failed:
            pipeline.submit(ws, pipeline.build(settings(), deploy=True), ws.get_dataset("heart-failure-records", 1),
                            port=taken.getsockname()[1])
    run = failed.value.run
    assert failed.value.step == "deploy" and "step 'deploy' failed" in str(failed.value) and "in use" in str(failed.value)
    assert [(s.name, s.status) for s in run.steps] == [("automl", "Completed"), ("register", "Completed"),
                                                        ("deploy", "Failed")]
    assert Path(run.step("automl").outputs["model_data"], "model.pkl").exists()
    assert ws.client.get_run(run.id).info.status == "FAILED"
    assert ws.client.get_run(run.step("deploy").run_id).info.status == "FAILED"


def test_cli_names_the_failing_step_and_still_prints_the_json(tmp_path, heart_csv):
    # Only models the local backend cannot train: the AutoML step fails (the data itself is fine).
    result = amlpipe_pipeline(tmp_path, "run", "--data", str(heart_csv), "--json",
                              "--set", 'automl.allowed_models=["TensorFlowDNN"]')
    assert result.returncode == 1
    assert "[1/2] automl FAILED after" in result.stdout
    report = last_json(result)
    assert report["status"] == "Failed" and [s["status"] for s in report["steps"]] == ["Failed", "NotStarted"]
    error = [line for line in result.stderr.splitlines() if line.startswith("amlpipe: error:")]
    assert len(error) == 1 and "step 'automl' failed: ConfigError" in error[0] and "allowed_models" in error[0]
    assert "Traceback" not in result.stderr


def test_notebook_08_deploys_through_the_pipeline_and_06_consumes_the_service(ws, root, second, heart_csv):
    """The heart of `amlpipe run --pipeline`: 08 in place of 03-05, then 06 calls the service it deployed."""
    parameters = {"WORKSPACE_DIR": str(ws.root), "BACKEND": "local", "DATA": str(heart_csv), "DEPLOY": True,
                  "SETTINGS_OVERRIDES": {"automl.experiment_timeout_minutes": TEST_BUDGET_MINUTES, **HOLDOUT},
                  "PUBLISH": "hf-notebook"}
    try:
        results = run_pipeline(parameters, root / "executed", steps=[PIPELINE_STEP, "06_consume"])
    finally:
        for running in ws.list_services():
            running.delete()
    records = {r.name: r.records for r in results}
    made = records[PIPELINE_STEP]
    assert made["status"] == "Completed" and made["scoring_uri"].startswith(f"http://{HOST}:")
    assert [(s["name"], s["status"], s["reused"]) for s in made["steps"]] == [
        ("automl", "Completed", True), ("register", "Completed", True), ("deploy", "Completed", False)]
    assert made["published"] == "hf-notebook:1" and made["scheduled"] is False
    assert records["06_consume"]["answer"]["result"] in ([True], [False])  # the dataset's first record
    assert PIPELINE_STEPS == ("01_setup", "02_data", PIPELINE_STEP, "06_consume")  # what --pipeline runs
