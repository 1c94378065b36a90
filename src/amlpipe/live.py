"""A live view of an AutoML run for a notebook a person is running.

The SDK's RunDetails widget needs the classic notebook's extension and shows nothing in
JupyterLab 4, Notebook 7 or VS Code. This view needs no extension: a status line, a table
of the child runs and the best-score-over-time plot, each an IPython display output
replaced in place (``display(..., display_id=True)`` then ``update``) at every refresh.
Headless runs (papermill, CI) never get it: they print plain lines.
"""

from __future__ import annotations

import io
import logging
import time
from typing import Any, Callable, Collection, Dict, Tuple

import pandas as pd

logger = logging.getLogger(__name__)
MAX_FAILED_REFRESHES = 3  # in a row, then the wait fails

TABLE_COLUMNS = ("iteration", "algorithm", "duration_s", "status")
TABLE_ROWS = 20


def summary_line(run_id: str, status: str, table: pd.DataFrame, metric: str) -> str:
    """``AutoML run <id>: Running, 12 child runs, best AUC_weighted 0.9213 (VotingEnsemble)``."""
    scored = table.dropna(subset=[metric]) if metric in table else table.iloc[0:0]
    best = (f", best {metric} {scored[metric].iloc[0]:.4f} ({scored['algorithm'].iloc[0]})"
            if len(scored) else ", no score yet")
    return f"AutoML run {run_id}: {status}, {len(table)} child runs{best}"


class LiveView:
    """Three display outputs (status line, child-run table, plot) updated in place.

    Args:
        run_id: The AutoML run shown.
        metric: The primary metric.
        greater_is_better: The metric's direction (the leaderboard comes sorted best first).
    """

    def __init__(self, run_id: str, metric: str, greater_is_better: bool):
        self.run_id = run_id
        self.metric = metric
        self.greater_is_better = greater_is_better
        self._handles: Dict[str, Any] = {}

    def _show(self, key: str, obj: Any) -> None:
        from IPython.display import display

        if key in self._handles:
            self._handles[key].update(obj)
        else:
            self._handles[key] = display(obj, display_id=True)

    def update(self, leaderboard: pd.DataFrame, status: str) -> None:
        """Replace the three outputs with the run's state now (``leaderboard`` best first, with a status column)."""
        from IPython.display import Markdown

        self._show("status", Markdown(f"**{summary_line(self.run_id, status, leaderboard, self.metric)}**"))
        columns = [c for c in (*TABLE_COLUMNS[:2], self.metric, *TABLE_COLUMNS[2:]) if c in leaderboard]
        self._show("table", leaderboard[columns].head(TABLE_ROWS))
        if leaderboard["elapsed_s"].notna().any():
            self._show("plot", self._plot(leaderboard))

    def _plot(self, leaderboard: pd.DataFrame):
        import matplotlib.pyplot as plt
        from IPython.display import Image

        from .plots import best_score_over_time

        figure = best_score_over_time(leaderboard, self.metric, self.greater_is_better)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=80)
        plt.close(figure)  # shown once, through the display handle, not again by the inline backend
        return Image(data=buffer.getvalue(), format="png")


def poll(view: "LiveView", refresh: Callable[[], Tuple[pd.DataFrame, str]], finished: Collection[str],
         seconds: float) -> None:
    """Update ``view`` with ``refresh()`` (the table and the status) every ``seconds`` until the status is
    in ``finished``. A refresh that raises an amlpipe `ResourceError` is a blip in a long wait, not
    the run's end: it is logged and tried again, up to `MAX_FAILED_REFRESHES` times in a row."""
    from .errors import ResourceError

    failures = 0
    while True:
        try:
            board, status = refresh()
            view.update(board, status)
            failures = 0
        except ResourceError as exc:
            failures += 1
            if failures > MAX_FAILED_REFRESHES:
                raise
            logger.warning("could not refresh the live view (%s); trying again", exc)
            status = "Unknown"
        if status in finished:
            return
        time.sleep(seconds)
