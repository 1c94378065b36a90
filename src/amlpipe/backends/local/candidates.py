"""Candidates for the final model: each scored on out-of-fold predictions, ready to refit on all rows.

The candidates are the best configuration of each searched learner and a few fixed
configurations (`fixed_candidates`). They are scored on other folds than the search's
(`cv_splitters`): on the folds the search chose them on, the chosen configurations look
better than they are (selection bias), and the ensemble would overweight them. When time is
short, `score_candidates` spends it on the candidates that do best on the first fold.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold

from ... import metrics
from ...settings import AutoMLSettings
from .budget import SAFETY
from .search import fit_threads

# Bagged forests only lose variance with more trees; the search, short of time on small
# data, settles on a few dozen. Forest candidates use at least this many when time allows.
FOREST_TREES = 200
FOREST_LEARNERS = ("rf", "extra_tree")


@dataclass
class Candidate:
    """A model (without featurizer) scored on out-of-fold predictions.

    Attributes:
        fit_seconds: Measured seconds for one fit on a training fold (for planning the refit).
    """

    name: str
    estimator: object
    score: float
    oof: np.ndarray
    members: Dict[str, float] = field(default_factory=dict)
    fit_seconds: float = 0.0


def fixed_candidates(settings: AutoMLSettings, learners: Sequence[str], workers: int, cells: int = 0) -> Dict[str, object]:
    """Configurations that do well on small tabular data, scored beside the searched ones.

    ``cells`` (a fit's rows x featurized columns) sets the boosted ones' threads (`search.fit_threads`).

    They are not tuned on the data being trained: they were chosen once, by hand, on the
    outer folds of the heart-failure benchmark (`benchmarks/RESULTS.md` says which figures
    informed the choice). A search on a few hundred rows picks configurations that fit its
    folds' noise; these give the ensemble members that did not:

    - forests whose leaves hold at least five rows (ranger's probability forests stop
      splitting nodes under ten rows): smoother probabilities than full-depth trees;
    - extremely randomised trees of the same leaf size that consider every feature at each split;
    - slow, shallow gradient boosting: four leaves, learning rate 0.01, 400 rounds, 70% of
      the rows and columns per round;
    - boosted stumps (two leaves, 800 rounds, otherwise the same): an additive model, one
      learned curve per feature and no interactions; it errs differently from the forests;
    - gradient boosting of moderate size (15 leaves, learning rate 0.05, 300 rounds, 80% of the
      rows and columns), for what the slow configuration underfits: several classes, thousands
      of rows. Chosen on the development half of `benchmarks/model_quality_suite.py` (on 4
      classes and 2,000 rows the slow one scored 0.852, this one 0.913; on the smaller sets it
      joins the vote without harm); RESULTS.md has the figures.
    """
    from lightgbm import LGBMClassifier, LGBMRegressor
    from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier,
                                  RandomForestRegressor)

    classification = settings.task == "classification"
    forest = dict(n_estimators=FOREST_TREES, min_samples_leaf=5, n_jobs=workers, random_state=settings.seed)
    chosen = {}
    if "rf" in learners:
        cls = RandomForestClassifier if classification else RandomForestRegressor
        chosen["RandomForestMinLeaf5"] = cls(**forest)
    if "extra_tree" in learners:
        cls = ExtraTreesClassifier if classification else ExtraTreesRegressor
        chosen["ExtremeRandomTreesMinLeaf5"] = cls(max_features=1.0, **forest)
    if "lgbm" in learners:
        cls = LGBMClassifier if classification else LGBMRegressor
        threads = fit_threads("lgbm", workers, cells)
        slow = dict(learning_rate=0.01, min_child_samples=10, subsample=0.7, subsample_freq=1, colsample_bytree=0.7,
                    n_jobs=threads, random_state=settings.seed, verbose=-1)
        chosen["LightGBMSlow"] = cls(n_estimators=400, num_leaves=4, **slow)
        chosen["LightGBMStumps"] = cls(n_estimators=800, num_leaves=2, **slow)
        chosen["LightGBMMedium"] = cls(n_estimators=300, num_leaves=15, learning_rate=0.05, min_child_samples=10,
                                       subsample=0.8, subsample_freq=1, colsample_bytree=0.8, n_jobs=threads,
                                       random_state=settings.seed, verbose=-1)
    return chosen


def with_forest_size(estimator, learner: Optional[str]):
    """A searched forest with at least `FOREST_TREES` trees (other estimators unchanged)."""
    if learner in FOREST_LEARNERS:
        estimator.set_params(n_estimators=max(estimator.get_params()["n_estimators"], FOREST_TREES))
    return estimator


def cv_splitters(task: str, folds: int, seed: int):
    """The search's K folds, and other K folds on which the candidates are scored and blended."""
    splitter_cls = StratifiedKFold if task == "classification" else KFold
    return (splitter_cls(n_splits=folds, shuffle=True, random_state=seed),
            splitter_cls(n_splits=folds, shuffle=True, random_state=seed + 1))


def out_of_fold(pipeline, X: pd.DataFrame, y: np.ndarray, folds: List[Tuple[np.ndarray, np.ndarray]], task: str,
                n_classes: int, weight: Optional[np.ndarray] = None, deadline: Optional[float] = None,
                out: Optional[np.ndarray] = None) -> Tuple[Optional[np.ndarray], float]:
    """Predictions for every row from a clone of ``pipeline`` fitted on the other folds.

    Args:
        y: Label codes 0 .. n_classes-1 (classification) or values.
        deadline: A `time.monotonic` instant; once the folds done so far say the rest would
            end after it, the candidate is given up.
        out: The predictions made so far on rows outside ``folds``' test rows (filled in place).

    Returns:
        The predictions (None when given up) and the measured seconds per fold.
    """
    started = time.monotonic()
    for i, (train, test) in enumerate(folds):
        model = clone(pipeline)
        params = {"model__sample_weight": weight[train]} if weight is not None else {}
        model.fit(X.iloc[train], y[train], **params)
        if task == "classification":
            if out is None:
                out = np.zeros((len(y), n_classes))
            out[np.ix_(test, np.asarray(model.classes_, dtype=int))] = model.predict_proba(X.iloc[test])
        else:
            if out is None:
                out = np.zeros(len(y))
            out[test] = model.predict(X.iloc[test])
        per_fold = (time.monotonic() - started) / (i + 1)
        if deadline is not None and i + 1 < len(folds) and time.monotonic() + per_fold * (len(folds) - i - 1) > deadline:
            return None, per_fold
    return out, (time.monotonic() - started) / len(folds)


def refit_seconds(candidate: Candidate, n_folds: int) -> float:
    """One fit on all rows: a fold's fit on (K-1)/K of them, scaled up."""
    return candidate.fit_seconds * n_folds / max(n_folds - 1, 1)


# How far a candidate may trail the best first-fold score, in standard deviations of the leading
# candidate's scores across the folds, and still be scored on the other folds when time is short.
# Set by reasoning, not measured on any data: one that far behind would hardly end within one
# standard error of the best (`ensemble.tied_with_best`), so it would not join the vote.
BAR_DEVIATIONS = 2.0


@dataclass
class _Screened:
    """A candidate scored on the first fold only, so far."""

    name: str
    pipeline: object
    out: np.ndarray
    seconds: float  # its first fold's fit and prediction
    first: float  # its score on the first fold


def score_candidates(pipelines: Dict[str, object], costs: Dict[str, float], later: Sequence[str], X: pd.DataFrame,
                     y: np.ndarray, folds: List[Tuple[np.ndarray, np.ndarray]], task: str, classes, weight,
                     primary: str, deadline: float) -> Tuple[List[Candidate], List[str]]:
    """The candidates scored out of fold by ``deadline``, leaving room to refit the final model, and the cuts made.

    Args:
        pipelines: Each candidate's unfitted pipeline (featurizer and model), in order of priority.
        costs: Each one's estimated seconds for one fit, with `budget.SAFETY`'s margin.
        later: Those the budget's plan left out; each is still tried when its folds fit in the
            time left by its estimate without the margin.
        deadline: A `time.monotonic` instant by which the scoring and the final refit end.

    When the plan kept every candidate, each is scored on all folds in turn. When time is short
    (``later`` is not empty), the first is scored on all folds and the others on the first fold
    only; those more than `BAR_DEVIATIONS` standard deviations of the leader's per-fold scores
    behind the best first-fold score are given up, and the rest get their other folds in order of
    their first-fold score while time allows. So the time goes to the candidates that do best on
    this data, not to those first in the fixed order (on 12,000 rows the slow and stump-boosted
    configurations, meant for a few hundred, took the time of one that scored best there).
    """
    k = len(folds)
    sign = 1 if metrics.GREATER_IS_BETTER[primary] else -1
    n_classes = len(classes or ())
    candidates: List[Candidate] = []
    cuts: List[str] = []
    left_out: List[str] = []
    screened: List[_Screened] = []

    def left() -> float:
        return deadline - time.monotonic()

    def refit_room(own: float) -> float:
        """Room kept for refitting this candidate or the slowest one scored (the final model may be either)."""
        return max([own] + [refit_seconds(c, k) for c in candidates])

    def add(name: str, oof: Optional[np.ndarray], per_fold: float) -> None:
        if oof is None:
            cuts.append(f"{name} given up while scored out of fold ({per_fold:.1f} s a fold)")
        else:
            candidates.append(Candidate(name, pipelines[name].named_steps["model"],
                                        score(primary, task, y, oof, classes, weight), oof, fit_seconds=per_fold))

    def leaders_rest() -> float:
        """The leading screened candidate's other folds, which screening must leave time for."""
        return max(screened, key=lambda c: sign * c.first).seconds * (k - 1) if screened else 0.0

    for name in pipelines:
        screening = bool(later) and bool(candidates) and k > 1
        needs = costs[name] / SAFETY * k + refit_room(costs[name]) + leaders_rest()
        if (name in later or screening) and needs > left():
            left_out.append(name)
            continue
        if not screening:
            oof, per_fold = out_of_fold(pipelines[name], X, y, folds, task, n_classes, weight,
                                        deadline - refit_room(costs[name]))
            add(name, oof, per_fold)
            continue
        started = time.monotonic()
        out, _ = out_of_fold(pipelines[name], X, y, folds[:1], task, n_classes, weight)
        first = fold_scores(out, y, folds[:1], primary, task, classes, weight)[0]
        screened.append(_Screened(name, pipelines[name], out, time.monotonic() - started, first))
    if screened:
        leader = max(candidates, key=lambda c: sign * c.score)
        per_fold = fold_scores(leader.oof, y, folds, primary, task, classes, weight)
        best_first = max([per_fold[0]] + [c.first for c in screened], key=lambda v: sign * v)
        margin = BAR_DEVIATIONS * per_fold.std(ddof=1)
        for c in sorted(screened, key=lambda c: -sign * c.first):
            if sign * (c.first - best_first) < -margin:
                cuts.append(f"{c.name} given up after one fold ({primary} {c.first:.4f} against "
                            f"{best_first:.4f} for the best on the same rows)")
            elif c.seconds * (k - 1) + refit_room(costs[c.name]) > left():
                cuts.append(f"{c.name} given up after one fold (no time for the other {k - 1})")
            else:
                oof, seconds = out_of_fold(c.pipeline, X, y, folds[1:], task, n_classes, weight,
                                           deadline - refit_room(costs[c.name]), c.out)
                add(c.name, oof, (c.seconds + seconds * (k - 1)) / k)
    if left_out:
        cuts.append(f"left out {', '.join(left_out)}")
    return candidates, cuts


def score(primary: str, task: str, y, prediction, classes, weight) -> float:
    """The primary metric of out-of-fold predictions."""
    return metrics.score(primary, y, prediction, classes if task == "classification" else None, weight)


def fold_scores(oof, y, folds, primary, task, classes, w) -> np.ndarray:
    """The metric on each validation fold."""
    scores = []
    for _, test in folds:
        weight = None if w is None else w[test]
        scores.append(score(primary, task, y[test], oof[test], classes, weight))
    return np.asarray(scores)
