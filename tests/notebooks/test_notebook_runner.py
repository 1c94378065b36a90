"""The notebooks executed with papermill on the local backend, through `amlpipe run`, and each one's recorded values.

The whole pipeline runs once, from an installed wheel (not the checkout), with settings
overridden by a settings file and `--set`, to show that every override reaches its notebook.
"""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile

import pytest

from amlpipe.notebook import read_records
from amlpipe.notebook_runner import CLEANUP_STEP, STEPS, run_pipeline

from ..conftest import ROOT

pytestmark = pytest.mark.slow

# Overrides for the run: a settings file renames the experiment and the service; --set changes AutoML.
SETTINGS_FILE = """\
experiment_name: hf-overrides
service:
  name: hf-overrides-svc
"""
SET = ["automl.allowed_models=[\"LightGBM\"]", "automl.n_cross_validations=5", "automl.test_size=0.2"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """amlpipe built into a wheel and installed from it (not editable) into a new venv outside the checkout.

    The venv sees this environment's dependencies (a path line in a .pth file, which does not run
    the editable install's finder), so nothing is downloaded; amlpipe itself comes from the wheel.
    """
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"
    for name in ("src", "notebooks", "inference"):  # a copy, so that the build leaves nothing in the checkout
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "wheel", "--no-deps", "-q", "-w", str(root / "dist"), str(source)],
                   check=True, capture_output=True, timeout=600)
    wheel = next((root / "dist").glob("amlpipe-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (venv / site / "amlpipe_test_dependencies.pth").write_text("".join(f"{path}\n" for path in ours))
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return {"venv": venv, "python": python, "wheel": wheel, "site": site}


@pytest.fixture(scope="module")
def pipeline_run(installed, heart_csv, tmp_path_factory):
    """The installed `amlpipe run --budget-minutes 0.25 --cleanup` with overrides, from an empty folder."""
    root = tmp_path_factory.mktemp("pipeline")
    settings_file = root / "settings.yaml"
    settings_file.write_text(SETTINGS_FILE)
    here = root / "empty"
    here.mkdir()
    env = {**os.environ, "AMLPIPE_DATA": str(heart_csv), "PATH": f"{installed['venv'] / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    command = [str(installed["venv"] / "bin" / "amlpipe"), "run", "--budget-minutes", "0.25", "--cleanup",
               "--settings", str(settings_file), *(arg for item in SET for arg in ("--set", item))]
    result = subprocess.run(command, capture_output=True, text=True, cwd=here, env=env, timeout=900)
    outputs = list((here / "runs").glob("*")) if (here / "runs").is_dir() else []
    return result, outputs[0] if len(outputs) == 1 else None


def test_the_wheel_carries_the_notebooks_and_the_scoring_script(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    expected = {f"amlpipe/notebooks/{name}.ipynb" for name in (*STEPS, CLEANUP_STEP)}
    assert expected | {"amlpipe/notebooks/config.json.example", "amlpipe/scoring/score.py"} <= names
    modules = {str(p.relative_to(ROOT / "src")) for p in (ROOT / "src" / "amlpipe").rglob("*.py")}
    assert modules <= names  # every subpackage too
    code = "import amlpipe, amlpipe.resources as r; print(amlpipe.__file__); print(r.notebook_dir()); print(r.score_script())"
    found = subprocess.run([str(installed["python"]), "-c", code], capture_output=True, text=True, check=True, cwd="/")
    for line in found.stdout.splitlines():  # the installed copy, not the checkout
        assert line.startswith(installed["site"]) and not line.startswith(str(ROOT)), line
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
    assert ('settings changed: experiment_name="hf-overrides", service.name="hf-overrides-svc", '
            'automl.allowed_models=["LightGBM"], automl.n_cross_validations=5, automl.test_size=0.2, '
            'automl.experiment_timeout_minutes=0.25') in result.stdout


def test_setup_and_data_records(pipeline_run):
    _, output = pipeline_run
    setup = records(output, "01_setup")
    assert (setup["backend"], setup["experiment"], setup["compute"]) == ("local", "hf-overrides", "heart-f-cluster")
    data = records(output, "02_data")
    assert (data["rows"], data["classes"], data["version"]) == (299, {"0": 203, "1": 96}, 1)
    assert data["guardrails"]["target leakage"] == "warning"
    assert data["guardrails"]["class balance"] == "passed"


def test_train_and_register_records(pipeline_run):
    _, output = pipeline_run
    train = records(output, "03_train")
    assert train["status"] == "Completed" and 0.8 < train["score"] <= 1.0 and train["trials"] >= 3
    register = records(output, "04_register")
    assert register["model_version"] >= 1 and register["run_id"] == train["run_id"]
    assert register["top_feature"] in {"time", "serum_creatinine", "ejection_fraction", "age"}


def test_settings_overrides_reach_automl(pipeline_run):
    """--set automl.allowed_models and automl.n_cross_validations reach the AutoML run of notebook 03."""
    _, output = pipeline_run
    train = records(output, "03_train")
    assert "LightGBM" in train["algorithms"]  # and its fixed configurations (LightGBMStumps ...), and the ensembles
    assert all(a.startswith("LightGBM") or a in ("VotingEnsemble", "StackEnsemble") for a in train["algorithms"])
    assert records(output, "04_register")["validation"] == "5-fold CV"
    assert 0.7 < records(output, "04_register")["test_score"] <= 1.0  # automl.test_size: the test run's AUC


def test_deploy_consume_cleanup_records(pipeline_run):
    _, output = pipeline_run
    deploy = records(output, "05_deploy")
    assert deploy["service"] == "hf-overrides-svc"  # from the settings file
    assert deploy["state"] == "Healthy" and deploy["scoring_uri"].startswith("http://127.0.0.1:")
    consume = records(output, "06_consume")
    assert list(consume["answer"]) == ["result"] and consume["answer"]["result"] in ([True], [False])  # the first record
    assert consume["agree"] == consume["compared"] == 50
    assert consume["bad_status"] == 400 and "field 'age'" in consume["bad_message"]
    cleanup = records(output, "07_cleanup")
    assert cleanup["deleted"] == ["service hf-overrides-svc"] and cleanup["services_left"] == []


def test_executed_notebooks_hold_no_secrets_and_show_progress_lines(pipeline_run):
    _, output = pipeline_run
    train = (output / "03_train.ipynb").read_text()
    assert "AutoML: finished in" in train
    for path in output.glob("*.ipynb"):
        assert "primary_key" not in path.read_text()


def test_drop_leakage_registers_the_data_without_the_leaking_column(heart_csv, tmp_path):
    ws_dir = str(tmp_path / "ws")
    parameters = {"WORKSPACE_DIR": ws_dir, "BACKEND": "local", "DATA": str(heart_csv), "DROP_LEAKAGE": True}
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


def test_the_notebooks_run_on_a_users_own_data_with_three_text_classes(tmp_path):
    """A CSV that is not the lesson's: text label of three classes, a text feature, gaps."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    rows = 240
    colour = rng.choice(["red", "green", "blue"], rows)
    bill, flipper = rng.normal(size=rows), rng.normal(size=rows)
    score = bill + (colour == "red") - 0.5 * flipper
    frame = pd.DataFrame({"bill": bill, "flipper": flipper, "colour": colour,
                          "species": np.where(score > 0.8, "Adelie", np.where(score < -0.5, "Gentoo", "Chinstrap"))})
    frame.loc[rng.random(rows) < 0.05, "bill"] = np.nan
    frame.loc[rng.random(rows) < 0.05, "colour"] = np.nan
    csv = tmp_path / "penguins.csv"
    frame.to_csv(csv, index=False)
    overrides = {"dataset.schema": "any", "dataset.name": "penguins", "dataset.leakage_columns": {},
                 "automl.label_column_name": "species", "automl.experiment_timeout_minutes": 0.1}
    parameters = {"WORKSPACE_DIR": str(tmp_path / "ws"), "BACKEND": "local", "DATA": str(csv),
                  "SETTINGS_OVERRIDES": overrides}
    results = {r.name: r.records for r in run_pipeline(parameters, tmp_path / "out", cleanup=True)}
    counts = frame.species.value_counts()
    assert results["02_data"]["classes"] == {c: int(counts[c]) for c in ("Adelie", "Chinstrap", "Gentoo")}
    assert results["03_train"]["status"] == "Completed"
    assert results["04_register"]["top_feature"] in {"bill", "flipper", "colour"}
    consume = results["06_consume"]
    assert consume["answer"]["result"][0] in {"Adelie", "Chinstrap", "Gentoo"}  # the class itself, not its code
    assert consume["agree"] == consume["compared"] == 50
    assert consume["bad_status"] == 400 and "field 'bill'" in consume["bad_message"]
    assert results["07_cleanup"]["services_left"] == []
