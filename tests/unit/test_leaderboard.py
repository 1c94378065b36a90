"""The leaderboard every backend returns: its columns and its order, from the primary metric's direction."""

import math

import pytest

from amlpipe import ConfigError
from amlpipe.backends.base import leaderboard_frame

ROWS = [
    {"iteration": 0, "algorithm": "A", "score": 0.30, "run_id": "a"},
    {"iteration": 1, "algorithm": "B", "score": None, "run_id": "b"},  # a trial that logged no score
    {"iteration": 2, "algorithm": "C", "score": 0.10, "run_id": "c"},
    {"iteration": 3, "algorithm": "D", "score": 0.20, "run_id": "d"},
]


@pytest.mark.parametrize("metric, order", [
    ("AUC_weighted", ["a", "d", "c", "b"]),
    ("normalized_root_mean_squared_error", ["c", "d", "a", "b"]),
])
def test_best_first_in_the_metrics_direction_and_unscored_rows_last(metric, order):
    board = leaderboard_frame(ROWS, metric)
    assert list(board.columns) == ["iteration", "algorithm", metric, "duration_s", "elapsed_s", "run_id"]
    assert board.run_id.tolist() == order
    assert math.isnan(board[metric].iloc[-1]) and board.duration_s.isna().all()


def test_an_unknown_metric_is_named():
    with pytest.raises(ConfigError, match="primary metric 'f1' is unknown"):
        leaderboard_frame(ROWS, "f1")
