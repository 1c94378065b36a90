import subprocess
import sys


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


def test_pyproject_lists_every_package_and_maps_the_notebooks_and_score_py_in():
    """The package list is explicit (the notebooks and score.py are mapped in from the top-level
    folders): a new subpackage under src/amlpipe/ must be added to it, or the wheel would lack it."""
    import tomllib

    from ..conftest import ROOT

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    source = ROOT / "src"
    found = {".".join(p.parent.relative_to(source).parts) for p in source.rglob("__init__.py")}
    assert set(config["packages"]) == found | {"amlpipe.notebooks", "amlpipe.scoring"}
    assert config["package-dir"] == {"": "src", "amlpipe.notebooks": "notebooks", "amlpipe.scoring": "inference"}
