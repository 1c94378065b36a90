"""Planning the work after the search: fit-time estimates and what the plan keeps, leaves for later or cuts."""

import math

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from amlpipe.backends.local import budget


@pytest.fixture
def seconds_per_tree(monkeypatch):
    """Fits that take 0.1 s plus 0.01 s a tree, whatever the machine is doing."""
    def timed(estimator, X, y):
        return 0.1 + 0.01 * (estimator.get_params().get("n_estimators") or 0)

    monkeypatch.setattr(budget, "_timed_fit", timed)


def _data(rows):
    rng = np.random.default_rng(0)
    return rng.normal(size=(rows, 3)), rng.integers(0, 2, rows)


def test_probe_scales_a_fit_to_fewer_rows_than_it_measured_on(seconds_per_tree):
    X, y = _data(2000)
    forest = RandomForestClassifier(n_estimators=200)
    on_all = budget.probe_fit_seconds(forest, X, y, 2000, 0)
    assert on_all == pytest.approx(0.1 + 0.01 * 200)  # the fixed cost counted once, the trees scaled
    fold = budget.probe_fit_seconds(forest, X, y, 1000, 0)  # a fold of half the rows
    assert fold == pytest.approx(on_all * 0.5 * math.log(1000) / math.log(2000))
    more = budget.probe_fit_seconds(forest, X, y, 8000, 0)
    assert more == pytest.approx(on_all * 4 * math.log(8000) / math.log(2000))


def _grow(rows):
    return rows * math.log(rows)


@pytest.mark.parametrize("rows_grow", ["trees", "barely"])
def test_probe_scales_up_only_the_parts_of_a_fit_that_grow_with_the_rows(monkeypatch, rows_grow):
    """A forest's trees take longer on more rows; a boosted model's rounds barely do (a fixed part each)."""
    def timed(estimator, X, y):
        growth = _grow(len(X)) / _grow(2000)
        per_tree = 0.001 * (growth if rows_grow == "trees" else 1 + 0.02 * growth)
        return 0.2 + per_tree * estimator.get_params()["n_estimators"]

    monkeypatch.setattr(budget, "_timed_fit", timed)
    X, y = _data(20000)
    forest = RandomForestClassifier(n_estimators=300)
    for n_fit in (6000, 13000):  # inside the rows timed again (4 x 2000), and beyond them
        want = timed(forest, X[:n_fit], y[:n_fit])
        assert budget.probe_fit_seconds(forest, X, y, n_fit, 0) == pytest.approx(want)
    if rows_grow == "barely":  # with only the 2,000 probed rows to time on, the whole fit is scaled by n log n
        assert budget.probe_fit_seconds(forest, X[:2000], y[:2000], 13000, 0) > 4 * want


def test_probe_times_an_estimator_without_trees_once(seconds_per_tree):
    X, y = _data(500)
    assert budget.probe_fit_seconds(LogisticRegression(), X, y, 500, 0) == pytest.approx(0.1)


def test_plan_keeps_the_candidates_that_fit_and_leaves_the_rest_for_later_in_priority_order():
    costs = {"best": 1.0, "fixed": 3.0, "big": 10.0, "small": 0.5}
    plan = budget.plan_scoring(costs, {}, folds=3, seconds=20.0)  # each costs (3 + 1) fits
    assert plan.folds == 3
    assert plan.kept == ["best", "fixed", "small"] and plan.later == ["big"]
    assert plan.cuts == []  # what is left out is said by the run, after trying it


def test_plan_lowers_the_folds_before_it_leaves_candidates_out():
    costs = {"a": 1.0, "b": 1.0}
    plan = budget.plan_scoring(costs, {}, folds=10, seconds=13.0)  # 2 x 11 fits do not fit, 2 x 6 do
    assert (plan.folds, plan.kept, plan.later) == (5, ["a", "b"], [])
    assert plan.cuts == ["candidates scored on 5 folds instead of 10"]


def test_plan_shrinks_the_first_candidate_when_nothing_fits():
    plan = budget.plan_scoring({"forest": 4.0, "other": 4.0}, {"forest": 200, "other": None}, folds=3, seconds=4.0)
    assert plan.kept == ["forest"] and plan.sizes == {"forest": 50} and plan.later == ["other"]
    assert plan.cuts == ["forest shrunk from 200 to 50 trees or rounds"]


def test_search_keeps_its_floor_and_leaves_a_share_for_what_follows():
    clock = budget.Budget(100.0)
    assert budget.search_seconds(clock, after_search=95.0) == pytest.approx(30.0, abs=0.1)  # the 30% floor
    assert budget.search_seconds(clock, after_search=1.0) == pytest.approx(85.0, abs=0.1)  # at most 85% of what is left
    spent = budget.Budget(1.0, start=clock.start - 5)
    assert budget.search_seconds(spent, after_search=0.0) == budget.MIN_SEARCH_SECONDS  # never 0: FLAML's "no limit"
