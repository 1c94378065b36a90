"""The plots read the run's leaderboard as it is logged."""

import numpy as np
import pandas as pd

from amlpipe import plots


def test_best_score_over_time_draws_trials_fixed_configurations_and_ensembles():
    leaderboard = pd.DataFrame({
        "iteration": [0, 1, 2, 3, 4, 5],
        "algorithm": ["LightGBM", "RandomForest", "LightGBM", "LightGBMSlow", "VotingEnsemble", "StackEnsemble"],
        "AUC_weighted": [0.85, 0.90, 0.88, 0.91, 0.92, 0.89],
        "elapsed_s": [1.0, 2.0, 3.0, np.nan, np.nan, np.nan],
    })
    ax = plots.best_score_over_time(leaderboard, "AUC_weighted").axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(labels) == sorted(["trial", "best so far", "fixed configuration (after the search)",
                                     "VotingEnsemble (after the search)", "StackEnsemble (after the search)"])
    trials, fixed = ax.collections
    assert np.allclose(trials.get_offsets(), [[1, 0.85], [2, 0.90], [3, 0.88]])
    assert np.allclose(fixed.get_offsets(), [[3, 0.91]])  # at the end of the search
    best = ax.lines[0]
    assert list(best.get_ydata()) == [0.85, 0.90, 0.90]
    assert [line.get_ydata()[0] for line in ax.lines[1:]] == [0.92, 0.89]


def _oof(classes, rows=60, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.choice(classes, rows)
    proba = rng.dirichlet(np.ones(len(classes)), rows)
    return pd.DataFrame({"y_true": truth, **{f"proba_{c}": proba[:, i] for i, c in enumerate(classes)}})


def test_roc_curve_draws_the_positive_class_for_two_classes_and_each_class_for_more():
    two = plots.roc_curve(_oof(["no", "yes"])).axes[0]
    assert len(two.lines) == 2  # the positive class's curve and the diagonal
    assert [t.get_text()[:4] for t in two.get_legend().get_texts()] == ["AUC "]
    three = plots.roc_curve(_oof(["Adelie", "Chinstrap", "Gentoo"])).axes[0]
    labels = [t.get_text() for t in three.get_legend().get_texts()]
    assert [label.split(":")[0] for label in labels] == ["Adelie", "Chinstrap", "Gentoo"]
    assert len(three.lines) == 4  # three curves and the diagonal


def test_features_by_outcome_draws_text_columns_as_the_share_of_their_most_frequent_value():
    df = pd.DataFrame({"colour": ["red", "red", "blue", None, "red", "blue"], "size": [1.0, 2, 3, 4, 5, 6],
                       "label": ["a", "a", "b", "b", "a", "b"]})
    colour, size = plots.features_by_outcome(df, "label").axes[:2]
    assert [p.get_height() for p in colour.patches] == [1.0, 0.0]  # share = red in class a, class b
    assert colour.get_ylabel() == "share = red"
    assert size.get_title() == "size"
