"""Settings overrides: from a settings file and `--set` to the one notebook parameter, and the CLI's defaults."""

import json
import subprocess
import sys

import pytest

from amlpipe import ConfigError, Settings, load_settings
from amlpipe import overrides
from amlpipe.cli import build_parser

from ..conftest import ROOT, named_defaults


@pytest.mark.parametrize("text, expected", [
    ('automl.allowed_models=["LightGBM"]', ("automl.allowed_models", ["LightGBM"])),
    ("automl.n_cross_validations=5", ("automl.n_cross_validations", 5)),
    ("automl.enable_early_stopping=false", ("automl.enable_early_stopping", False)),
    ("automl.iterations=null", ("automl.iterations", None)),
    ("experiment_name=my-exp", ("experiment_name", "my-exp")),
    ("model.description=a=b", ("model.description", "a=b")),
])
def test_set_values_are_read_as_json_when_they_are_json(text, expected):
    assert overrides.parse_assignment(text) == expected


@pytest.mark.parametrize("text", ["automl.iterations", "=5"])
def test_set_without_key_or_value_is_named(text):
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        overrides.parse_assignment(text)


def test_files_in_json_and_yaml_with_groups_or_dotted_keys(tmp_path):
    (tmp_path / "a.yaml").write_text("automl:\n  iterations: 7\n  allowed_models: [LightGBM]\nmodel:\n  tags: {team: hf}\n")
    (tmp_path / "b.json").write_text(json.dumps({"experiment_name": "x", "compute.max_nodes": 2}))
    assert overrides.read_file(tmp_path / "a.yaml") == {
        "automl.iterations": 7, "automl.allowed_models": ["LightGBM"], "model.tags": {"team": "hf"}}
    assert overrides.read_file(tmp_path / "b.json") == {"experiment_name": "x", "compute.max_nodes": 2}


@pytest.mark.parametrize("name, content, message", [
    ("bad.json", "{oops", "bad.json: not valid JSON (line 1"),
    ("bad.yaml", "automl: [", "bad.yaml: not valid YAML"),
    ("list.yaml", "- 1\n- 2\n", "list.yaml: expected a mapping of settings"),
    ("settings.toml", "x = 1", "settings.toml: a settings file must end in .json, .yaml or .yml"),
])
def test_bad_settings_file_is_named(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        overrides.read_file(tmp_path / name)


def test_later_sources_win_file_then_set_then_options(tmp_path):
    (tmp_path / "s.json").write_text(json.dumps({"automl": {"iterations": 1, "n_cross_validations": 3}}))
    gathered = overrides.gather([tmp_path / "s.json"], ["automl.iterations=2", "automl.seed=7"],
                                {"automl.seed": 8, "experiment_name": None})
    assert gathered == {"automl.iterations": 2, "automl.n_cross_validations": 3, "automl.seed": 8}


def test_load_settings_takes_a_mapping_or_its_json_text():
    from_text = load_settings('{"automl.allowed_models": ["LightGBM"], "automl.n_cross_validations": 5}')
    assert from_text.automl.allowed_models == ("LightGBM",) and from_text.automl.n_cross_validations == 5
    assert load_settings({"automl.n_cross_validations": 5}) == from_text.override({"automl.allowed_models": None})
    assert load_settings(None) == load_settings("") == load_settings({}) == Settings()
    with pytest.raises(ConfigError, match="SETTINGS_OVERRIDES: not valid JSON"):
        load_settings("{automl")
    with pytest.raises(ConfigError, match="unknown setting 'automl.nope'"):
        load_settings({"automl.nope": 1})


def test_lesson_facts_live_in_the_settings_not_in_generic_code():
    """The label, the metric, the leaking column appear in settings.py only (data.py takes them from there)."""
    lesson = ['"DEATH_EVENT"', '"AUC_weighted"', '"time"']
    generic = [p for p in (ROOT / "src" / "amlpipe").rglob("*.py") if p.name not in ("settings.py", "metrics.py")]
    for path in generic:
        text = path.read_text()
        for value in lesson:
            assert value not in text, f"{path.relative_to(ROOT)} holds {value}"
    assert Settings().dataset.leakage_columns.keys() == {"time"}


def test_cli_defaults_come_from_settings():
    """cli.py restates no default of Settings; its help shows the Settings values."""
    source = (ROOT / "src" / "amlpipe" / "cli.py").read_text()
    for key, value in named_defaults().items():
        assert f'"{value}"' not in source, f"cli.py restates {key} = {value!r}"
    commands = build_parser()._subparsers._group_actions[0].choices
    assert f"(default {Settings().service.name})" in commands["score"].format_help()
    assert f"(default {Settings().experiment_name})" in commands["status"].format_help()


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "amlpipe", *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def test_run_refuses_a_bad_override_before_any_notebook(tmp_path):
    out = run_cli("run", "--workspace", str(tmp_path / "ws"), "--set", "automl.n_cross_validations=1", cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "amlpipe: error: setting 'automl.n_cross_validations' = 1 must be 2 or more"]
    assert "01_setup" not in out.stdout and not (tmp_path / "runs").exists()
