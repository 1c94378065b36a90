"""Which features the model leans on: permutation importance of each raw input column.

The local backend computes it for the final model at the end of the run (inside the budget)
and keeps it with the model (``feature_importance.csv``); `importance_of` reads it back, or
computes it for a run that has none (a run on Azure).

Per-record explanations at the endpoint are in `amlpipe.serving.explanations`.
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np
import pandas as pd

from . import metrics

MAX_ROWS = 1000  # rows the importance is computed on (a seeded sample of bigger data)


def permutation_importance(model, X: pd.DataFrame, y, primary_metric: str, repeats: int = 5,
                           seed: int = 42) -> pd.DataFrame:
    """Permutation importance of each raw input column, scored with the primary metric.

    Computed on the rows it is given (the training data): it shows what the model uses, not
    how well it generalises. Sets ``n_jobs=1`` throughout ``model``.

    Returns:
        One row per column (``feature``, ``importance``, ``std``), most important first.
    """
    from sklearn.inspection import permutation_importance as sklearn_permutation_importance
    from sklearn.metrics import make_scorer

    from .serving import single_threaded

    single_threaded(model)  # dozens of small predictions: a thread pool per call would triple the time
    classes = list(getattr(model, "classes_", [])) or None
    if classes is not None:
        def score(y_true, proba):
            if proba.ndim == 1:  # scikit-learn hands binary scorers the positive class's column only
                proba = np.column_stack([1 - proba, proba])
            return metrics.score(primary_metric, y_true, proba, classes)

        scorer = make_scorer(score, response_method="predict_proba")
    else:
        scorer = make_scorer(lambda yt, pred: metrics.score(primary_metric, yt, pred),
                             greater_is_better=metrics.GREATER_IS_BETTER[primary_metric])
    result = sklearn_permutation_importance(model, X, y, scoring=scorer, n_repeats=repeats, random_state=seed, n_jobs=1)
    frame = pd.DataFrame({"feature": X.columns, "importance": result.importances_mean, "std": result.importances_std})
    return frame.sort_values("importance", ascending=False).reset_index(drop=True)


def feature_importance(model, df: pd.DataFrame, label: str, primary_metric: str,
                       repeats: int = 5, seed: int = 42) -> pd.DataFrame:
    """`permutation_importance` on a frame holding the label column."""
    return permutation_importance(model, df.drop(columns=[label]), df[label], primary_metric, repeats, seed)


def importance_in_time(model, X: pd.DataFrame, y, primary_metric: str, seconds: float,
                       seed: int = 42) -> Optional[pd.DataFrame]:
    """`permutation_importance` on at most `MAX_ROWS` rows, with as many repeats (up to 5) as
    fit in ``seconds``; None when not even one does."""
    from .serving import single_threaded

    if len(X) > MAX_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(X), MAX_ROWS, replace=False))
        X, y = X.iloc[rows], np.asarray(y)[rows]
    single_threaded(model)  # as permutation_importance will run it
    started = time.monotonic()
    for _ in range(2):  # the first call may pay for warming up
        prediction = model.predict_proba(X) if hasattr(model, "predict_proba") else model.predict(X)
        classes = list(getattr(model, "classes_", [])) or None
        metrics.score(primary_metric, np.asarray(y), prediction, classes)
    one_pass = 1.5 * (time.monotonic() - started) / 2 * X.shape[1]
    repeats = min(5, int(seconds / max(one_pass, 1e-6)))
    if repeats < 1:
        return None
    return permutation_importance(model, X, y, primary_metric, repeats, seed)


def importance_of(run, model, label: str) -> pd.DataFrame:
    """The run's logged feature importance, or permutation importance computed on its training data."""
    logged = getattr(run, "get_feature_importance", lambda: None)()
    if logged is not None:
        return logged
    return feature_importance(model, run.get_training_data(), label, run.primary_metric)
