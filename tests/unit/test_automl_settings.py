"""How AutoMLConfig settings map onto the local engine, without running a search."""

import numpy as np
import pytest

from amlpipe import AutoMLSettings, ConfigError
from amlpipe.backends.local.candidates import Candidate, cv_splitters, fixed_candidates
from amlpipe.backends.local.ensemble import MAX_VOTE_TREES, pick_final, servable_members, tied_with_best
from amlpipe.backends.local.learners import learners_for
from amlpipe.backends.local.search import choose_validation, fit_threads, parse_trial, run_flaml, worker_count
from amlpipe.backends.local.threshold import choose_threshold


def test_default_learners_and_allowed_blocked_models():
    assert learners_for(AutoMLSettings())[:2] == ["lgbm", "rf"]
    assert learners_for(AutoMLSettings(allowed_models=["RandomForest", "LightGBM"])) == ["rf", "lgbm"]
    assert "rf" not in learners_for(AutoMLSettings(blocked_models=["RandomForest"]))
    assert learners_for(AutoMLSettings(allowed_models=["XGBoostClassifier"])) == ["xgboost", "xgb_limitdepth"]
    # blocking a model that only Azure has is honoured trivially
    assert learners_for(AutoMLSettings(blocked_models=["TensorFlowDNN"])) == learners_for(AutoMLSettings())


def test_fixed_candidates_follow_the_learners_and_the_task():
    fixed = fixed_candidates(AutoMLSettings(), learners_for(AutoMLSettings()), workers=2)
    assert sorted(fixed) == ["ExtremeRandomTreesMinLeaf5", "LightGBMMedium", "LightGBMSlow", "LightGBMStumps",
                            "RandomForestMinLeaf5"]
    assert fixed["RandomForestMinLeaf5"].min_samples_leaf == 5
    assert (fixed["LightGBMStumps"].num_leaves, fixed["LightGBMSlow"].num_leaves, fixed["LightGBMMedium"].num_leaves) == (2, 4, 15)
    assert all(hasattr(est, "predict_proba") for est in fixed.values())
    blocked = AutoMLSettings(blocked_models=["LightGBM", "ExtremeRandomTrees"])
    assert list(fixed_candidates(blocked, learners_for(blocked), workers=1)) == ["RandomForestMinLeaf5"]
    assert fixed_candidates(AutoMLSettings(allowed_models=["XGBoostClassifier"]), ["xgboost"], workers=1) == {}
    regression = AutoMLSettings(task="regression", primary_metric="r2_score")
    fixed = fixed_candidates(regression, learners_for(regression), workers=1)
    assert not any(hasattr(est, "predict_proba") for est in fixed.values()) and len(fixed) == 5


def test_candidates_are_scored_on_other_folds_than_the_search_used():
    y = np.array([0, 1] * 50)
    search, scoring = cv_splitters("classification", 10, seed=42)
    search_folds = [frozenset(test) for _, test in search.split(np.zeros(len(y)), y)]
    scoring_folds = [frozenset(test) for _, test in scoring.split(np.zeros(len(y)), y)]
    assert len(scoring_folds) == 10 and not set(search_folds) & set(scoring_folds)
    assert all(y[list(fold)].sum() == 5 for fold in scoring_folds)  # still stratified
    assert type(cv_splitters("regression", 3, seed=0)[1]).__name__ == "KFold"


def test_unknown_or_unavailable_models_are_errors_naming_the_setting():
    with pytest.raises(ConfigError, match="automl.allowed_models.*'RandomForrest'"):
        learners_for(AutoMLSettings(allowed_models=["RandomForrest"]))
    with pytest.raises(ConfigError, match="automl.blocked_models.*'ElasticNet' for classification"):
        learners_for(AutoMLSettings(blocked_models=["ElasticNet"]))
    with pytest.raises(ConfigError, match="leave no model"):
        learners_for(AutoMLSettings(allowed_models=["TensorFlowDNN"]))
    with pytest.raises(ConfigError, match="leave no model"):
        learners_for(AutoMLSettings(allowed_models=["RandomForest"], blocked_models=["RandomForest"]))


def test_validation_follows_azures_rule():
    s = AutoMLSettings()
    assert choose_validation(s, 299, False) == ("cv", 10, 0.0)
    assert choose_validation(s, 5000, False) == ("cv", 3, 0.0)
    assert choose_validation(s, 50000, False) == ("holdout", 0, 0.1)
    assert choose_validation(AutoMLSettings(n_cross_validations=5), 299, False) == ("cv", 5, 0.0)
    assert choose_validation(AutoMLSettings(validation_size=0.2), 299, False) == ("holdout", 0, 0.2)
    assert choose_validation(s, 299, True) == ("holdout", 0, 0.0)
    with pytest.raises(ConfigError, match="validation data cannot be combined"):
        choose_validation(AutoMLSettings(n_cross_validations=5), 299, True)


def test_workers_bounded_by_compute_and_cpus(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    assert worker_count(AutoMLSettings(max_concurrent_iterations=3), 3) == 2
    assert worker_count(AutoMLSettings(max_concurrent_iterations=3), 1) == 1
    assert worker_count(AutoMLSettings(max_concurrent_iterations=1), 3) == 1


def test_boosted_learners_fit_on_one_thread_below_the_size_that_pays_for_passive_waiting(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")  # what `import amlpipe` sets unless the user chose
    assert fit_threads("lgbm", 2, 8000 * 90) == 1
    assert fit_threads("xgb_limitdepth", 2, 2000 * 25) == 1
    assert fit_threads("xgb_limitdepth", 2, 8000 * 90) == 2
    assert fit_threads("rf", 2, 8000 * 90) == 2  # scikit-learn's forests use joblib's threads, not OpenMP's
    assert fit_threads("lgbm", 2, 100_000 * 100) == 2
    fixed = fixed_candidates(AutoMLSettings(), learners_for(AutoMLSettings()), workers=2, cells=299 * 12)
    assert {name: est.n_jobs for name, est in fixed.items()} == {
        "RandomForestMinLeaf5": 2, "ExtremeRandomTreesMinLeaf5": 2, "LightGBMSlow": 1, "LightGBMStumps": 1,
        "LightGBMMedium": 1}
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # the user's choice: spinning threads wake at once
    assert fit_threads("lgbm", 2, 299 * 12) == 2


def test_the_search_fits_boosted_learners_on_the_threads_chosen(monkeypatch, tmp_path):
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    settings = AutoMLSettings(iterations=6)
    automl = run_flaml(X, y, settings, ["lgbm", "rf", "xgb_limitdepth"], 30, 2, tmp_path / "trials.jsonl", [0, 1],
                       split_ratio=0.2, cells=200 * 5)
    assert automl.best_model_for_estimator("lgbm").params["n_jobs"] == 1
    assert automl.best_model_for_estimator("xgb_limitdepth").params["n_jobs"] == 1
    assert automl.best_model_for_estimator("rf").params["n_jobs"] == 2


def _three_candidates(seed):
    """Two-class labels, the scoring folds, and three scored candidates: a model, a slightly
    noisier copy of it, and a much noisier one."""
    from amlpipe import metrics

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 300)
    good = 0.3 * y + 0.7 * rng.random(len(y))
    close = np.clip(good + rng.normal(0, 0.05, len(y)), 0, 1)
    weak = np.clip(good + rng.normal(0, 0.5, len(y)), 0, 1)
    candidates = []
    for name, p in (("good", good), ("close", close), ("weak", weak)):
        proba = np.column_stack([1 - p, p])
        candidates.append(Candidate(name, None, metrics.score("AUC_weighted", y, proba, [0, 1]), proba))
    return y, cv_splitters("classification", 10, 0)[1], candidates


def test_tied_candidates_are_those_within_one_standard_error_of_the_best():
    y, splitter, candidates = _three_candidates(2)
    scores = {c.name: c.score for c in candidates}
    assert scores["good"] > scores["close"] > scores["weak"]
    folds = list(splitter.split(y, y))
    tied = [c.name for c in tied_with_best(candidates, y, folds, "AUC_weighted", "classification", [0, 1], None)]
    assert tied == ["good", "close"]


def test_tied_candidates_for_an_error_metric():
    from amlpipe import metrics

    rng = np.random.default_rng(4)
    y = rng.normal(size=300)
    splitter = cv_splitters("regression", 10, 0)[1]
    good = y + rng.normal(0, 0.5, 300)
    predictions = {"good": good, "close": good + rng.normal(0, 0.05, 300), "weak": good + rng.normal(0, 1.0, 300)}
    primary = "normalized_root_mean_squared_error"
    candidates = [Candidate(name, None, metrics.score(primary, y, p), p) for name, p in predictions.items()]
    tied = tied_with_best(candidates, y, list(splitter.split(y)), primary, "regression", None, None)
    assert [c.name for c in tied] == ["good", "close"]


def test_final_model_is_the_equal_vote_of_the_tied_candidates():
    y, splitter, candidates = _three_candidates(3)
    settings = AutoMLSettings(enable_stack_ensemble=False)
    final, weights, options, cuts = pick_final(candidates, y, settings, [0, 1], None, splitter, lambda stage: None)
    assert final.name == "VotingEnsemble"
    assert weights == {"good": 0.5, "close": 0.5}
    assert [name for name, _ in final.estimator.estimators] == ["good", "close"]
    assert np.allclose(final.oof, (candidates[0].oof + candidates[1].oof) / 2)
    assert [c.name for c in options] == ["good", "close", "weak", "VotingEnsemble"]
    # no vote when it is disabled, or when nothing is tied with the best: the best model alone
    no_vote = AutoMLSettings(enable_stack_ensemble=False, enable_voting_ensemble=False)
    assert pick_final(candidates, y, no_vote, [0, 1], None, splitter, lambda stage: None)[0].name == "good"
    alone = [c for c in candidates if c.name != "close"]
    final, weights, options, cuts = pick_final(alone, y, settings, [0, 1], None, splitter, lambda stage: None)
    assert (final.name, weights) == ("good", {})
    assert "VotingEnsemble" not in [c.name for c in options]


def test_the_vote_keeps_the_best_members_whose_trees_an_endpoint_can_serve():
    from lightgbm import LGBMClassifier
    from sklearn.ensemble import RandomForestClassifier

    assert MAX_VOTE_TREES == 600
    models = {"rf200": RandomForestClassifier(n_estimators=200), "lgbm500": LGBMClassifier(n_estimators=500),
              "lgbm300": LGBMClassifier(n_estimators=300), "rf100": RandomForestClassifier(n_estimators=100)}
    ranked = [Candidate(name, model, 0.9, np.empty(0)) for name, model in models.items()]
    # two classes: a member too large is skipped, smaller ones after it still join (200 + 300 + 100 trees)
    assert [c.name for c in servable_members(ranked, 2)] == ["rf200", "lgbm300", "rf100"]
    # four classes: a boosted model runs a tree per class and round; the best is kept whatever its size
    assert [c.name for c in servable_members(ranked[2:], 4)] == ["lgbm300"]


def test_a_vote_too_large_to_serve_leaves_members_out_and_says_so():
    from sklearn.ensemble import RandomForestClassifier

    y, splitter, candidates = _three_candidates(3)
    for candidate in candidates:
        candidate.estimator = RandomForestClassifier(n_estimators=400)
    settings = AutoMLSettings(enable_stack_ensemble=False)
    final, weights, options, cuts = pick_final(candidates, y, settings, [0, 1], None, splitter, lambda stage: None)
    assert final.name == "good" and weights == {}  # "close" is tied with it, but 800 trees are too many to serve
    assert cuts == ["voting ensemble without close (more than 600 trees to serve)"]


def test_threshold_maximises_out_of_fold_accuracy():
    y = np.array([0, 0, 0, 1, 1])
    p = np.array([0.1, 0.2, 0.3, 0.35, 0.4])  # ranks perfectly, never reaches 0.5
    t = choose_threshold(y, p, [0, 1])
    assert 0.3 < t <= 0.35
    assert choose_threshold(np.array([0, 1]), np.array([0.2, 0.9]), [0, 1]) == 0.5


def test_parse_trial_reads_flamls_records_and_skips_checkpoints():
    line = ('{"record_id": 3, "iter_per_learner": 2, "logged_metric": {"AUC_weighted": 0.91}, "trial_time": 0.4, '
            '"wall_clock_time": 2.5, "validation_loss": 0.09, "config": {"n_estimators": 4, "FLAML_sample_size": 269}, '
            '"learner": "rf", "sample_size": 269}')
    trial = parse_trial(line, "AUC_weighted")
    assert (trial.number, trial.algorithm, trial.score, trial.config) == (3, "RandomForest", 0.91, {"n_estimators": 4})
    assert parse_trial('{"curr_best_record_id": 3}', "AUC_weighted") is None
    assert parse_trial('{"record_id": 4, "lear', "AUC_weighted") is None


def test_label_metrics_use_thresholds_chosen_on_other_folds():
    from amlpipe import metrics
    from amlpipe.backends.local.threshold import cross_fitted_thresholds

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    p = np.clip(0.25 * y + 0.75 * rng.random(300), 0, 1)  # a weak model: the best cut-off fits noise
    folds = list(cv_splitters("classification", 5, 0)[1].split(y, y))
    rows = cross_fitted_thresholds(y, p, [0, 1], folds)
    for train, test in folds:
        assert np.all(rows[test] == choose_threshold(y[train], p[train], [0, 1]))
    proba = np.column_stack([1 - p, p])
    optimistic = metrics.score("accuracy", y, proba, [0, 1], threshold=choose_threshold(y, p, [0, 1]))
    honest = metrics.score("accuracy", y, proba, [0, 1], threshold=rows)
    assert honest < optimistic


def test_threshold_search_agrees_with_trying_every_cut():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    p = np.round(rng.random(200), 2)  # ties between rows
    w = rng.random(200)
    cuts = np.unique(np.concatenate([p, [0.5]]))
    accuracy = np.array([np.average((p >= c) == (y == 1), weights=w) for c in cuts])
    chosen = choose_threshold(y, p, [0, 1], w)
    assert np.isclose(accuracy[cuts == chosen][0], accuracy.max())
