"""The backend contract: every registered backend passes these, on the same world.

(The contract of the scoring endpoint's requests is another thing: tests/unit/test_contract.py.)
"""

from __future__ import annotations

import inspect

import pandas as pd
import pytest

import amlpipe
from amlpipe import ConfigError, ResourceError, protocols

from ..conftest import LESSON_RECORD
from .conftest import EXPERIMENT, MODEL

pytestmark = pytest.mark.slow


def _methods(protocol):
    """The protocol's own methods (not its properties or attributes)."""
    return {
        name: member for klass in reversed(protocol.__mro__) if klass.__module__ == protocols.__name__
        for name, member in vars(klass).items() if inspect.isfunction(member) and not name.startswith("_")
    }


def _parameters(function):
    """Name, kind and default of each parameter after the first (``self``, or ``ws`` for a module function used as a method)."""
    return [(p.name, p.kind, p.default) for p in list(inspect.signature(function).parameters.values())[1:]]


def _handles(world):
    best_run, _ = world.first.get_output()
    return [
        (protocols.Workspace, world.ws),
        (protocols.Experiment, world.experiment),
        (protocols.AutoMLRun, world.first),
        (protocols.Run, best_run),
        (protocols.Run, world.first.get_children()[0]),
        (protocols.Model, world.ws.get_model(MODEL)),
        (protocols.Dataset, world.dataset),
        (protocols.Compute, world.compute),
        (protocols.Service, world.service),
    ]


def test_handles_have_the_protocols_methods_with_the_same_signatures(world):
    for protocol, handle in _handles(world):
        assert isinstance(handle, protocol), f"{type(handle).__name__} lacks a member of {protocol.__name__}"
        for name, expected in _methods(protocol).items():
            actual = getattr(type(handle), name)
            assert _parameters(actual) == _parameters(expected), f"{type(handle).__name__}.{name}"


def test_unknown_names_are_the_same_resource_error(world):
    ws, name = world.ws, world.ws.name
    expected = {
        lambda: ws.get_experiment("nope"): f"experiment 'nope' not found in workspace {name}",
        lambda: ws.get_compute("nope"): f"compute 'nope' not found in workspace {name}",
        lambda: ws.get_dataset("nope"): f"dataset 'nope' is not registered in workspace {name} (datasets: ",
        lambda: ws.get_dataset(world.dataset.name, 99): f"dataset '{world.dataset.name}' has no version 99 (latest: ",
        lambda: ws.get_model("nope"): f"model 'nope' is not registered in workspace {name} (models: ",
        lambda: ws.get_model(MODEL, 99): f"model '{MODEL}' has no version 99 (latest: 2)",
        lambda: ws.get_service("nope"): f"service 'nope' not found in workspace {name} (services: contract-service)",
        lambda: world.experiment.get_run("nope"): f"run 'nope' not found in experiment '{EXPERIMENT}'",
    }
    for call, message in expected.items():
        with pytest.raises(ResourceError) as info:
            call()
        assert str(info.value).startswith(message)
    with pytest.raises(ConfigError, match="version 'newest' is neither a number nor 'latest'"):
        ws.get_model(MODEL, "newest")


def test_latest_is_the_newest_run_and_the_highest_version(world):
    experiment = world.experiment
    assert [r.id for r in experiment.get_runs()][:2] == [world.latest.id, world.first.id]
    for latest in (experiment.get_run(), experiment.get_run("latest"), experiment.get_run(None)):
        assert latest.id == world.latest.id
    assert experiment.get_run(world.first.id).id == world.first.id
    ws = world.ws
    assert [ws.get_model(MODEL, v).version for v in ("latest", None, 1, "1", 2)] == [2, 2, 1, 1, 2]
    assert ws.get_model(MODEL).id == f"{MODEL}:2"
    assert ws.get_dataset(world.dataset.name).version == ws.get_dataset(world.dataset.name, world.dataset.version).version


@pytest.mark.parametrize("which, metric, best_first", [
    ("first", "AUC_weighted", "descending"),
    ("latest", "normalized_root_mean_squared_error", "ascending"),
])
def test_leaderboard_shape_and_order_follow_the_primary_metric(world, which, metric, best_first):
    run = getattr(world, which)
    board = run.get_leaderboard()
    assert run.primary_metric == metric
    assert list(board.columns) == ["iteration", "algorithm", metric, "duration_s", "elapsed_s", "run_id"]
    assert sorted(board.run_id) == sorted(child.id for child in run.get_children())
    scores = board[metric].dropna()
    assert len(scores) >= 2 and scores.nunique() >= 2
    assert scores.is_monotonic_decreasing if best_first == "descending" else scores.is_monotonic_increasing
    assert board.index.tolist() == list(range(len(board)))


def test_runs_complete_and_their_best_run_is_a_child(world):
    run = world.first
    assert run.status == "Completed" and run.wait_for_completion()["status"] == "Completed"
    best_run, _ = run.get_output()
    assert best_run.id in [child.id for child in run.get_children()]
    assert isinstance(best_run.get_metrics()["AUC_weighted"], float)
    assert best_run.get_properties() == best_run.properties


def test_register_model_defaults_to_the_model_settings(world):
    defaults = amlpipe.ModelSettings()
    model = world.first.register_model()
    assert (model.name, model.description) == (defaults.model_name, defaults.description)
    assert dict(defaults.tags).items() <= model.tags.items()
    assert world.ws.get_model(defaults.model_name).id == model.id == f"{model.name}:{model.version}"


def test_out_of_fold_predictions_are_a_frame_or_none(world):
    """A frame with the truth and the predictions where the backend keeps them, else None (never an error)."""
    oof = world.cv_run().get_oof_predictions()
    assert (oof is not None) == world.keeps_oof
    if oof is not None:
        assert list(oof.columns)[:2] == ["y_true", "y_pred"]
        assert all(c.startswith("proba_") for c in oof.columns[2:]) and len(oof) == 299
    assert world.latest.get_oof_predictions() is None  # holdout validation (locally), not downloaded (Azure)


def test_dataset_reuse_follows_the_backends_rule(world, backend, tmp_path):
    ws = world.ws
    settings = amlpipe.DatasetSettings(name="contract-data")
    first = ws.register_dataset(world.csv, settings)
    assert ws.register_dataset(world.csv, settings).version == first.version  # the same data: reused everywhere
    other = tmp_path / "fewer_rows.csv"
    pd.read_csv(world.csv).iloc[10:].to_csv(other, index=False)
    again = ws.register_dataset(other, settings)
    expected = {"content": first.version + 1, "name": first.version}[backend.dataset_reuse]
    assert again.version == expected
    assert ws.get_dataset("contract-data").version == expected


def test_compute_get_or_create_get_and_delete(world):
    ws = world.ws
    settings = amlpipe.ComputeSettings(name="contract-cluster")
    created = ws.get_or_create_compute(settings)
    assert ws.get_compute("contract-cluster").name == created.name == "contract-cluster"
    assert created.max_workers >= 1
    assert ws.delete_compute("contract-cluster") == ["compute contract-cluster"]
    assert ws.delete_compute("contract-cluster") == []
    with pytest.raises(ResourceError, match="compute 'contract-cluster' not found"):
        ws.get_compute("contract-cluster")


def test_experiment_get_or_create_then_get(world):
    assert world.ws.get_or_create_experiment("contract-new").name == "contract-new"
    assert world.ws.get_experiment("contract-new").name == "contract-new"


def test_service_found_by_name_scores_and_is_deleted(world):
    ws, service = world.ws, world.service
    assert service.state == "Healthy"
    assert ws.get_service(service.name).scoring_uri == service.scoring_uri
    assert service.name in [s.name for s in ws.list_services()]
    assert service.model == (MODEL, 2)
    answer = service.run({"data": [LESSON_RECORD]})
    assert len(answer["result"]) == 1 and answer["result"][0] in (True, False)
    assert isinstance(service.get_logs(), str) and len(service.get_logs(lines=2).splitlines()) <= 2
    service.delete()
    with pytest.raises(ResourceError, match=f"service '{service.name}' not found"):
        ws.get_service(service.name)
