"""AutoML on the real data with a budget of seconds, tracked in MLflow, then registered."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import amlpipe
from amlpipe import ResourceError

from ..conftest import LESSON_RECORD

pytestmark = pytest.mark.slow


def test_run_completes_with_a_logged_cv_auc(trained):
    run = trained["run"]
    assert run.status == "Completed"
    auc = run.get_metrics()["AUC_weighted"]
    assert 0.8 < auc <= 1.0
    assert run.tags["amlpipe.validation"] == "10-fold CV"
    assert run.properties["primary_metric"] == "AUC_weighted"
    assert run.tags["dataset"] == f"heart-failure-records:{trained['dataset'].version}"


def test_one_child_run_per_trial_plus_fixed_configurations_and_ensembles(trained):
    run = trained["run"]
    children = run.get_children()
    trials = int(run.get_metrics()["trials"])
    searched = [c for c in children if "learner" in c.properties]
    assert trials >= 3 and len(searched) == trials
    assert {"AUC_weighted", "duration_seconds"} <= set(searched[0].get_metrics())
    others = {c.tags["amlpipe.algorithm"]: c for c in children if c not in searched}
    # Each fixed configuration and the stack ensemble has a child run, or the run says it was cut for time.
    cuts = run.tags.get("amlpipe.budget_cuts", "")
    fixed = {"RandomForestMinLeaf5", "ExtremeRandomTreesMinLeaf5", "LightGBMSlow", "LightGBMStumps", "LightGBMMedium"}
    assert set(others) - fixed - {"StackEnsemble", "VotingEnsemble"} == set()
    assert all(name in others or name in cuts for name in fixed)
    assert "StackEnsemble" in others or cuts  # no stack: candidates or the stack itself were cut for time
    assert all(primary in c.get_metrics() for c in others.values() for primary in ["AUC_weighted"])
    assert [c for c in children if c.tags.get("amlpipe.best") == "true"] != []


def test_leaderboard_is_sorted_best_first(trained):
    board = trained["run"].get_leaderboard()
    assert list(board.columns)[:3] == ["iteration", "algorithm", "AUC_weighted"]
    assert board["AUC_weighted"].is_monotonic_decreasing


def test_get_output_gives_the_best_run_and_a_pipeline_on_raw_records(trained, heart_csv):
    best_run, model = trained["run"].get_output()
    assert best_run.tags.get("amlpipe.best") == "true"
    assert best_run.get_metrics()["AUC_weighted"] == pytest.approx(trained["run"].get_metrics()["AUC_weighted"])
    df = pd.read_csv(heart_csv)
    proba = model.predict_proba(df.drop(columns=["DEATH_EVENT"]))
    assert proba.shape == (299, 2)
    assert set(model.predict(df.drop(columns=["DEATH_EVENT"]).head(20))) <= {0, 1}


def test_out_of_fold_predictions_cover_every_row(trained):
    oof = trained["run"].get_oof_predictions()
    assert len(oof) == 299
    assert list(oof.columns) == ["y_true", "y_pred", "proba_0", "proba_1"]
    assert oof["y_pred"].nunique() == 2  # the model does not predict one class for everyone


def test_registered_model_folder(trained):
    model = trained["model"]
    assert model.name == "heart-failure-automl" and model.version >= 1
    assert model.description == "aml heart failure project sdk"
    assert {"model.pkl", "requirements.txt", "metadata.json"} <= {p.name for p in model.path.iterdir()}
    requirements = (model.path / "requirements.txt").read_text()
    assert "scikit-learn==" in requirements
    meta = model.properties
    assert meta["primary_metric"] == "AUC_weighted"
    assert meta["dataset"].startswith("heart-failure-records:")
    assert meta["input_schema"]["anaemia"] == "boolean"
    assert model.tags["algorithm"] == meta["algorithm"]


def test_the_default_runs_model_is_registered_in_onnx_too(trained, heart_csv):
    import onnxruntime

    from amlpipe import onnx_export

    model = trained["model"]
    assert model.properties["onnx_file"] == "model.onnx" and (model.path / "model.onnx").is_file()
    assert "onnxruntime==" in (model.path / "requirements.txt").read_text()
    _, proto = trained["run"].get_output(return_onnx_model=True)
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    features = pd.read_csv(heart_csv).drop(columns=["DEATH_EVENT"])
    labels, proba = session.run(None, onnx_export.feeds(features, model.properties["input_schema"]))
    pipeline = model.load()
    np.testing.assert_array_equal(labels, pipeline.predict(features))
    np.testing.assert_allclose(proba, pipeline.predict_proba(features), rtol=0, atol=1e-5)


def test_registering_again_adds_a_version_and_latest_follows(trained):
    ws, run = trained["ws"], trained["run"]
    again = run.register_model("heart-failure-automl")
    assert again.version == trained["model"].version + 1
    assert ws.get_model("heart-failure-automl").version == again.version
    assert ws.get_model("heart-failure-automl", trained["model"].version).version == trained["model"].version
    with pytest.raises(ResourceError, match="model 'nope' is not registered"):
        ws.get_model("nope")


def test_reattach_to_the_latest_run_from_a_new_connection(trained):
    ws = amlpipe.connect(backend="local", workspace_dir=trained["ws"].root)
    experiment = ws.get_experiment("aml-experiment")
    assert experiment.get_run().id == trained["run"].id
    assert experiment.get_run(trained["run"].id).status == "Completed"
    with pytest.raises(ResourceError, match="run 'abc' not found"):
        experiment.get_run("abc")


def test_feature_importance_of_the_registered_pipeline(trained, heart_csv):
    from amlpipe import explain

    importance = explain.feature_importance(trained["model"].load(), pd.read_csv(heart_csv), "DEATH_EVENT", "AUC_weighted",
                                            repeats=2)
    assert set(importance.feature) == set(pd.read_csv(heart_csv).columns) - {"DEATH_EVENT"}
    assert importance.importance.is_monotonic_decreasing
    assert importance.feature.iloc[0] == "time"  # follow-up time dominates on this data (the leakage guardrail)


def test_debug_log_is_written(trained):
    log = trained["root"] / "automl_errors.log"
    assert log.exists() and "searching" in log.read_text()


def test_the_registered_model_predicts_the_lesson_record_in_a_fresh_process(trained):
    script = (
        "import json, sys, joblib, pandas as pd\n"
        "model = joblib.load(sys.argv[1])\n"
        "record = {k: (v == 'true') if v in ('true', 'false') else float(v) for k, v in json.loads(sys.argv[2]).items()}\n"
        "frame = pd.DataFrame([record]).astype(float)\n"
        "print(json.dumps({'label': int(model.predict(frame)[0]), 'p': float(model.predict_proba(frame)[0, 1])}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(trained["model"].path / "model.pkl"), json.dumps(LESSON_RECORD)],
        capture_output=True, text=True, check=True,
    )
    answer = json.loads(out.stdout)
    assert answer["label"] in (0, 1)
    assert 0.0 <= answer["p"] <= 1.0
    # The lesson's answer for this average patient with long follow-up is "survives".
    assert answer["label"] == 0


def test_a_fixed_configuration_that_wins_holds_the_outputs(tmp_path, heart_csv, monkeypatch):
    """The fixed configurations are no search trials: when one is the final model, its own child run holds it."""
    from amlpipe.backends.local import automl

    pick_final = automl.pick_final

    def pick_a_fixed_lightgbm(candidates, *args, **kwargs):
        _, _, options, cuts = pick_final(candidates, *args, **kwargs)
        return next(c for c in options if c.name.startswith("LightGBM") and c.name != "LightGBM"), {}, options, cuts

    monkeypatch.setattr(automl, "pick_final", pick_a_fixed_lightgbm)
    settings = amlpipe.Settings().override({
        "automl.experiment_timeout_minutes": 0.3, "automl.allowed_models": ["LightGBM"], "automl.path": str(tmp_path),
        "automl.n_cross_validations": 3,
    })
    ws = amlpipe.connect(backend="local", workspace_dir=tmp_path / "ws")
    run = ws.get_or_create_experiment("fixed").submit(
        settings.automl, ws.register_dataset(heart_csv, settings.dataset), ws.get_or_create_compute(settings.compute),
        show_output=False)
    best_run, model = run.get_output()
    assert best_run.tags["amlpipe.algorithm"] in ("LightGBMSlow", "LightGBMStumps", "LightGBMMedium")
    assert "estimator" in best_run.properties and "learner" not in best_run.properties
    assert model.predict_proba(pd.read_csv(heart_csv).drop(columns=["DEATH_EVENT"]).head(3)).shape == (3, 2)
