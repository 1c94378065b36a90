"""The decision threshold of a two-class model, and label metrics that did not choose it.

Ranking metrics such as AUC ignore where probabilities sit; an ensemble of shrunken members
can rank well yet never reach 0.5. The final model therefore predicts the second class from
the cut-off that maximises accuracy on its out-of-fold predictions (`choose_threshold`).

Scoring accuracy, precision or recall with that cut-off on the same predictions would be
optimistic. `cross_fitted_thresholds` gives each row the cut-off chosen on the other
scoring folds only, so the logged label metrics are scored on rows that did not choose
their threshold.
"""

from __future__ import annotations

from typing import List, Optional, Tuple

import numpy as np


def choose_threshold(y, positive_proba: np.ndarray, classes, weight=None) -> float:
    """The probability cut-off for the second class that maximises accuracy on these rows
    (ties: the one nearest 0.5)."""
    cuts = np.unique(np.concatenate([positive_proba, [0.5]]))
    truth = np.asarray(y) == classes[1]
    w = np.ones(len(truth)) if weight is None else np.asarray(weight, dtype=float)
    order = np.argsort(positive_proba, kind="stable")
    # accuracy at cut c: right answers among rows below c (truth False) plus those at or above (truth True)
    sorted_proba, sorted_truth, sorted_w = positive_proba[order], truth[order], w[order]
    below = np.searchsorted(sorted_proba, cuts, side="left")
    negatives_below = np.concatenate([[0.0], np.cumsum(sorted_w * ~sorted_truth)])[below]
    positives_above = (sorted_w * sorted_truth).sum() - np.concatenate([[0.0], np.cumsum(sorted_w * sorted_truth)])[below]
    accuracy = (negatives_below + positives_above) / w.sum()
    best = np.flatnonzero(np.isclose(accuracy, accuracy.max()))
    return float(cuts[best[np.argmin(np.abs(cuts[best] - 0.5))]])


def cross_fitted_thresholds(y, positive_proba: np.ndarray, classes, folds: List[Tuple[np.ndarray, np.ndarray]],
                            weight: Optional[np.ndarray] = None) -> np.ndarray:
    """For each row, the cut-off chosen on the rows of the other folds."""
    thresholds = np.empty(len(positive_proba))
    for train, test in folds:
        w = None if weight is None else weight[train]
        thresholds[test] = choose_threshold(np.asarray(y)[train], positive_proba[train], classes, w)
    return thresholds
