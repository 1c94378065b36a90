"""Candidates for the final model: each scored on out-of-fold predictions, ready to refit on all rows.

The candidates are the best configuration of each searched learner and a few fixed
configurations (`fixed_candidates`). They are scored on other folds than the search's
(`cv_splitters`): on the folds the search chose them on, the chosen configurations look
better than they are (selection bias), and the ensemble would overweight them.
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

# Bagged forests only lose variance with more trees; the search, short of time on small
# data, settles on a few dozen. Forest candidates use at least this many when time allows.
FOREST_TREES = 200


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


def fixed_candidates(settings: AutoMLSettings, learners: Sequence[str], workers: int) -> Dict[str, object]:
    """Configurations that do well on small tabular data, scored beside the searched ones.

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
        slow = dict(learning_rate=0.01, min_child_samples=10, subsample=0.7, subsample_freq=1, colsample_bytree=0.7,
                    n_jobs=workers, random_state=settings.seed, verbose=-1)
        chosen["LightGBMSlow"] = cls(n_estimators=400, num_leaves=4, **slow)
        chosen["LightGBMStumps"] = cls(n_estimators=800, num_leaves=2, **slow)
        chosen["LightGBMMedium"] = cls(n_estimators=300, num_leaves=15, learning_rate=0.05, min_child_samples=10,
                                       subsample=0.8, subsample_freq=1, colsample_bytree=0.8, n_jobs=workers,
                                       random_state=settings.seed, verbose=-1)
    return chosen


def with_forest_size(estimator, learner: Optional[str]):
    """A searched forest with at least `FOREST_TREES` trees (other estimators unchanged)."""
    if learner in ("rf", "extra_tree"):
        estimator.set_params(n_estimators=max(estimator.get_params()["n_estimators"], FOREST_TREES))
    return estimator


def cv_splitters(task: str, folds: int, seed: int):
    """The search's K folds, and other K folds on which the candidates are scored and blended."""
    splitter_cls = StratifiedKFold if task == "classification" else KFold
    return (splitter_cls(n_splits=folds, shuffle=True, random_state=seed),
            splitter_cls(n_splits=folds, shuffle=True, random_state=seed + 1))


def out_of_fold(pipeline, X: pd.DataFrame, y: np.ndarray, folds: List[Tuple[np.ndarray, np.ndarray]], task: str,
                n_classes: int, weight: Optional[np.ndarray] = None,
                deadline: Optional[float] = None) -> Tuple[Optional[np.ndarray], float]:
    """Predictions for every row from a clone of ``pipeline`` fitted on the other folds.

    Args:
        y: Label codes 0 .. n_classes-1 (classification) or values.
        deadline: A `time.monotonic` instant; once the folds done so far say the rest would
            end after it, the candidate is given up.

    Returns:
        The predictions (None when given up) and the measured seconds per fold.
    """
    started = time.monotonic()
    out = None
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
