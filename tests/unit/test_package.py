import subprocess
import sys

from ..conftest import ROOT


def _cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "amlpipe", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_import_amlpipe_does_not_import_the_azure_sdk():
    code = "import sys, amlpipe; print(sorted(m for m in sys.modules if m.startswith('azureml')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_cli_help_explains_each_command():
    out = subprocess.run([sys.executable, "-m", "amlpipe", "train", "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    assert "--budget-minutes" in out.stdout and "examples:" in out.stdout


def test_cli_user_error_is_one_line_without_traceback(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "amlpipe", "train", "--workspace", str(tmp_path / "ws"), "--data", str(tmp_path / "nope.csv")],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert out.returncode == 1
    errors = [line for line in out.stderr.splitlines() if line.startswith("amlpipe: error:")]
    assert errors == [f"amlpipe: error: {tmp_path / 'nope.csv'}: no such file"]
    assert "Traceback" not in out.stderr


def test_cli_malformed_config_names_the_file(tmp_path):
    (tmp_path / "config.json").write_text("{oops")
    out = subprocess.run([sys.executable, "-m", "amlpipe", "train"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 1
    assert f"{tmp_path / 'config.json'}: not valid JSON" in out.stderr
    assert "Traceback" not in out.stderr


def test_init_copies_the_notebooks_and_the_config_example_once(tmp_path):
    target = tmp_path / "project"
    first = _cli("init", str(target), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    copied = sorted(p.name for p in target.iterdir())
    assert copied == sorted([*(p.name for p in (ROOT / "notebooks").glob("*.ipynb")), "config.json.example"])
    assert len(copied) == 9  # notebooks 01-08 and config.json.example
    assert (target / "03_train.ipynb").read_bytes() == (ROOT / "notebooks" / "03_train.ipynb").read_bytes()
    (target / "01_setup.ipynb").write_text("edited")
    again = _cli("init", str(target), cwd=tmp_path)
    assert again.returncode == 1 and f"{target / '01_setup.ipynb'} exists already" in again.stderr
    assert (target / "01_setup.ipynb").read_text() == "edited"  # nothing lost
    forced = _cli("init", str(target), "--force", cwd=tmp_path)
    assert forced.returncode == 0 and (target / "01_setup.ipynb").read_text() != "edited"


def test_run_with_a_folder_missing_a_notebook_names_it(tmp_path):
    out = _cli("run", "--notebooks", str(tmp_path / "empty"), "--workspace", str(tmp_path / "ws"), cwd=tmp_path)
    assert out.returncode == 1
    assert f"notebook 01_setup.ipynb not found in {tmp_path / 'empty'}" in out.stderr
    assert not (tmp_path / "runs").exists()
