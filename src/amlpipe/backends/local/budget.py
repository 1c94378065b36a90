"""Keeping ``experiment_timeout_minutes``: the time after the search, planned from measured fits.

Azure's ``experiment_timeout_minutes`` bounds the whole run. Here the run's seconds are shared
between FLAML's search and what follows it: scoring the candidates out of fold (one fit per
fold each), building the ensembles and refitting the final model on all rows. Each
candidate's fit time is measured on a sample before that work is planned (`probe_fit_seconds`);
when the time left is short, the plan does less: fewer scoring folds, fewer candidates,
smaller forests and boosted models, no stack ensemble. `Plan.cuts` says what was left out,
and the run logs it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from sklearn.base import clone

logger = logging.getLogger(__name__)

SAFETY = 1.5  # estimated fit times are multiplied by this (the timing noise of a busy machine)
MIN_SEARCH_SHARE = 0.3  # the search keeps at least this share of the budget
MAX_SEARCH_SHARE = 0.85  # and leaves at least this share for what follows
MIN_SEARCH_SECONDS = 1.0  # even when the budget is spent before the search starts
PROBE_ROWS = 2000  # rows a fit time is measured on
PROBE_SIZE = 20  # trees or boosting rounds a fit time is measured with
GROWTH_ROWS = 4  # for more rows than PROBE_ROWS, the fits are timed again on up to this many times as many
MIN_SIZE = 10  # the fewest trees or rounds a candidate is shrunk to
SCORING_FOLDS = (10, 5, 3)  # scoring fold counts the plan may fall back to


@dataclass
class Budget:
    """The run's seconds, counted from ``start`` (a `time.monotonic` instant)."""

    seconds: float
    start: float = field(default_factory=time.monotonic)

    @property
    def deadline(self) -> float:
        return self.start + self.seconds

    def left(self) -> float:
        return self.deadline - time.monotonic()


def probe_fit_seconds(estimator, X: np.ndarray, y: np.ndarray, n_fit: int, seed: int) -> float:
    """Seconds one fit of ``estimator`` on ``n_fit`` rows of this data will take, from small fits.

    Fits are timed on up to `PROBE_ROWS` rows, for tree ensembles twice (with `PROBE_SIZE`
    trees or rounds and a quarter of that) so that the fixed cost of a fit (thread pools,
    data set construction) is not scaled with the trees. A fold of the probed rows is scaled
    down by ``n log n``; for more rows than that, the same fits are timed again on up to
    `GROWTH_ROWS` times as many (`_grown`).
    """
    rows = min(len(X), PROBE_ROWS)
    order = np.random.default_rng(seed).permutation(len(X))
    Xs, ys = X[order[:rows]], y[order[:rows]]
    if len(np.unique(ys)) < len(np.unique(y)) and len(np.unique(y)) < len(y) // 2:  # a class missed: all rows
        Xs, ys, rows = X, y, len(X)
    size = _size(estimator) or 0
    fixed, per_unit = _fit_and_unit_seconds(estimator, Xs, ys)
    more = min(n_fit, len(X), GROWTH_ROWS * rows)
    if more > rows:
        on_more = _fit_and_unit_seconds(estimator, X[order[:more]], y[order[:more]])
        fixed, per_unit = _grown((fixed, per_unit), on_more, rows, more, n_fit)
        return fixed + per_unit * size
    return (fixed + per_unit * size) * _grow(n_fit) / _grow(rows)


def _fit_and_unit_seconds(estimator, X, y) -> Tuple[float, float]:
    """A fit's fixed seconds and its seconds per tree or round (0 for a model without them)."""
    size = _size(estimator)
    if size is None or size <= PROBE_SIZE:
        return _timed_fit(clone(estimator), X, y), 0.0
    small = _timed_fit(clone(estimator).set_params(n_estimators=PROBE_SIZE // 4), X, y)
    large = _timed_fit(clone(estimator).set_params(n_estimators=PROBE_SIZE), X, y)
    per_unit = max(large - small, 0.0) / (PROBE_SIZE - PROBE_SIZE // 4)
    return max(large - per_unit * PROBE_SIZE, 0.0), per_unit


def _grown(on_rows, on_more, rows: int, more: int, n_fit: int) -> Tuple[float, float]:
    """Each part of a fit (fixed, per tree or round) on ``n_fit`` rows, from its times on ``rows`` and ``more``.

    A part is a constant plus a term growing as ``n log n``, fitted through the two times (a
    part that took less time on more rows, timing noise, is taken as constant). A forest's
    trees grow with the rows; LightGBM's rounds mostly do not, and scaling its whole fit by
    ``n log n`` overestimated it four to six times on 9,000 and 12,000 rows, which left it out
    of the scoring (benchmarks/RESULTS.md, round 6).
    """
    slopes = [max(large - small, 0.0) / (_grow(more) - _grow(rows)) for small, large in zip(on_rows, on_more)]
    return tuple(large + slope * (_grow(n_fit) - _grow(more)) for large, slope in zip(on_more, slopes))


def _grow(n: int) -> float:
    return n * math.log(max(n, 2))


def _timed_fit(estimator, X, y) -> float:
    started = time.monotonic()
    estimator.fit(X, y)
    return time.monotonic() - started


def _size(estimator) -> Optional[int]:
    return estimator.get_params().get("n_estimators")


def search_seconds(budget: Budget, after_search: float) -> float:
    """The search's seconds: what is left less the estimated work after it, within bounds."""
    left = budget.left()
    seconds = min(max(left - after_search, MIN_SEARCH_SHARE * budget.seconds), MAX_SEARCH_SHARE * left)
    return float(max(seconds, MIN_SEARCH_SECONDS))  # FLAML takes a budget of 0 or less as no limit


@dataclass
class Plan:
    """What is done after the search: the scoring folds, the candidates kept and their sizes.

    ``later`` are the candidates the estimates left out, in order of priority: the estimates
    carry a safety margin, so the run still scores each one that the time measured by then
    leaves room for.
    """

    folds: int
    kept: List[str]
    sizes: Dict[str, int] = field(default_factory=dict)
    cuts: List[str] = field(default_factory=list)
    later: List[str] = field(default_factory=list)


def plan_scoring(fit_seconds: Dict[str, float], sizes: Dict[str, Optional[int]], folds: int, seconds: float) -> Plan:
    """Which candidates to score, on how many folds, so that scoring and refitting fit in ``seconds``.

    Args:
        fit_seconds: Estimated seconds for one fit of each candidate, in order of priority.
        sizes: Each candidate's trees or rounds (None: not a tree ensemble).
        folds: The scoring folds wanted.
        seconds: Seconds available for scoring the candidates and refitting the final model.

    Each candidate costs one fit per fold, plus one for the final refit. The plan keeps the
    most candidates it can with the most folds, first lowering the folds (to 5, then 3), then
    leaving out the candidates of lowest priority (to `Plan.later`); when not even the first
    fits, it shrinks the first candidate's trees or rounds, down to `MIN_SIZE`.
    """
    names = list(fit_seconds)
    best: Optional[Plan] = None
    for k in [folds] + [f for f in SCORING_FOLDS if f < folds]:
        kept, total = [], 0.0
        for name in names:
            cost = fit_seconds[name] * (k + 1)
            if total + cost <= seconds:
                kept.append(name)
                total += cost
        if best is None or len(kept) > len(best.kept):
            best = Plan(k, kept)
        if len(kept) == len(names):
            break
    assert best is not None
    if not best.kept and names:
        first = names[0]
        k = min(folds, SCORING_FOLDS[-1])
        size = sizes.get(first)
        affordable = seconds / (fit_seconds[first] * (k + 1))
        if size is not None and size * affordable >= MIN_SIZE:
            best = Plan(k, [first], {first: int(size * affordable)})
            best.cuts.append(f"{first} shrunk from {size} to {int(size * affordable)} trees or rounds")
    if best.folds < folds:
        best.cuts.append(f"candidates scored on {best.folds} folds instead of {folds}")
    best.later = [n for n in names if n not in best.kept]
    return best


def affordable_members(fit_seconds: Sequence[Tuple[str, float]], seconds: float) -> Tuple[List[str], List[str]]:
    """The members whose refits fit in ``seconds``, in the order given, and those that do not."""
    kept, dropped, total = [], [], 0.0
    for name, cost in fit_seconds:
        if total + cost <= seconds:
            kept.append(name)
            total += cost
        else:
            dropped.append(name)
    return kept, dropped


def trial_fit_seconds(duration: float, folds: int, sample_size: Optional[int], trial_size: Optional[int],
                      rows: int, size: Optional[int]) -> float:
    """Seconds for one fit on ``rows`` rows with ``size`` trees or rounds, from a search trial's time.

    The trial fitted ``folds`` times (once for a holdout) on ``sample_size`` rows with
    ``trial_size`` trees or rounds, all in ``duration`` seconds.
    """
    seconds = duration / max(folds, 1)
    sample = sample_size or rows
    if rows > sample:
        seconds *= rows / sample * math.log(rows) / math.log(max(sample, 2))
    if size and trial_size and size > trial_size:
        seconds *= size / trial_size
    return seconds
