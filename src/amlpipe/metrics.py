"""The primary metrics, computed as Azure AutoML defines them.

Classification metrics take the true labels and the predicted class probabilities
(columns in the order of ``classes``); regression metrics take true and predicted values.
Sample weights, when given, weight every metric.
"""

from __future__ import annotations

from typing import Callable, Dict, Optional, Sequence

import numpy as np
from sklearn import metrics as skm

# Whether a larger value is better, per metric.
GREATER_IS_BETTER: Dict[str, bool] = {
    "AUC_weighted": True,
    "accuracy": True,
    "norm_macro_recall": True,
    "average_precision_score_weighted": True,
    "precision_score_weighted": True,
    "spearman_correlation": True,
    "r2_score": True,
    "normalized_root_mean_squared_error": False,
    "normalized_mean_absolute_error": False,
}


def _one_vs_rest(y_true: np.ndarray, classes: Sequence) -> np.ndarray:
    return np.column_stack([(y_true == c).astype(int) for c in classes])


def _support_weighted(per_class: np.ndarray, y_true: np.ndarray, classes: Sequence, weight: Optional[np.ndarray]) -> float:
    w = np.ones(len(y_true)) if weight is None else np.asarray(weight, dtype=float)
    support = np.array([w[y_true == c].sum() for c in classes])
    present = support > 0
    return float(np.average(per_class[present], weights=support[present]))


def _rank_auc(truth: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties share their average rank): the trapezoidal
    ROC area, 20 times faster than building the curve. The ensemble search calls it thousands of times."""
    from scipy.stats import rankdata

    positives = truth.sum()
    negatives = len(truth) - positives
    return float((rankdata(scores)[truth == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def auc_weighted(y_true, proba, classes, sample_weight=None, threshold=None) -> float:
    """One-vs-rest ROC AUC per class, averaged with weights equal to each class's prevalence."""
    y_true = np.asarray(y_true)
    proba = np.asarray(proba)
    onehot = _one_vs_rest(y_true, classes)

    def one_vs_rest(i: int) -> float:
        if sample_weight is None:
            return _rank_auc(onehot[:, i], proba[:, i])
        return skm.roc_auc_score(onehot[:, i], proba[:, i], sample_weight=sample_weight)

    per_class = np.array(
        [one_vs_rest(i) if 0 < onehot[:, i].sum() < len(y_true) else np.nan for i in range(len(classes))]
    )
    valid = ~np.isnan(per_class)
    return _support_weighted(per_class[valid], y_true, np.asarray(classes)[valid], sample_weight)


def average_precision_score_weighted(y_true, proba, classes, sample_weight=None, threshold=None) -> float:
    """Average precision per class (one vs rest), averaged with prevalence weights."""
    y_true = np.asarray(y_true)
    onehot = _one_vs_rest(y_true, classes)
    per_class = np.array(
        [skm.average_precision_score(onehot[:, i], proba[:, i], sample_weight=sample_weight) for i in range(len(classes))]
    )
    return _support_weighted(np.nan_to_num(per_class), y_true, classes, sample_weight)


def predicted_labels(proba, classes, threshold: Optional[float] = None) -> np.ndarray:
    """The predicted class: the most probable one, or for two classes the second when its
    probability reaches ``threshold``."""
    proba = np.asarray(proba)
    if threshold is not None and len(classes) == 2:
        return np.where(proba[:, 1] >= threshold, classes[1], classes[0])
    return np.asarray(classes)[np.argmax(proba, axis=1)]


def accuracy(y_true, proba, classes, sample_weight=None, threshold=None) -> float:
    """Share of rows whose most probable class is the true one."""
    return float(skm.accuracy_score(y_true, predicted_labels(proba, classes, threshold), sample_weight=sample_weight))


def norm_macro_recall(y_true, proba, classes, sample_weight=None, threshold=None) -> float:
    """Macro recall rescaled so that chance (R = 1/number of classes) is 0 and perfect is 1, floored at 0."""
    recall = skm.recall_score(
        y_true, predicted_labels(proba, classes, threshold), labels=list(classes), average="macro", sample_weight=sample_weight, zero_division=0
    )
    chance = 1.0 / len(classes)
    return float(max(0.0, (recall - chance) / (1.0 - chance)))


def precision_score_weighted(y_true, proba, classes, sample_weight=None, threshold=None) -> float:
    """Precision per class averaged with prevalence weights."""
    return float(
        skm.precision_score(
            y_true, predicted_labels(proba, classes, threshold), labels=list(classes), average="weighted",
            sample_weight=sample_weight, zero_division=0,
        )
    )


def spearman_correlation(y_true, y_pred, sample_weight=None) -> float:
    """Spearman rank correlation between truth and prediction (unweighted, as Azure)."""
    from scipy.stats import spearmanr

    return float(spearmanr(y_true, y_pred).statistic)


def _value_range(y_true) -> float:
    spread = float(np.max(y_true) - np.min(y_true))
    return spread if spread > 0 else 1.0


def normalized_root_mean_squared_error(y_true, y_pred, sample_weight=None) -> float:
    """RMSE divided by the range of the true values."""
    mse = skm.mean_squared_error(y_true, y_pred, sample_weight=sample_weight)
    return float(np.sqrt(mse) / _value_range(y_true))


def normalized_mean_absolute_error(y_true, y_pred, sample_weight=None) -> float:
    """MAE divided by the range of the true values."""
    return float(skm.mean_absolute_error(y_true, y_pred, sample_weight=sample_weight) / _value_range(y_true))


def r2_score(y_true, y_pred, sample_weight=None) -> float:
    """Coefficient of determination."""
    return float(skm.r2_score(y_true, y_pred, sample_weight=sample_weight))


CLASSIFICATION: Dict[str, Callable[..., float]] = {
    "AUC_weighted": auc_weighted,
    "accuracy": accuracy,
    "norm_macro_recall": norm_macro_recall,
    "average_precision_score_weighted": average_precision_score_weighted,
    "precision_score_weighted": precision_score_weighted,
}
REGRESSION: Dict[str, Callable[..., float]] = {
    "spearman_correlation": spearman_correlation,
    "normalized_root_mean_squared_error": normalized_root_mean_squared_error,
    "r2_score": r2_score,
    "normalized_mean_absolute_error": normalized_mean_absolute_error,
}


def score(metric: str, y_true, prediction, classes=None, sample_weight=None, threshold=None) -> float:
    """Compute ``metric``: ``prediction`` is class probabilities for classification, values for regression.

    ``threshold`` (two classes only) decides the predicted label for the label-based metrics.
    """
    if metric in CLASSIFICATION:
        return CLASSIFICATION[metric](y_true, np.asarray(prediction), classes, sample_weight, threshold)
    return REGRESSION[metric](y_true, prediction, sample_weight)


def all_scores(task: str, y_true, prediction, classes=None, sample_weight=None, threshold=None) -> Dict[str, float]:
    """Every metric of the task, for logging alongside the primary one."""
    names = CLASSIFICATION if task == "classification" else REGRESSION
    return {name: score(name, y_true, prediction, classes, sample_weight, threshold) for name in names}


def to_loss(metric: str, value: float) -> float:
    """A value to minimise (FLAML minimises a loss)."""
    return 1.0 - value if GREATER_IS_BETTER[metric] else value
