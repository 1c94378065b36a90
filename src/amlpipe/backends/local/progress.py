"""What the user sees while a local AutoML run searches: trials done, best score, time left.

``bar`` is a tqdm bar (a widget in a notebook), ``lines`` plain text lines for logs and
headless runs (papermill, CI), ``none`` nothing; ``auto`` is a bar on a terminal or in a
notebook a person is running, lines elsewhere.
"""

from __future__ import annotations

import sys
import time
from typing import Optional, TextIO

from ... import environment
from ...errors import ConfigError

MODES = ("auto", "bar", "lines", "none")
LINE_INTERVAL_SECONDS = 5.0


class SearchProgress:
    """Shows the search's progress; fed one trial at a time."""

    def __init__(self, budget_seconds: float, metric: str, greater_is_better: bool, mode: str = "auto",
                 stream: Optional[TextIO] = None):
        if mode not in MODES:
            raise ConfigError(f"progress mode {mode!r} is not one of {', '.join(MODES)}")
        self.stream = stream or sys.stdout
        if mode == "auto":
            watched = getattr(self.stream, "isatty", lambda: False)() or environment.interactive_notebook()
            mode = "bar" if watched and not environment.unattended() else "lines"
        self.mode = mode
        self.budget = budget_seconds
        self.metric = metric
        self.sign = 1 if greater_is_better else -1
        self.started = time.monotonic()
        self.trials = 0
        self.best: Optional[float] = None
        self.best_algorithm = ""
        self._last_line = 0.0
        self._bar = None
        if mode == "bar":
            from tqdm.auto import tqdm

            self._bar = tqdm(total=round(budget_seconds), unit="s", desc="AutoML", file=self.stream,
                             bar_format="{desc} {bar} {n_fmt}/{total_fmt} s {postfix}")

    def _status(self) -> str:
        best = f"best {self.metric} {self.best:.4f} ({self.best_algorithm})" if self.best is not None else "no trial yet"
        left = max(0.0, self.budget - (time.monotonic() - self.started))
        return f"{self.trials} trials | {best} | {left:.0f} s left"

    def trial(self, score: float, algorithm: str) -> None:
        """Record a finished trial."""
        self.trials += 1
        improved = self.best is None or self.sign * score > self.sign * self.best
        if improved:
            self.best, self.best_algorithm = score, algorithm
        if self._bar is not None:
            elapsed = min(round(time.monotonic() - self.started), self._bar.total)
            self._bar.update(elapsed - self._bar.n)
            self._bar.set_postfix_str(self._status())
        elif self.mode == "lines":
            now = time.monotonic()
            if improved or now - self._last_line >= LINE_INTERVAL_SECONDS:
                self._last_line = now
                print(f"AutoML: {self._status()}", file=self.stream, flush=True)

    def stage(self, text: str) -> None:
        """Announce a stage (search, ensembling, refit)."""
        if self._bar is not None:
            self._bar.set_description_str(f"AutoML: {text[:40]}")
        elif self.mode == "lines":
            print(f"AutoML: {text}", file=self.stream, flush=True)

    def close(self, outcome: str = "") -> None:
        """Close the bar and say how the run ended (``outcome``: the final model and score)."""
        if self._bar is not None:
            self._bar.close()
        if self.mode != "none":
            took = time.monotonic() - self.started
            print(f"AutoML: finished in {took:.0f} s after {self.trials} trials. {outcome}".rstrip(), file=self.stream, flush=True)
