"""Labels of every type through the local engine: the original class values come back, every metric works."""

import numpy as np
import pandas as pd
import pytest

from amlpipe import AutoMLSettings, DataError
from amlpipe.backends.local.automl import run_search

pytestmark = pytest.mark.slow


def heart_with_label(heart_csv, kind):
    df = pd.read_csv(heart_csv)
    death = df.pop("DEATH_EVENT")
    labels = {
        "integers 0/1": death,
        "integers 1/2": death + 1,
        "booleans": death.astype(bool),
        "text": death.map({0: "No", 1: "Yes"}),
    }
    return df, labels[kind].rename("outcome")


def iris_with_text_label():
    from sklearn.datasets import load_iris

    iris = load_iris(as_frame=True)
    return iris.data, iris.target.map(dict(enumerate(iris.target_names))).rename("species")


def search(features, label, tmp_path, primary, **settings):
    settings = AutoMLSettings(label_column_name=label.name, primary_metric=primary, experiment_timeout_minutes=0.1,
                              n_cross_validations=3, allowed_models=("LightGBM", "RandomForest"), **settings)
    return run_search(features, label, settings, 1, tmp_path / "trials.jsonl")


@pytest.mark.parametrize("kind, primary", [
    ("integers 0/1", "norm_macro_recall"),
    ("integers 1/2", "average_precision_score_weighted"),
    ("booleans", "precision_score_weighted"),
    ("text", "accuracy"),
    ("several text classes", "AUC_weighted"),
])
def test_any_label_type_gives_its_own_values_back_with_every_metric(heart_csv, tmp_path, kind, primary):
    features, label = iris_with_text_label() if kind == "several text classes" else heart_with_label(heart_csv, kind)
    result = search(features, label, tmp_path, primary)
    classes = sorted(label.unique().tolist())
    assert result.classes == classes
    assert list(result.model.classes_) == classes
    assert set(result.model.predict(features)) <= set(classes)
    assert type(result.model.predict(features.head(1))[0]) is type(np.asarray(label)[0])
    assert set(result.oof.y_true) == set(classes) and set(result.oof.y_pred) <= set(classes)
    assert list(result.oof.columns[2:]) == [f"proba_{c}" for c in classes]
    assert all(np.isfinite(v) for v in result.metrics.values()) and primary in result.metrics
    assert result.metrics["AUC_weighted"] > 0.75  # learned something on every label type
    # the logged accuracy is that of the out-of-fold labels shown in the confusion matrix
    assert result.metrics["accuracy"] == pytest.approx((result.oof.y_true == result.oof.y_pred).mean())
    assert result.metrics[primary] == pytest.approx(result.score) or primary in ("accuracy", "norm_macro_recall",
                                                                                  "precision_score_weighted")


def test_a_class_too_small_for_the_folds_is_named(heart_csv, tmp_path):
    features, label = heart_with_label(heart_csv, "text")
    label = label.copy()
    label.iloc[:2] = "Maybe"
    with pytest.raises(DataError, match="label column 'outcome' has 2 rows of class 'Maybe', fewer than the 3"):
        search(features, label, tmp_path, "AUC_weighted")


@pytest.fixture(scope="module")
def text_label_run(heart_csv, tmp_path_factory):
    """A run on a Yes/No label with a quarter of the rows kept out for testing, and its model folder."""
    from amlpipe.backends.local.experiment import write_model_outputs

    tmp_path = tmp_path_factory.mktemp("text-label")
    features, label = heart_with_label(heart_csv, "text")
    result = search(features, label, tmp_path, "AUC_weighted", test_size=0.25)
    write_model_outputs(tmp_path / "model", result, AutoMLSettings(label_column_name="outcome"), {}, features)
    return result, tmp_path / "model"


def test_test_rows_are_kept_out_and_scored_once(text_label_run):
    result, _ = text_label_run
    assert len(result.oof) == 224  # 299 rows less a quarter, stratified
    assert set(result.test_metrics) == set(result.metrics)
    assert 0.6 < result.test_metrics["AUC_weighted"] <= 1.0
    assert result.test_metrics != result.metrics


def test_the_endpoint_answers_with_the_text_classes(text_label_run, monkeypatch):
    from .test_score_script import answer, load_score_module, request
    from ..conftest import LESSON_RECORD

    _, folder = text_label_run
    score = load_score_module(monkeypatch, folder)
    status, body = answer(score.run(request({"data": [LESSON_RECORD, {**LESSON_RECORD, "time": "4",
                                                                      "ejection_fraction": "20"}]})))
    assert (status, body) == (200, {"result": ["No", "Yes"]})
    status, body = answer(score.run(request({"data": [LESSON_RECORD], "method": "predict_proba"})))
    assert body["classes"] == ["No", "Yes"]


def test_a_run_logs_test_metrics_and_feature_importance(heart_csv, tmp_path):
    import amlpipe

    features, label = heart_with_label(heart_csv, "text")
    ws = amlpipe.connect("local", workspace_dir=tmp_path / "ws")
    settings = AutoMLSettings(label_column_name="outcome", experiment_timeout_minutes=0.2, n_cross_validations=3,
                              test_size=0.2, path=str(tmp_path))
    run = ws.get_or_create_experiment("any-label").submit(settings, features.assign(outcome=label))
    logged = run.get_metrics()
    assert 0.6 < logged["test_AUC_weighted"] <= 1.0 and "test_accuracy" in logged
    assert logged["test_AUC_weighted"] != logged["AUC_weighted"]
    importance = run.get_feature_importance()
    assert set(importance.feature) == set(features.columns)
    assert importance.importance.is_monotonic_decreasing


def test_no_finished_trial_still_gives_a_model_and_says_so(heart_csv, tmp_path, monkeypatch):
    from amlpipe.backends.local import automl

    monkeypatch.setattr(automl, "read_trial_log", lambda path, primary: [])  # as if the budget ran out first
    features, label = heart_with_label(heart_csv, "text")
    settings = AutoMLSettings(label_column_name="outcome", experiment_timeout_minutes=0.1, validation_size=0.2)
    result = run_search(features, label, settings, 1, tmp_path / "trials.jsonl")
    assert result.algorithm == "LightGBM" and result.metrics == {}
    assert "no search trial finished in the budget" in result.cuts[0]
    assert set(result.model.predict(features)) <= {"No", "Yes"}
