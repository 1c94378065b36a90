"""The committed notebooks: clean, thin, with the parameters the CLI and the tests pass."""

import re

import nbformat
import pytest

from amlpipe.notebook_runner import CLEANUP_STEP, PIPELINE_STEP, STEPS, declared_parameters
from amlpipe.resources import notebook_dir

from ..conftest import named_defaults

NOTEBOOKS = [notebook_dir() / f"{name}.ipynb" for name in (*STEPS, CLEANUP_STEP, PIPELINE_STEP)]
# What `amlpipe run` and the notebook tests pass, by notebook (the CLI filters by declaration).
EVERYWHERE = {"BACKEND", "CONFIG_PATH", "WORKSPACE_DIR", "SETTINGS_OVERRIDES"}
PASSED = {
    "01_setup": EVERYWHERE,
    "02_data": EVERYWHERE | {"DATA", "DROP_LEAKAGE"},
    "03_train": EVERYWHERE | {"PROGRESS"},
    "04_register": EVERYWHERE,
    "05_deploy": EVERYWHERE,
    "06_consume": EVERYWHERE,
    "07_cleanup": EVERYWHERE,
    "08_pipeline": EVERYWHERE | {"DATA", "DEPLOY", "PUBLISH"},
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_one_parameters_cell_declaring_what_is_passed(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    declared = set(declared_parameters(path))
    assert PASSED[path.stem] <= declared
    assert all(name.isupper() for name in declared)
    for line in tagged[0].source.splitlines():
        assert "#" in line, f"parameter without a comment: {line}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_thin_notebooks(path):
    code = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    source = "\n".join(code)
    assert not re.search(r"^\s*(def|class) ", source, re.M)
    assert "%%writefile" not in source
    assert not re.search(r"^\s*(import|from) azureml", source, re.M)
    assert re.search(r"(?i)(key|secret|password)\s*=", source) is None
    assert "amlpipe.record(" in code[-1]  # the last cell records results for the tests


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_settings_come_from_settings_not_from_the_notebook(path):
    """No notebook restates a default of `Settings` (names, label, metric, sizes): it reads them from
    `amlpipe.load_settings(SETTINGS_OVERRIDES)`, so `amlpipe run --set` reaches every step."""
    code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
    assert "settings = amlpipe.load_settings(SETTINGS_OVERRIDES)" in code
    named = named_defaults()
    assert len(named) >= 8  # experiment, compute, dataset, label, metric, model, service names ...
    for key, value in named.items():
        assert f'"{value}"' not in code and f"'{value}'" not in code, f"{path.stem} restates {key} = {value!r}"
    assert not re.search(r"^[A-Z_]+_NAME = ", code, re.M)
