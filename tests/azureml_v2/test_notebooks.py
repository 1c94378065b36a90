"""`amlpipe run --backend azureml-v2` executes every notebook with papermill against the fake Azure;
`amlpipe run --pipeline --backend azureml-v2` the challenge pipeline (08) in place of 03-05.

The kernels find the fake through `kernel/sitecustomize.py` (on PYTHONPATH) and share one
cloud kept on disk; only `MLClient` is faked, the rest is the SDK's, MLflow's and the
inference server's own code.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from amlpipe.notebook import read_records
from amlpipe.notebook_runner import CLEANUP_STEP, PIPELINE_STEPS, STEPS

from .conftest import CREDENTIALS
from .fake_cloud import ENV_ROOT, Cloud

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
KERNEL = Path(__file__).resolve().parent / "kernel"


def run_notebooks(heart_csv, root, *flags):
    """`amlpipe run --backend azureml-v2 ...` in a subprocess whose kernels use the fake cloud under ``root``."""
    config = root / "config.json"
    config.write_text('{"subscription_id": "sub", "resource_group": "rg", "workspace_name": "ws"}')
    env = {**os.environ, **CREDENTIALS, ENV_ROOT: str(root / "cloud"),
           "PYTHONPATH": os.pathsep.join([str(KERNEL), str(ROOT)])}
    env.pop("AMLPIPE_BACKEND", None)
    output = root / "executed"
    result = subprocess.run(
        [sys.executable, "-m", "amlpipe", "run", "--backend", "azureml-v2", "--config", str(config),
         "--budget-minutes", "15", "--data", str(heart_csv), "--output", str(output), "--cleanup", *flags],
        capture_output=True, text=True, cwd=root, env=env, timeout=900,
    )
    return result, output, Cloud(root / "cloud", persistent=True)


@pytest.fixture(scope="module")
def notebook_run(heart_csv, tmp_path_factory):
    root = tmp_path_factory.mktemp("v2-notebooks")
    try:
        yield run_notebooks(heart_csv, root)
    finally:
        Cloud(root / "cloud", persistent=True).stop_servers()


@pytest.fixture(scope="module")
def pipeline_run(heart_csv, tmp_path_factory):
    root = tmp_path_factory.mktemp("v2-pipeline")
    try:
        yield run_notebooks(heart_csv, root, "--pipeline")
    finally:
        Cloud(root / "cloud", persistent=True).stop_servers()


def records(output, name):
    return read_records(output / f"{name}.ipynb")


def test_every_notebook_runs_on_the_v2_backend(notebook_run):
    result, output, _ = notebook_run
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("[")]
    assert lines == [*STEPS, CLEANUP_STEP]
    assert "running the notebooks on the azureml-v2 backend" in result.stdout


def test_each_notebooks_records(notebook_run):
    _, output, _ = notebook_run
    assert records(output, "01_setup")["backend"] == "azureml-v2"
    assert records(output, "01_setup")["vm_size"] == "Standard_D2_v2"
    data = records(output, "02_data")
    # the MLTable reads the 0/1 label back as booleans
    assert (data["rows"], data["classes"], data["version"]) == (299, {"False": 203, "True": 96}, 1)
    train = records(output, "03_train")
    assert train["status"] == "Completed" and train["score"] == 0.91 and train["trials"] == 2
    assert train["best_algorithm"] == "VotingEnsemble"
    register = records(output, "04_register")
    assert register["model_version"] == 1 and register["run_id"] == train["run_id"] and register["score"] == 0.91
    deploy = records(output, "05_deploy")
    assert deploy["state"] == "Healthy" and deploy["scoring_uri"].startswith("http://127.0.0.1:")
    consume = records(output, "06_consume")
    assert list(consume["answer"]) == ["result"] and consume["answer"]["result"] in ([True], [False])  # the first record
    assert consume["agree"] == consume["compared"] == 50
    assert consume["bad_status"] == 400 and "field 'age'" in consume["bad_message"]
    cleanup = records(output, "07_cleanup")
    assert cleanup["deleted"] == ["service automl-hf-sdk"] and cleanup["services_left"] == []


def test_the_sdk_calls_across_the_notebooks_in_order(notebook_run):
    _, _, cloud = notebook_run
    writes = [n for n in cloud.names() if "create_or_update" in n or "delete" in n or n == "jobs.stream"]
    assert writes == [
        "compute.begin_create_or_update",  # 01_setup
        "data.create_or_update",  # 02_data
        "jobs.create_or_update", "jobs.stream",  # 03_train
        "models.create_or_update",  # 04_register
        "online_endpoints.begin_create_or_update", "online_deployments.begin_create_or_update",
        "online_endpoints.begin_create_or_update",  # 05_deploy
        "online_endpoints.begin_delete",  # 07_cleanup
    ]
    assert not cloud.state.servers  # the endpoint's server stopped with the endpoint


def test_executed_notebooks_hold_no_secrets(notebook_run):
    _, output, _ = notebook_run
    for path in output.glob("*.ipynb"):
        text = path.read_text()
        assert CREDENTIALS["AZURE_CLIENT_SECRET"] not in text and "primary_key" not in text


def test_the_pipeline_notebook_trains_registers_and_deploys_on_the_v2_backend(pipeline_run):
    result, output, cloud = pipeline_run
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("[")]
    assert lines == [*PIPELINE_STEPS, CLEANUP_STEP]
    challenge = records(output, "08_pipeline")
    assert challenge["status"] == "Completed"
    assert [(s["name"], s["status"], s["reused"]) for s in challenge["steps"]] == [
        ("automl", "Completed", False), ("register", "Completed", False), ("deploy", "Completed", False)]
    assert (challenge["model_name"], challenge["model_version"]) == ("heart-failure-automl", 1)
    assert challenge["service"] == "automl-hf-sdk" and challenge["scoring_uri"].startswith("http://127.0.0.1:")
    assert records(output, "06_consume")["answer"]["result"] in ([True], [False])  # the first record
    writes = [n for n in cloud.names() if "create_or_update" in n or "delete" in n or n in ("jobs.stream", "jobs.list")]
    assert writes == [
        "compute.begin_create_or_update",  # 01_setup
        "data.create_or_update",  # 02_data
        "jobs.create_or_update", "jobs.stream", "jobs.list",  # 08: the pipeline job, its log, its steps
        "online_endpoints.begin_create_or_update", "online_deployments.begin_create_or_update",
        "online_endpoints.begin_create_or_update",  # 08: the deploy step, after the job
        "online_endpoints.begin_delete",  # 07_cleanup
    ]
    assert "components.list" in cloud.names()  # 08 lists the published pipelines (none)
