import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.preprocessing import label_binarize

from amlpipe import metrics

rng = np.random.default_rng(0)


@pytest.fixture
def binary():
    y = rng.integers(0, 2, 200)
    p1 = np.clip(y * 0.3 + rng.random(200) * 0.7, 0, 1)
    return y, np.column_stack([1 - p1, p1])


@pytest.fixture
def multiclass():
    y = rng.choice([0, 1, 2], 300, p=[0.6, 0.3, 0.1])
    raw = rng.random((300, 3)) + np.eye(3)[y] * 0.8
    return y, raw / raw.sum(axis=1, keepdims=True)


def test_auc_weighted_binary_is_the_roc_auc(binary):
    y, proba = binary
    assert metrics.auc_weighted(y, proba, [0, 1]) == pytest.approx(skm.roc_auc_score(y, proba[:, 1]))


def test_auc_weighted_with_tied_scores_matches_the_roc_area(binary, multiclass):
    y, proba = binary
    tied = np.round(proba, 1)  # many ties: average ranks must give the trapezoidal area
    assert metrics.auc_weighted(y, tied, [0, 1]) == pytest.approx(skm.roc_auc_score(y, tied[:, 1]), abs=1e-12)
    y, proba = multiclass
    tied = np.round(proba, 1)
    per_class = [skm.roc_auc_score(y == c, tied[:, c]) for c in (0, 1, 2)]
    expected = np.average(per_class, weights=[np.mean(y == c) for c in (0, 1, 2)])
    assert metrics.auc_weighted(y, tied, [0, 1, 2]) == pytest.approx(expected, abs=1e-12)


def test_auc_weighted_multiclass_is_prevalence_weighted_one_vs_rest(multiclass):
    y, proba = multiclass
    expected = skm.roc_auc_score(y, proba, average="weighted", multi_class="ovr")
    assert metrics.auc_weighted(y, proba, [0, 1, 2]) == pytest.approx(expected)
    # and not the macro average, which differs on imbalanced classes
    assert expected != pytest.approx(skm.roc_auc_score(y, proba, average="macro", multi_class="ovr"))


def test_average_precision_weighted(multiclass):
    y, proba = multiclass
    expected = skm.average_precision_score(label_binarize(y, classes=[0, 1, 2]), proba, average="weighted")
    assert metrics.average_precision_score_weighted(y, proba, [0, 1, 2]) == pytest.approx(expected)


def test_precision_weighted_and_accuracy(multiclass):
    y, proba = multiclass
    pred = proba.argmax(axis=1)
    assert metrics.precision_score_weighted(y, proba, [0, 1, 2]) == pytest.approx(
        skm.precision_score(y, pred, average="weighted"))
    assert metrics.accuracy(y, proba, [0, 1, 2]) == pytest.approx(skm.accuracy_score(y, pred))


def test_norm_macro_recall_known_values():
    y = np.array([0, 0, 0, 1])
    perfect = np.array([[1, 0], [1, 0], [1, 0], [0, 1]], dtype=float)
    assert metrics.norm_macro_recall(y, perfect, [0, 1]) == 1.0
    all_zero = np.array([[1, 0]] * 4, dtype=float)  # macro recall 0.5 = chance
    assert metrics.norm_macro_recall(y, all_zero, [0, 1]) == 0.0
    # recalls 2/3 and 1 -> macro 5/6 -> (5/6 - 1/2) / (1/2) = 2/3
    some = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    assert metrics.norm_macro_recall(y, some, [0, 1]) == pytest.approx(2 / 3)
    worse = np.array([[0, 1], [0, 1], [0, 1], [1, 0]], dtype=float)  # below chance floors at 0
    assert metrics.norm_macro_recall(y, worse, [0, 1]) == 0.0


def test_threshold_decides_the_label_for_two_classes():
    proba = np.array([[0.7, 0.3], [0.6, 0.4], [0.2, 0.8]])
    assert list(metrics.predicted_labels(proba, [0, 1])) == [0, 0, 1]
    assert list(metrics.predicted_labels(proba, [0, 1], threshold=0.35)) == [0, 1, 1]


def test_weights_change_the_metrics(binary):
    y, proba = binary
    w = np.where(y == 1, 5.0, 1.0)
    assert metrics.auc_weighted(y, proba, [0, 1], w) == pytest.approx(skm.roc_auc_score(y, proba[:, 1], sample_weight=w))


def test_regression_metrics():
    y = np.array([1.0, 2.0, 3.0, 5.0])
    pred = np.array([1.0, 2.5, 2.5, 5.0])
    assert metrics.normalized_root_mean_squared_error(y, pred) == pytest.approx(np.sqrt(0.125) / 4)
    assert metrics.normalized_mean_absolute_error(y, pred) == pytest.approx(0.25 / 4)
    assert metrics.r2_score(y, pred) == pytest.approx(skm.r2_score(y, pred))
    assert metrics.spearman_correlation(y, pred) == pytest.approx(0.9486832980505138)


def test_losses_point_the_right_way():
    assert metrics.to_loss("AUC_weighted", 0.9) == pytest.approx(0.1)
    assert metrics.to_loss("normalized_root_mean_squared_error", 0.2) == 0.2
