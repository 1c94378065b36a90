"""The search: FLAML tries configurations of the allowed learners within its share of the budget.

Every trial is scored with the Azure primary metric on the search's folds (or holdout) and
written by FLAML as one JSON line, which `parse_trial` reads (live, for the run's child runs).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from ... import metrics
from ...errors import ConfigError
from ...settings import AutoMLSettings
from .learners import algorithm_name


@dataclass
class Trial:
    """One evaluated configuration."""

    number: int
    learner: str
    config: dict
    score: float
    duration_seconds: float
    wall_clock_seconds: float
    sample_size: Optional[int] = field(default=None, compare=False)

    @property
    def algorithm(self) -> str:
        return algorithm_name(self.learner)


def choose_validation(settings: AutoMLSettings, n_rows: int, has_validation_data: bool) -> Tuple[str, int, float]:
    """Azure's rule: (method, folds, holdout share)."""
    if has_validation_data:
        if settings.n_cross_validations or settings.validation_size:
            raise ConfigError("validation data cannot be combined with 'automl.n_cross_validations' or 'automl.validation_size'")
        return "holdout", 0, 0.0
    if settings.n_cross_validations:
        return "cv", settings.n_cross_validations, 0.0
    if settings.validation_size:
        return "holdout", 0, settings.validation_size
    if n_rows < 1000:
        return "cv", 10, 0.0
    if n_rows <= 20000:
        return "cv", 3, 0.0
    return "holdout", 0, 0.1


def worker_count(settings: AutoMLSettings, max_nodes: int) -> int:
    """Threads (n_jobs) per trial: max_concurrent_iterations bounded by the compute and the CPUs."""
    return max(1, min(settings.max_concurrent_iterations, max_nodes, os.cpu_count() or 1))


# Learners whose threads are OpenMP's, and the cells (rows x featurized columns) of a fit above which
# a second thread pays for itself. amlpipe makes OpenMP wait passively (see `amlpipe/__init__`), so
# that idle threads leave the CPUs to the next fit; then every parallel step of a boosting round
# wakes a sleeping thread. `benchmarks/threads.py` (2 CPUs, 300 rounds, passive; RESULTS.md,
# "Threads of the boosted learners"): LightGBM on 300 x 12 took 0.06 s on one thread and 0.90 s
# on two, on 20,000 x 50 1.47 against 2.31, on 50,000 x 90 4.88 against 3.90; XGBoost on
# 2,000 x 25 0.10 against 0.36, on 8,000 x 90 2.96 against 2.72. The bounds lie between those sizes.
THREADED_CELLS = {"lgbm": 2_000_000, "xgboost": 200_000, "xgb_limitdepth": 200_000}


def fit_threads(learner: str, workers: int, cells: int) -> int:
    """Threads for one fit of ``learner`` on ``cells`` (rows x featurized columns): ``workers``, or
    one for a boosted learner on data too small to pay for waking OpenMP's passive threads."""
    passive = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
    if learner in THREADED_CELLS and passive and cells <= THREADED_CELLS[learner]:
        return 1
    return workers


def _with_threads(estimator_class, threads: int):
    """A FLAML estimator class whose fits use ``threads`` threads, whatever FLAML's ``n_jobs``."""

    def __init__(self, task="binary", **config):
        estimator_class.__init__(self, task, **{**config, "n_jobs": threads})

    return type(estimator_class.__name__, (estimator_class,), {"__init__": __init__})


def flaml_metric(primary: str, task: str, classes):
    """A FLAML custom metric returning the loss and the Azure metric for the trial log.

    ``classes`` are the label codes the search trains on (0 .. k-1), not the original values.
    """

    def metric(X_val, y_val, estimator, labels, X_train, y_train, weight_val=None, weight_train=None, *args, **kwargs):
        if task == "classification":
            prediction = estimator.predict_proba(X_val)
        else:
            prediction = estimator.predict(X_val)
        value = metrics.score(primary, np.asarray(y_val), prediction, classes, weight_val)
        return metrics.to_loss(primary, value), {primary: value}

    return metric


def run_flaml(X: np.ndarray, y: np.ndarray, settings: AutoMLSettings, learners: List[str], seconds: float,
              workers: int, log_file: Path, classes, weight=None, splitter=None, holdout=None, split_ratio=0.0,
              cells: int = 0):
    """FLAML's search on featurized data for ``seconds``; returns the fitted `flaml.AutoML`.

    With ``iterations`` set, learners take turns (``roundrobin``) instead of being picked by
    their measured trial times, so that a run with the same seed tries the same configurations.
    Each trial of a learner uses `fit_threads` threads for ``cells`` (a fit's rows x columns).
    """
    from flaml import AutoML
    from flaml.automl.task.factory import task_factory

    fit_args = dict(
        task=settings.task,
        metric=flaml_metric(settings.primary_metric, settings.task, classes),
        estimator_list=learners,
        time_budget=seconds,
        max_iter=settings.iterations,
        early_stop=settings.enable_early_stopping,
        n_jobs=workers,
        log_file_name=str(log_file),
        log_type="all",
        seed=settings.seed,
        verbose=0,
        mlflow_logging=False,
        retrain_full=False,
    )
    if settings.iterations is not None:
        fit_args["learner_selector"] = "roundrobin"
    if splitter is not None:
        fit_args.update(eval_method="cv", split_type=splitter)
    elif holdout is not None:
        fit_args.update(eval_method="holdout", X_val=holdout[0], y_val=holdout[1])
    else:
        fit_args.update(eval_method="holdout", split_ratio=split_ratio)
    if weight is not None:
        fit_args["sample_weight"] = weight
    automl = AutoML()
    for learner in learners:
        threads = fit_threads(learner, workers, cells)
        if threads != workers:  # FLAML's own class for the learner, under the same name
            automl.add_learner(learner, _with_threads(task_factory(settings.task).estimator_class_from_str(learner), threads))
    with warnings.catch_warnings():
        # FLAML's trials call scikit-learn's delayed() from its own threads; the warning is about that, not the data.
        warnings.filterwarnings("ignore", message=".*sklearn.utils.parallel.delayed.*", category=UserWarning)
        automl.fit(X, y, **fit_args)
    return automl


def native_estimator(automl, learner: str, workers: int, seed: int, cells: int = 0):
    """The best configuration of ``learner`` as a plain, unfitted scikit-learn-style estimator.

    The saved pipeline holds only scikit-learn, LightGBM or XGBoost objects, so serving
    needs no FLAML; the random seed is the run's, so refits repeat; its threads are
    `fit_threads` for ``cells`` (a fit's rows x columns).
    """
    wrapper = automl.best_model_for_estimator(learner)
    params = dict(wrapper.params)
    for key in ("n_jobs", "nthread"):
        if key in params:
            params[key] = fit_threads(learner, workers, cells)
    estimator = wrapper.estimator_class(**params)
    if "random_state" in estimator.get_params() and params.get("random_state") is None:
        estimator.set_params(random_state=seed)
    return estimator


def read_trial_log(path: Path, primary: str) -> List[Trial]:
    """Parse FLAML's JSON-lines trial log (records only, not checkpoints)."""
    trials: List[Trial] = []
    if not path.exists():
        return trials
    for line in path.read_text().splitlines():
        trial = parse_trial(line, primary)
        if trial is not None:
            trials.append(trial)
    return trials


def parse_trial(line: str, primary: str) -> Optional[Trial]:
    """One FLAML log line as a Trial, or None for a checkpoint or a partial line."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    if "learner" not in record:
        return None
    logged = record.get("logged_metric") or {}
    score = logged.get(primary) if isinstance(logged, dict) else None
    if score is None:  # FLAML logs the loss; undo to_loss
        loss = record["validation_loss"]
        score = 1.0 - loss if metrics.GREATER_IS_BETTER[primary] else loss
    config = {k: v for k, v in record["config"].items() if k != "FLAML_sample_size"}
    return Trial(
        number=record["record_id"],
        learner=record["learner"],
        config=config,
        score=float(score),
        duration_seconds=float(record["trial_time"]),
        wall_clock_seconds=float(record["wall_clock_time"]),
        sample_size=record["config"].get("FLAML_sample_size"),
    )
