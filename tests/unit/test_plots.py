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
