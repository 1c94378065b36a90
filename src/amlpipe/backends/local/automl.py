"""The local AutoML engine: FLAML's search, then Azure-style voting and stack ensembles.

Every `AutoMLSettings` field has a meaning here (see DESIGN.md):

- ``experiment_timeout_minutes``: the whole budget; FLAML searches in most of it and the
  ensembles are built in the rest;
- ``max_concurrent_iterations``: worker processes for each trial, bounded by the compute's
  ``max_nodes`` and the CPUs (FLAML runs concurrent trials only on Ray or Spark, which a
  one-machine backend does not bring in);
- ``enable_early_stopping``: FLAML's ``early_stop``, which ends the search once it converges;
- ``n_cross_validations`` / ``validation_size`` / validation data / neither: K-fold CV,
  a holdout share, a given holdout, or Azure's rule by row count;
- ``iterations``: the maximum number of trials;
- ``allowed_models`` / ``blocked_models``: Azure model names, mapped to FLAML learners;
- ``enable_voting_ensemble`` / ``enable_stack_ensemble``: equal-weight soft voting over the
  candidates (the best model of each algorithm and a few fixed configurations,
  `fixed_candidates`) tied with the best (`tied_with_best`), and a logistic/linear stacker
  over all of them, all scored on out-of-fold predictions from other folds than the
  search's (`cv_splitters`);
- ``weight_column_name``: sample weights for training and for every metric.
"""

from __future__ import annotations

import json
import logging
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import Pipeline

from ... import metrics
from ...data import feature_schema
from ...errors import ConfigError, DataError
from ...onnx_export import CONVERTIBLE_LEARNERS
from ...settings import AutoMLSettings
from .featurize import build_featurizer

logger = logging.getLogger(__name__)

# Azure model names -> FLAML learners.
AZURE_MODELS: Dict[str, Dict[str, Tuple[str, ...]]] = {
    "classification": {
        "LogisticRegression": ("lrl1", "lrl2"),
        "SGD": ("sgd",),
        "KNN": ("kneighbor",),
        "RandomForest": ("rf",),
        "ExtremeRandomTrees": ("extra_tree",),
        "LightGBM": ("lgbm",),
        "XGBoostClassifier": ("xgboost", "xgb_limitdepth"),
        "GradientBoosting": ("histgb",),
        "LinearSVM": ("svc",),
    },
    "regression": {
        "ElasticNet": ("enet",),
        "LassoLars": ("lassolars",),
        "SGD": ("sgd",),
        "KNN": ("kneighbor",),
        "RandomForest": ("rf",),
        "ExtremeRandomTrees": ("extra_tree",),
        "LightGBM": ("lgbm",),
        "XGBoostRegressor": ("xgboost", "xgb_limitdepth"),
        "GradientBoosting": ("histgb",),
    },
}
# Azure models with no local learner: allowing one alone is an error, blocking one is a no-op.
AZURE_ONLY_MODELS = (
    "DecisionTree",
    "MultinomialNaiveBayes",
    "BernoulliNaiveBayes",
    "SVM",
    "AveragedPerceptronClassifier",
    "TensorFlowDNN",
    "TensorFlowLinearClassifier",
    "TensorFlowLinearRegressor",
    "FastLinearRegressor",
    "OnlineGradientDescentRegressor",
    "TCNForecaster",
)
# Searched when allowed_models is not set: the learners that do well on small tabular data.
# Not KNN: its model is the training data itself (every record ends up in model.pkl), and with
# the large k the search picks here it costs the endpoint 180 ms per 10,000 rows for a
# member the ensemble weighs at a few percent. allowed_models=["KNN"] still brings it in.
DEFAULT_LEARNERS = {
    "classification": ("lgbm", "rf", "extra_tree", "xgb_limitdepth", "lrl1"),
    "regression": ("lgbm", "rf", "extra_tree", "xgb_limitdepth", "enet"),
}
# Algorithm names for the leaderboard and the registered model, unique per learner.
ALGORITHM_NAMES = {
    "lrl1": "LogisticRegression",
    "lrl2": "LogisticRegressionL2",
    "sgd": "SGD",
    "kneighbor": "KNN",
    "rf": "RandomForest",
    "extra_tree": "ExtremeRandomTrees",
    "lgbm": "LightGBM",
    "xgboost": "XGBoost",
    "xgb_limitdepth": "XGBoostLimitDepth",
    "histgb": "GradientBoosting",
    "svc": "LinearSVM",
    "enet": "ElasticNet",
    "lassolars": "LassoLars",
}
# Bagged forests only lose variance with more trees; the search, short of time on small
# data, settles on a few dozen. The final models and their out-of-fold scores use at least this many.
FOREST_TREES = 200
MIN_SEARCH_SHARE = 0.3  # the search keeps at least this share of the budget


@dataclass
class Trial:
    """One evaluated configuration."""

    number: int
    learner: str
    config: dict
    score: float
    duration_seconds: float
    wall_clock_seconds: float

    @property
    def algorithm(self) -> str:
        return ALGORITHM_NAMES.get(self.learner, self.learner)


@dataclass
class Candidate:
    """A model (without featurizer) scored on out-of-fold predictions, ready to refit on all the data."""

    name: str
    estimator: object
    score: float
    oof: np.ndarray
    members: Dict[str, float] = field(default_factory=dict)


@dataclass
class AutoMLResult:
    """What a finished search hands back."""

    model: Pipeline
    algorithm: str
    score: float
    metrics: Dict[str, float]
    trials: List[Trial]
    candidates: List[Candidate]
    schema: Dict[str, str]
    classes: Optional[list]
    validation: str
    workers: int
    oof: pd.DataFrame
    ensemble_weights: Dict[str, float]
    threshold: Optional[float] = None


def learners_for(settings: AutoMLSettings) -> List[str]:
    """FLAML learners from ``allowed_models``/``blocked_models``.

    Raises:
        ConfigError: an unknown model name, or no local learner left; the message names the setting.
    """
    table = AZURE_MODELS[settings.task]
    for setting in ("allowed_models", "blocked_models"):
        for name in getattr(settings, setting) or ():
            if name not in table and name not in AZURE_ONLY_MODELS:
                raise ConfigError(
                    f"setting 'automl.{setting}': unknown model {name!r} for {settings.task}; "
                    f"known: {', '.join(table)}"
                )
    if settings.allowed_models:
        local_only = [n for n in settings.allowed_models if n in AZURE_ONLY_MODELS]
        learners = [lrn for n in settings.allowed_models if n in table for lrn in table[n]]
        if local_only:
            logger.warning("allowed_models: %s not available on the local backend", ", ".join(local_only))
    else:
        learners = list(DEFAULT_LEARNERS[settings.task])
    blocked = {lrn for n in settings.blocked_models or () if n in table for lrn in table[n]}
    learners = [lrn for lrn in dict.fromkeys(learners) if lrn not in blocked]
    if not learners:
        raise ConfigError(
            "settings 'automl.allowed_models'/'automl.blocked_models' leave no model the local backend can train"
        )
    if settings.enable_onnx_compatible_models:
        learners = [lrn for lrn in learners if lrn in CONVERTIBLE_LEARNERS]
        if not learners:
            raise ConfigError("setting 'automl.enable_onnx_compatible_models': none of the allowed models converts "
                              f"to ONNX; those that do: {', '.join(n for n in table if set(table[n]) <= set(CONVERTIBLE_LEARNERS))}")
    return learners


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
    """Processes per trial: max_concurrent_iterations bounded by the compute and the CPUs."""
    return max(1, min(settings.max_concurrent_iterations, max_nodes, os.cpu_count() or 1))


def _flaml_metric(primary: str, task: str, classes):
    """A FLAML custom metric returning the loss and the Azure metric for the trial log."""

    def metric(X_val, y_val, estimator, labels, X_train, y_train, weight_val=None, weight_train=None, *args, **kwargs):
        if task == "classification":
            prediction = estimator.predict_proba(X_val)
        else:
            prediction = estimator.predict(X_val)
        value = metrics.score(primary, np.asarray(y_val), prediction, classes, weight_val)
        return metrics.to_loss(primary, value), {primary: value}

    return metric


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
    )


def _native_estimator(automl, learner: str, workers: int):
    """The best configuration of ``learner`` as a plain scikit-learn-style estimator.

    The saved pipeline holds only scikit-learn, LightGBM or XGBoost objects, so serving
    needs no FLAML.
    """
    wrapper = automl.best_model_for_estimator(learner)
    params = dict(wrapper.params)
    for key in ("n_jobs", "nthread"):
        if key in params:
            params[key] = workers
    if learner in ("rf", "extra_tree"):
        params["n_estimators"] = max(params.get("n_estimators", 100), FOREST_TREES)
    return wrapper.estimator_class(**params)


def cv_splitters(task: str, folds: int, seed: int):
    """The search's K folds, and other K folds on which the candidates are scored and blended.

    On the folds the search chose them on, the chosen configurations look better than they
    are (selection bias), and the ensemble would overweight them against the fixed ones.
    """
    splitter_cls = StratifiedKFold if task == "classification" else KFold
    return (splitter_cls(n_splits=folds, shuffle=True, random_state=seed),
            splitter_cls(n_splits=folds, shuffle=True, random_state=seed + 1))


def _out_of_fold(estimator, X, y, splitter, task, weight) -> np.ndarray:
    method = "predict_proba" if task == "classification" else "predict"
    params = {"model__sample_weight": weight} if weight is not None else None
    return cross_val_predict(estimator, X, y, cv=splitter, method=method, params=params)


def _score(primary, task, y, prediction, classes, weight) -> float:
    return metrics.score(primary, y, prediction, classes if task == "classification" else None, weight)


def fixed_candidates(settings: AutoMLSettings, learners: Sequence[str], workers: int) -> Dict[str, object]:
    """Configurations that do well on small tabular data, scored beside the searched ones.

    A search on a few hundred rows picks configurations that fit its folds' noise; these are
    not chosen on the data at all, and they give the ensemble members it can trust:

    - forests whose leaves hold at least five rows (ranger's probability forests stop
      splitting nodes under ten rows): smoother probabilities than full-depth trees;
    - extremely randomised trees of the same leaf size that consider every feature at each split;
    - slow, shallow gradient boosting: four leaves, learning rate 0.01, 400 rounds, 70% of
      the rows and columns per round;
    - boosted stumps (two leaves, 800 rounds, otherwise the same): an additive model, one
      learned curve per feature and no interactions, as generalised additive models and
      explainable boosting machines; it errs differently from the forests.
    """
    from lightgbm import LGBMClassifier, LGBMRegressor
    from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier,
                                  RandomForestRegressor)

    classification = settings.task == "classification"
    forest = dict(n_estimators=FOREST_TREES, min_samples_leaf=5, n_jobs=workers, random_state=settings.seed)
    chosen = {}
    if "rf" in learners:
        cls = RandomForestClassifier if classification else RandomForestRegressor
        chosen["RandomForestMinLeaf5"] = cls(**forest)
    if "extra_tree" in learners:
        cls = ExtraTreesClassifier if classification else ExtraTreesRegressor
        chosen["ExtremeRandomTreesMinLeaf5"] = cls(max_features=1.0, **forest)
    if "lgbm" in learners:
        cls = LGBMClassifier if classification else LGBMRegressor
        slow = dict(learning_rate=0.01, min_child_samples=10, subsample=0.7, subsample_freq=1, colsample_bytree=0.7,
                    n_jobs=workers, random_state=settings.seed, verbose=-1)
        chosen["LightGBMSlow"] = cls(n_estimators=400, num_leaves=4, **slow)
        chosen["LightGBMStumps"] = cls(n_estimators=800, num_leaves=2, **slow)
    return chosen


def tied_with_best(candidates: Sequence[Candidate], y, splitter, primary: str, task: str, classes, weight) -> List[Candidate]:
    """The candidates whose out-of-fold score is within one standard error of the best one's.

    The standard error is that of the best candidate's per-fold scores. On a few hundred rows
    the candidates inside it cannot be told apart: ranking or weighting them by these scores
    (as greedy ensemble selection does) fits the noise of the folds.
    """
    sign = 1 if metrics.GREATER_IS_BETTER[primary] else -1
    best = max(candidates, key=lambda c: sign * c.score)
    per_fold = _fold_scores(best.oof, y, splitter, primary, task, classes, weight)
    margin = per_fold.std(ddof=1) / np.sqrt(len(per_fold))
    return [c for c in candidates if sign * (best.score - c.score) <= margin]


def run_search(
    features: pd.DataFrame,
    label: pd.Series,
    settings: AutoMLSettings,
    workers: int,
    log_file: Path,
    weight: Optional[pd.Series] = None,
    validation: Optional[Tuple[pd.DataFrame, pd.Series]] = None,
    on_stage: Callable[[str], None] = lambda stage: None,
) -> AutoMLResult:
    """Search, ensemble, refit: the whole local AutoML run without tracking.

    Args:
        features: Raw feature columns (featurization happens inside the returned pipeline).
        label: The label column.
        settings: The AutoMLConfig settings.
        workers: Processes per trial (see `worker_count`).
        log_file: Where FLAML writes one JSON line per trial; read live for progress.
        weight: Sample weights, or None.
        validation: A holdout (features, label) given by the user, or None.
        on_stage: Called with a short description as each stage starts.

    Raises:
        DataError: the data cannot be featurized or trained on.
    """
    from flaml import AutoML

    report = on_stage

    def on_stage(text: str) -> None:
        logger.debug(text)  # into AutoMLConfig's debug_log
        report(text)

    started = time.monotonic()
    budget = settings.experiment_timeout_minutes * 60
    schema = feature_schema(features)
    featurizer = build_featurizer(schema, settings.featurization)
    task = settings.task
    learners = learners_for(settings)
    method, folds, holdout = choose_validation(settings, len(features), validation is not None)
    y = label.to_numpy()
    w = None if weight is None else weight.to_numpy(dtype=float)
    classes = sorted(pd.unique(y).tolist()) if task == "classification" else None

    try:
        Xf = featurizer.fit_transform(features)
    except ValueError as exc:
        raise DataError(f"featurization failed: {exc}") from None
    if settings.featurization == "off" and not np.isfinite(np.asarray(Xf, dtype=float)).all():
        raise DataError("featurization='off' needs complete numeric data; some values are missing or not numbers")

    if method == "cv":
        splitter, scoring_splitter = cv_splitters(task, folds, settings.seed)
    fit_args = dict(
        task=task,
        metric=_flaml_metric(settings.primary_metric, task, classes),
        estimator_list=learners,
        time_budget=search_budget(budget, settings.task, Xf, y, workers, folds),
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
    if method == "cv":
        fit_args.update(eval_method="cv", split_type=splitter)
    elif validation is not None:
        fit_args.update(
            eval_method="holdout",
            X_val=featurizer.transform(validation[0]),
            y_val=validation[1].to_numpy(),
        )
    else:
        fit_args.update(eval_method="holdout", split_ratio=holdout)
    if w is not None:
        fit_args["sample_weight"] = w

    on_stage(f"searching {', '.join(learners)} ({method}{f', {folds} folds' if folds else ''}, {workers} workers)")
    automl = AutoML()
    with warnings.catch_warnings():
        # FLAML's trials call scikit-learn's delayed() from its own threads; the warning is about that, not the data.
        warnings.filterwarnings("ignore", message=".*sklearn.utils.parallel.delayed.*", category=UserWarning)
        automl.fit(Xf, y, **fit_args)
    trials = read_trial_log(log_file, settings.primary_metric)
    if not trials:
        raise DataError("AutoML finished no trial within the budget; raise experiment_timeout_minutes")

    tried = [lrn for lrn, cfg in automl.best_config_per_estimator.items() if cfg is not None]
    if method == "cv":
        fixed = fixed_candidates(settings, learners, workers)
        on_stage(f"scoring the best model of {len(tried)} algorithms and {len(fixed)} fixed ones out of fold")
        natives = {ALGORITHM_NAMES.get(lrn, lrn): _native_estimator(automl, lrn, workers) for lrn in tried}
        candidates = []
        for name, native in {**natives, **fixed}.items():
            pipeline = Pipeline([("featurize", clone(featurizer)), ("model", clone(native))])
            oof = _out_of_fold(pipeline, features, y, scoring_splitter, task, w)
            candidates.append(Candidate(name, native, _score(settings.primary_metric, task, y, oof, classes, w), oof))
        best, weights, candidates = _pick_final(candidates, y, settings, classes, w, scoring_splitter, on_stage)
    else:
        # A holdout gives no out-of-fold predictions to blend: take FLAML's best model.
        learner = automl.best_estimator
        sign = 1 if metrics.GREATER_IS_BETTER[settings.primary_metric] else -1
        best_trial = max(trials, key=lambda t: sign * t.score)
        native = _native_estimator(automl, learner, workers)
        best = Candidate(ALGORITHM_NAMES.get(learner, learner), native, best_trial.score, np.empty(0))
        candidates, weights = [best], {}

    on_stage(f"refitting {best.name} on all {len(features)} rows")
    fit_params = {"model__sample_weight": w} if w is not None else {}
    model = Pipeline([("featurize", featurizer), ("model", best.estimator)])
    threshold = None
    if classes is not None and len(classes) == 2 and best.oof.size:
        # Ranking metrics such as AUC ignore where probabilities sit; an ensemble of
        # shrunken members can rank well yet never reach 0.5. Predict the positive
        # class from the out-of-fold threshold that maximises accuracy instead.
        from sklearn.model_selection import FixedThresholdClassifier

        threshold = choose_threshold(y, best.oof[:, 1], classes, w)
        model = FixedThresholdClassifier(model, threshold=threshold, response_method="predict_proba")
    model.fit(features, y, **fit_params)
    oof_frame = _oof_frame(best.oof, y, classes, threshold) if best.oof.size else pd.DataFrame()
    scores = (
        metrics.all_scores(task, y, best.oof, classes, w, threshold)
        if best.oof.size
        else {settings.primary_metric: best.score}
    )
    logger.info("AutoML done in %.1f s: %s %s=%.4f", time.monotonic() - started, best.name, settings.primary_metric, best.score)
    return AutoMLResult(
        model=model,
        algorithm=best.name,
        score=best.score,
        metrics=scores,
        trials=trials,
        candidates=candidates,
        schema=schema,
        classes=classes,
        validation=f"{folds}-fold CV" if method == "cv" else "holdout",
        workers=workers,
        oof=oof_frame,
        ensemble_weights=weights,
        threshold=threshold,
    )


def search_budget(budget: float, task: str, Xf: np.ndarray, y: np.ndarray, workers: int, folds: int) -> float:
    """Seconds for FLAML's search: the budget less what scoring and refitting the candidates will take.

    That cost is estimated from one timed fit of a forest of the final size on all rows: the
    forests dominate it (each is fitted once per fold and once more on everything).
    """
    if not folds:
        return budget  # holdout: no out-of-fold scoring, no ensembles
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
    started = time.monotonic()
    cls(n_estimators=FOREST_TREES, n_jobs=workers, random_state=0).fit(Xf, y)
    one_fit = time.monotonic() - started
    # four forests (searched and fixed), plus about one more for the boosted and linear models
    forests = 5
    estimate = one_fit * forests * (folds + 1) + 0.1 * budget
    return max(budget * MIN_SEARCH_SHARE, budget - estimate)


def _pick_final(candidates, y, settings, classes, w, splitter, on_stage) -> Tuple[Candidate, Dict[str, float], List[Candidate]]:
    """The final model: the voting ensemble of the candidates tied with the best (the best
    single model when no other is tied with it or voting is off); the stack ensemble replaces
    it only by leading it by more than one standard error. Every option is returned too.
    """
    from sklearn.ensemble import StackingClassifier, StackingRegressor, VotingClassifier, VotingRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression

    task, primary = settings.task, settings.primary_metric
    sign = 1 if metrics.GREATER_IS_BETTER[primary] else -1
    options = list(candidates)
    final = max(candidates, key=lambda c: sign * c.score)
    tied = tied_with_best(candidates, y, splitter, primary, task, classes, w)
    if settings.enable_voting_ensemble and len(tied) > 1:
        # Equal votes: the single best of the tied models, or weights fitted to their
        # scores, would be chosen on noise (measured in benchmarks/RESULTS.md).
        on_stage(f"building the voting ensemble of the {len(tied)} models tied with the best")
        weights = {c.name: 1 / len(tied) for c in tied}
        members = [(c.name, c.estimator) for c in tied]
        if task == "classification":
            voter = VotingClassifier(members, voting="soft", weights=list(weights.values()))
        else:
            voter = VotingRegressor(members, weights=list(weights.values()))
        blend = np.mean([c.oof for c in tied], axis=0)
        final = Candidate("VotingEnsemble", voter, _score(primary, task, y, blend, classes, w), blend, weights)
        options.append(final)
    if settings.enable_stack_ensemble and settings.enable_onnx_compatible_models:
        logger.warning("no stack ensemble: enable_onnx_compatible_models is set (as on Azure)")
    elif settings.enable_stack_ensemble and len(candidates) > 1:
        on_stage("building the stack ensemble")
        members = [(c.name, c.estimator) for c in candidates]
        # The stacker is scored by cross-validating it on the members' out-of-fold predictions.
        if task == "classification":
            level1 = np.column_stack([c.oof[:, 1:] for c in candidates])
            meta = LogisticRegression(max_iter=1000)
            stack_oof = cross_val_predict(meta, level1, y, cv=splitter, method="predict_proba")
            stacker = StackingClassifier(members, final_estimator=meta, cv=splitter, stack_method="predict_proba")
        else:
            level1 = np.column_stack([c.oof for c in candidates])
            meta = LinearRegression(positive=True)
            stack_oof = cross_val_predict(meta, level1, y, cv=splitter)
            stacker = StackingRegressor(members, final_estimator=meta, cv=splitter)
        stack = Candidate("StackEnsemble", stacker, _score(primary, task, y, stack_oof, classes, w), stack_oof)
        options.append(stack)
        lead = sign * (_fold_scores(stack.oof, y, splitter, primary, task, classes, w)
                       - _fold_scores(final.oof, y, splitter, primary, task, classes, w))
        if lead.mean() > lead.std(ddof=1) / np.sqrt(len(lead)):
            final = stack
    return final, dict(final.members), options


def _fold_scores(oof, y, splitter, primary, task, classes, w) -> np.ndarray:
    """The metric on each validation fold of ``splitter``."""
    scores = []
    for _, test in splitter.split(np.zeros(len(y)), y):
        weight = None if w is None else w[test]
        scores.append(_score(primary, task, y[test], oof[test], classes, weight))
    return np.asarray(scores)


def choose_threshold(y, positive_proba: np.ndarray, classes, weight=None) -> float:
    """The probability cut-off for the second class that maximises out-of-fold accuracy
    (ties: the one nearest 0.5)."""
    cuts = np.unique(np.concatenate([positive_proba, [0.5]]))
    truth = np.asarray(y) == classes[1]
    w = np.ones(len(truth)) if weight is None else np.asarray(weight, dtype=float)
    accuracy = np.array([np.average((positive_proba >= c) == truth, weights=w) for c in cuts])
    best = np.flatnonzero(np.isclose(accuracy, accuracy.max()))
    return float(cuts[best[np.argmin(np.abs(cuts[best] - 0.5))]])


def _oof_frame(oof: np.ndarray, y, classes, threshold=None) -> pd.DataFrame:
    """Out-of-fold predictions with the truth, for ROC curves and confusion matrices."""
    if classes is None:
        return pd.DataFrame({"y_true": y, "y_pred": oof})
    frame = pd.DataFrame(oof, columns=[f"proba_{c}" for c in classes])
    frame.insert(0, "y_pred", metrics.predicted_labels(oof, classes, threshold))
    frame.insert(0, "y_true", y)
    return frame
