"""Which features the model leans on: permutation importance on the registered pipeline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import metrics


def feature_importance(model, df: pd.DataFrame, label: str, primary_metric: str,
                       repeats: int = 5, seed: int = 42) -> pd.DataFrame:
    """Permutation importance of each raw input column, scored with the primary metric.

    Computed on the data it is given (the training data in the notebooks): it shows what the
    model uses, not how well it generalises. Sets ``n_jobs=1`` throughout ``model``.
    """
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import make_scorer

    from .serving import single_threaded

    single_threaded(model)  # dozens of small predictions: a thread pool per call would triple the time
    X, y = df.drop(columns=[label]), df[label]
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
    result = permutation_importance(model, X, y, scoring=scorer, n_repeats=repeats, random_state=seed, n_jobs=1)
    frame = pd.DataFrame({"feature": X.columns, "importance": result.importances_mean, "std": result.importances_std})
    return frame.sort_values("importance", ascending=False).reset_index(drop=True)
