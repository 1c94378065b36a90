"""Shared fixtures: the real dataset and a workspace with a trained, registered model."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_CSV = ROOT.parent / "shared" / "data" / "heart_failure_clinical_records_dataset.csv"
# The lesson's request record, values as strings.
LESSON_RECORD = {
    "age": "60", "anaemia": "false", "creatinine_phosphokinase": "500", "diabetes": "false",
    "ejection_fraction": "38", "high_blood_pressure": "false", "platelets": "260000",
    "serum_creatinine": "1.40", "serum_sodium": "137", "sex": "false", "smoking": "false", "time": "130",
}
# A budget of seconds: enough for a few dozen trials on this data.
TEST_BUDGET_MINUTES = 0.1


@pytest.fixture(scope="session")
def heart_csv() -> Path:
    """The real UCI file: AMLPIPE_DATA, else ../shared/data/. Never downloaded by tests."""
    path = Path(os.environ.get("AMLPIPE_DATA") or SHARED_CSV)
    if not path.is_file():
        pytest.fail(f"the heart-failure CSV is needed by the tests: set AMLPIPE_DATA (looked at {path})")
    return path


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, _session_cache):
    """No test reads the developer's config.json, backend choice or cache (the tests share one cache)."""
    monkeypatch.delenv("AMLPIPE_BACKEND", raising=False)
    monkeypatch.delenv("AMLPIPE_WORKSPACE", raising=False)
    monkeypatch.setenv("AMLPIPE_CACHE_DIR", str(_session_cache))


@pytest.fixture(scope="session")
def trained(heart_csv, tmp_path_factory):
    """A local workspace where AutoML ran on the real data and the best model is registered."""
    import amlpipe

    root = tmp_path_factory.mktemp("trained")
    settings = amlpipe.Settings().override(
        {"automl.experiment_timeout_minutes": TEST_BUDGET_MINUTES, "automl.path": str(root)}
    )
    ws = amlpipe.connect(backend="local", workspace_dir=root / "ws")
    experiment = ws.get_or_create_experiment(settings.experiment_name)
    compute = ws.get_or_create_compute(settings.compute)
    dataset = ws.register_dataset(heart_csv, settings.dataset)
    run = experiment.submit(settings.automl, dataset, compute, show_output=False)
    model = run.register_model(settings.model.model_name, settings.model.description, dict(settings.model.tags))
    return {"ws": ws, "run": run, "model": model, "settings": settings, "dataset": dataset, "root": root}


def settings_defaults(settings=None, prefix=""):
    """Every default of `Settings` as dotted key -> value."""
    from amlpipe import Settings

    settings = settings or Settings()
    found = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value):
            found.update(settings_defaults(value, f"{f.name}."))
        else:
            found[prefix + f.name] = value
    return found


def named_defaults():
    """The defaults a notebook or the CLI would be tempted to restate: names, label, metric, description, VM size."""
    return {k: v for k, v in settings_defaults().items()
            if isinstance(v, str) and (k.endswith(("name", "_metric", "description")) or k == "compute.vm_size")}
