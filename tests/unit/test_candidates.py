"""Scoring the candidates out of fold in the time left: all folds when it fits, a first-fold screen when it does not."""

import time

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from amlpipe.backends.local.candidates import cv_splitters, fold_scores, score_candidates

PRIMARY = "AUC_weighted"


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=600, n_features=8, n_informative=5, random_state=0)
    folds = list(cv_splitters("classification", 5, 0)[1].split(X, y))
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(8)]), y, folds


def _pipelines(**models):
    return {name: Pipeline([("featurize", StandardScaler()), ("model", model)]) for name, model in models.items()}


def _score(data, pipelines, later, seconds=600.0, costs=None):
    X, y, folds = data
    costs = costs or {name: 0.01 for name in pipelines}
    return score_candidates(pipelines, costs, later, X, y, folds, "classification", [0, 1], None, PRIMARY,
                            time.monotonic() + seconds)


def _models():
    return dict(logistic=LogisticRegression(), prior=DummyClassifier(strategy="prior"),
                forest=RandomForestClassifier(n_estimators=30, random_state=0), neighbours=KNeighborsClassifier(25),
                stump=DecisionTreeClassifier(max_depth=1, random_state=0))


def test_every_candidate_is_scored_on_every_fold_when_the_plan_kept_them_all(data):
    candidates, cuts = _score(data, _pipelines(**_models()), later=[])
    assert [c.name for c in candidates] == ["logistic", "prior", "forest", "neighbours", "stump"]
    assert cuts == []
    X, y, folds = data
    for c in candidates:
        assert c.oof.shape == (len(y), 2) and np.allclose(c.oof.sum(axis=1), 1.0)  # every row predicted


def test_when_time_is_short_a_clear_loser_is_given_up_after_its_first_fold(data):
    candidates, cuts = _score(data, _pipelines(**_models()), later=["stump"])
    names = [c.name for c in candidates]
    assert names[0] == "logistic" and "prior" not in names  # an AUC of 0.5 against one near 0.9
    assert any(cut.startswith("prior given up after one fold (AUC_weighted 0.5000 against") for cut in cuts)


def test_the_screened_candidates_get_their_other_folds_best_first_fold_score_first(data):
    X, y, folds = data
    candidates, cuts = _score(data, _pipelines(**_models()), later=["stump"])
    first_fold = [fold_scores(c.oof, y, folds, PRIMARY, "classification", [0, 1], None)[0] for c in candidates[1:]]
    assert len(first_fold) == 2 and first_fold == sorted(first_fold, reverse=True)
    assert [c.name for c in candidates[1:]] == ["neighbours", "forest"]  # the forest was given first
    # the scores over all folds are those of a plain out-of-fold run: the screened fold is kept, not refitted
    plain, _ = _score(data, _pipelines(**_models()), later=[])
    for c in candidates:
        same = next(p for p in plain if p.name == c.name)
        assert np.allclose(c.oof, same.oof) and c.score == pytest.approx(same.score)


def test_a_later_candidate_whose_folds_do_not_fit_is_left_out_and_named(data):
    pipelines = _pipelines(logistic=LogisticRegression(), forest=RandomForestClassifier(n_estimators=30))
    candidates, cuts = _score(data, pipelines, later=["forest"], seconds=30.0,
                              costs={"logistic": 0.01, "forest": 100.0})
    assert [c.name for c in candidates] == ["logistic"]
    assert cuts == ["left out forest"]


def test_for_a_metric_where_less_is_better_the_screen_gives_up_the_larger_error():
    from sklearn.datasets import make_friedman1
    from sklearn.dummy import DummyRegressor
    from sklearn.linear_model import LinearRegression

    X, y = make_friedman1(n_samples=400, noise=1.0, random_state=0)  # a forest does about as well as a line
    folds = list(cv_splitters("regression", 5, 0)[1].split(X, y))
    pipelines = _pipelines(linear=LinearRegression(), mean=DummyRegressor(), forest=RandomForestRegressor(
        n_estimators=30, random_state=0))
    candidates, cuts = score_candidates(pipelines, {name: 0.01 for name in pipelines}, ["forest"],
                                        pd.DataFrame(X), y, folds, "regression", None, None,
                                        "normalized_root_mean_squared_error", time.monotonic() + 600)
    assert [c.name for c in candidates] == ["linear", "forest"]
    assert [cut.split(" (")[0] for cut in cuts] == ["mean given up after one fold"]
