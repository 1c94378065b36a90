"""The notebooks executed with papermill on the local backend, through `amlpipe run`, and each one's recorded values."""

import subprocess
import sys

import pytest

from amlpipe.notebook import read_records
from amlpipe.notebook_runner import CLEANUP_STEP, STEPS, run_pipeline

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pipeline_run(heart_csv, tmp_path_factory):
    """`amlpipe run --cleanup` once, end to end, with an AutoML budget of seconds."""
    root = tmp_path_factory.mktemp("pipeline")
    output = root / "executed"
    result = subprocess.run(
        [sys.executable, "-m", "amlpipe", "run", "--budget-minutes", "0.1", "--data", str(heart_csv),
         "--workspace", str(root / "ws"), "--output", str(output), "--cleanup"],
        capture_output=True, text=True, cwd=root, timeout=900,
    )
    return result, output


def records(output, name):
    return read_records(output / f"{name}.ipynb")


def test_amlpipe_run_executes_every_notebook_in_order(pipeline_run):
    result, output = pipeline_run
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    names = [*STEPS, CLEANUP_STEP]
    assert [line.split()[1] for line in lines] == names
    assert all(" done in " in line for line in lines)
    assert sorted(p.stem for p in output.glob("*.ipynb")) == names


def test_setup_and_data_records(pipeline_run):
    _, output = pipeline_run
    setup = records(output, "01_setup")
    assert (setup["backend"], setup["experiment"], setup["compute"]) == ("local", "aml-experiment", "heart-f-cluster")
    data = records(output, "02_data")
    assert (data["rows"], data["positives"], data["version"]) == (299, 96, 1)
    assert data["guardrails"]["target leakage"] == "warning"
    assert data["guardrails"]["class balance"] == "passed"


def test_train_and_register_records(pipeline_run):
    _, output = pipeline_run
    train = records(output, "03_train")
    assert train["status"] == "Completed" and 0.8 < train["score"] <= 1.0 and train["trials"] >= 3
    register = records(output, "04_register")
    assert register["model_version"] >= 1 and register["run_id"] == train["run_id"]
    assert register["top_feature"] in {"time", "serum_creatinine", "ejection_fraction", "age"}


def test_deploy_consume_cleanup_records(pipeline_run):
    _, output = pipeline_run
    deploy = records(output, "05_deploy")
    assert deploy["state"] == "Healthy" and deploy["scoring_uri"].startswith("http://127.0.0.1:")
    consume = records(output, "06_consume")
    assert consume["answer"] == {"result": [False]}
    assert consume["agree"] == consume["compared"] == 50
    assert consume["bad_status"] == 400 and "field 'age'" in consume["bad_message"]
    cleanup = records(output, "07_cleanup")
    assert cleanup["deleted"] == ["service automl-hf-sdk"] and cleanup["services_left"] == []


def test_executed_notebooks_hold_no_secrets_and_show_progress_lines(pipeline_run):
    _, output = pipeline_run
    train = (output / "03_train.ipynb").read_text()
    assert "AutoML: finished in" in train
    for path in output.glob("*.ipynb"):
        assert "primary_key" not in path.read_text()


def test_drop_time_registers_the_data_without_the_leaking_column(heart_csv, tmp_path):
    ws_dir = str(tmp_path / "ws")
    parameters = {"WORKSPACE_DIR": ws_dir, "BACKEND": "local", "DATA": str(heart_csv), "DROP_TIME": True}
    results = run_pipeline(parameters, tmp_path / "out", steps=["02_data"])
    data = results[0].records
    assert "time" not in data["columns"] and data["rows"] == 299


def test_run_stops_at_the_failing_notebook_with_its_cell_and_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "amlpipe", "run", "--data", str(tmp_path / "missing.csv"),
         "--workspace", str(tmp_path / "ws"), "--output", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert result.returncode == 1
    assert "[2/6] 02_data FAILED" in result.stdout
    error = [line for line in result.stderr.splitlines() if line.startswith("amlpipe: error:")]
    assert len(error) == 1
    assert "notebook 02_data failed in cell" in error[0] and "DataError" in error[0] and "missing.csv" in error[0]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "03_train.ipynb").exists()
