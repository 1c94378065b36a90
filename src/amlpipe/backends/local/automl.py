"""The local AutoML engine: FLAML's search, then Azure-style voting and stack ensembles, in the budget.

A run has four stages, each in its own module:

1. `search`: FLAML tries configurations of the allowed learners (`learners`) on the search's
   folds or holdout, within the share of the budget the later stages leave it (`budget`);
2. `candidates`: the best configuration of each learner and a few fixed configurations are
   scored out of fold, on other folds than the search's (when time is short, each on one fold
   first, and the best of those on the rest);
3. `ensemble`: the final model is a voting ensemble of the candidates tied with the best, a
   stack ensemble that clearly beats it, or the best single model;
4. the final model is refitted on all rows; for two classes its decision threshold is
   chosen on the out-of-fold predictions (`threshold`); the permutation importance of its
   input columns is computed if time is left (`amlpipe.explain`).

Every `AutoMLSettings` field has a meaning here:

- ``experiment_timeout_minutes``: the whole run, as on Azure; the search gets what the
  measured cost of the later stages leaves, and those stages do less when time is short
  (see `budget`);
- ``max_concurrent_iterations``: threads for each trial, bounded by the compute's
  ``max_nodes`` and the CPUs (FLAML runs concurrent trials only on Ray or Spark, which a
  one-machine backend does not bring in); LightGBM and XGBoost take one thread on small data
  (`search.fit_threads`);
- ``enable_early_stopping``: FLAML's ``early_stop``, which ends the search once it converges;
- ``n_cross_validations`` / ``validation_size`` / validation data / neither: K-fold CV,
  a holdout share, a given holdout, or Azure's rule by row count;
- ``iterations``: the maximum number of trials; with ``seed``, runs that finish their
  iterations inside the budget repeat exactly;
- ``allowed_models`` / ``blocked_models``: Azure model names, mapped to FLAML learners;
- ``enable_voting_ensemble`` / ``enable_stack_ensemble``: the ensembles of stage 3;
- ``weight_column_name``: sample weights for training and for every metric;
- ``test_size``: a stratified share of the rows kept out of training, on which the final
  model is scored once (as Azure's test run); test data given to `run_search` does the same.

Labels of any type (integers, booleans, text, several classes) are coded 0 .. k-1 for the
search and the scoring; the final model is fitted on the original values, so its
``predict`` and ``classes_`` give them back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from ... import explain, metrics
from ...data import feature_schema
from ...errors import DataError
from ...settings import AutoMLSettings
from .budget import SAFETY, Budget, plan_scoring, probe_fit_seconds, search_seconds, trial_fit_seconds
from .candidates import (FOREST_LEARNERS, Candidate, cv_splitters, fixed_candidates, score_candidates,
                         with_forest_size)
from .ensemble import pick_final
from .featurize import build_featurizer
from .learners import algorithm_name, learners_for
from .search import Trial, choose_validation, fit_threads, native_estimator, read_trial_log, run_flaml
from .threshold import choose_threshold, cross_fitted_thresholds

__all__ = ["AutoMLResult", "LabelCodes", "run_search"]

logger = logging.getLogger(__name__)

RESERVE_SHARE = 0.05  # of the budget, kept for the test scores, the feature importance and writing the outputs


@dataclass
class AutoMLResult:
    """What a finished run hands back.

    What was tuned on what: the search chose hyperparameters on its own folds; the candidates
    were scored, and the final model chosen among them, on other folds (the scoring folds); the
    decision threshold was chosen on the final model's out-of-fold predictions.

    Attributes:
        score: The primary metric of the final model's out-of-fold predictions on the scoring
            folds; the final model was chosen on them, so it is slightly optimistic (for a
            holdout: the search's best trial on the holdout).
        metrics: Every metric of the task on the same predictions; for two classes the label
            metrics (accuracy, precision, recall) use, for each row, the threshold chosen on
            the other scoring folds, never the one chosen with that row.
        test_metrics: The same metrics on the test rows, which no stage saw (empty without test data).
        cuts: What was left out, to keep the budget or a vote small enough to serve fast.
        importance: Permutation importance of each raw column for the final model, on (a sample
            of) the training rows; None when no time was left for it.
    """

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
    test_metrics: Dict[str, float] = field(default_factory=dict)
    cuts: List[str] = field(default_factory=list)
    importance: Optional[pd.DataFrame] = None


class LabelCodes:
    """A classification label's classes (sorted original values) and their codes 0 .. k-1."""

    def __init__(self, label: pd.Series):
        self.name = str(label.name)
        try:
            self.classes = sorted(pd.unique(label).tolist())
        except TypeError:
            raise DataError(f"label column '{self.name}' mixes numbers and text; make it one type") from None
        self._codes = {c: i for i, c in enumerate(self.classes)}

    def encode(self, values: pd.Series, origin: str = "training data") -> np.ndarray:
        codes = values.map(self._codes)
        if codes.isna().any():
            row = int(codes.isna().to_numpy().nonzero()[0][0])
            raise DataError(f"{origin}: label column '{self.name}' row {row}: class {values.iloc[row]!r} "
                            f"is not in the training data (classes: {self.classes})")
        return codes.to_numpy(dtype=int)

    def require_rows(self, y: np.ndarray, rows: int, reason: str) -> None:
        """Raise a DataError naming the label and the class when a class has fewer than ``rows`` rows."""
        counts = np.bincount(y, minlength=len(self.classes))
        if counts.min() < rows:
            smallest = self.classes[int(np.argmin(counts))]
            raise DataError(f"label column '{self.name}' has {counts.min()} rows of class {smallest!r}, "
                            f"fewer than the {rows} {reason}")

    @property
    def codes(self) -> List[int]:
        return list(range(len(self.classes)))


def run_search(
    features: pd.DataFrame,
    label: pd.Series,
    settings: AutoMLSettings,
    workers: int,
    log_file: Path,
    weight: Optional[pd.Series] = None,
    validation: Optional[Tuple[pd.DataFrame, pd.Series]] = None,
    on_stage: Callable[[str], None] = lambda stage: None,
    budget: Optional[Budget] = None,
    test: Optional[Tuple[pd.DataFrame, pd.Series]] = None,
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
        budget: The run's clock (default: ``experiment_timeout_minutes`` from now).
        test: Test rows (features, label) to score the final model on once; without them,
            ``settings.test_size`` takes a share of the rows.

    Raises:
        DataError: the data cannot be featurized or trained on.
    """
    report = on_stage

    def on_stage(text: str) -> None:
        logger.debug(text)  # into AutoMLConfig's debug_log
        report(text)

    budget = budget or Budget(settings.experiment_timeout_minutes * 60)
    reserve = RESERVE_SHARE * budget.seconds
    task, primary, seed = settings.task, settings.primary_metric, settings.seed
    if test is None and settings.test_size:
        features, label, weight, test = _split_test(features, label, weight, settings)
    schema = feature_schema(features)
    featurizer = build_featurizer(schema, settings.featurization)
    learners = learners_for(settings)
    method, folds, holdout_share = choose_validation(settings, len(features), validation is not None)
    labels = LabelCodes(label) if task == "classification" else None
    y = labels.encode(label) if labels else label.to_numpy()
    codes = labels.codes if labels else None
    if labels:
        labels.require_rows(y, folds or 2, "cross-validation folds" if folds else "needed to train and validate")
    w = None if weight is None else weight.to_numpy(dtype=float)

    started = time.monotonic()
    try:
        Xf = featurizer.fit_transform(features)
    except ValueError as exc:
        raise DataError(f"featurization failed: {exc}") from None
    if settings.featurization == "off" and not np.isfinite(np.asarray(Xf, dtype=float)).all():
        raise DataError("featurization='off' needs complete numeric data; some values are missing or not numbers")

    featurize_seconds = time.monotonic() - started  # paid again by every fit of a candidate's pipeline
    n_fit = len(features) * (folds - 1) // folds if folds else len(features)
    cells = n_fit * Xf.shape[1]  # of one fit, which sets the boosted learners' threads (`fit_threads`)

    def fit_seconds(estimator, rows: int) -> float:
        """A pipeline fit on ``rows`` rows, with a margin for the timing noise of a busy machine."""
        model = probe_fit_seconds(estimator, Xf, y, rows, seed)
        return SAFETY * (model + featurize_seconds * rows / len(features))

    fixed = fixed_candidates(settings, learners, workers, cells) if method == "cv" else {}
    fixed_costs = {name: fit_seconds(est, n_fit) for name, est in fixed.items()}
    forest_cost = fit_seconds(_default_forest(task, workers, seed), len(features))
    if method == "cv":
        per_learner = max([forest_cost, *fixed_costs.values()])
        # FLAML itself refits its best configuration on all rows after a CV search (it always does)
        after_search = (sum(fixed_costs.values()) + per_learner * len(learners)) * (folds + 1) + forest_cost
    else:
        after_search = forest_cost  # the refit of the best model
    seconds = search_seconds(budget, after_search + reserve)

    splitter = scoring_splitter = None
    fit_args = {}
    if method == "cv":
        splitter, scoring_splitter = cv_splitters(task, folds, seed)
        fit_args["splitter"] = splitter
    elif validation is not None:
        y_val = labels.encode(validation[1], "validation data") if labels else validation[1].to_numpy()
        fit_args["holdout"] = (featurizer.transform(validation[0]), y_val)
    else:
        fit_args["split_ratio"] = holdout_share
    on_stage(f"searching {', '.join(learners)} for {seconds:.0f} s "
             f"({method}{f', {folds} folds' if folds else ''}, {workers} workers)")
    automl = run_flaml(Xf, y, settings, learners, seconds, workers, log_file, codes, weight=w, cells=cells, **fit_args)
    trials = read_trial_log(log_file, primary)

    sign = 1 if metrics.GREATER_IS_BETTER[primary] else -1
    best_trial: Dict[str, Trial] = {}
    for trial in trials:
        if trial.learner not in best_trial or sign * trial.score > sign * best_trial[trial.learner].score:
            best_trial[trial.learner] = trial
    best_score = {lrn: t.score for lrn, t in best_trial.items()}
    tried = sorted(best_score, key=lambda lrn: -sign * best_score[lrn])
    natives = {algorithm_name(lrn): with_forest_size(native_estimator(automl, lrn, workers, seed, cells), lrn) for lrn in tried}
    searched_costs = {
        algorithm_name(lrn): SAFETY * trial_fit_seconds(
            t.duration_seconds, folds, t.sample_size, t.config.get("n_estimators"), n_fit,
            natives[algorithm_name(lrn)].get_params().get("n_estimators"))
        for lrn, t in best_trial.items()
    }

    # A searched forest raised to FOREST_TREES trees is timed as the fixed candidates are: scaling its
    # trial (often a few trees) by the tree count scales each fit's fixed cost with it (on 299 rows,
    # six times the measured fit, which cut the scoring folds from 10 to 3).
    probed: Dict[str, float] = {}
    for lrn, trial in best_trial.items() if method == "cv" else ():
        name = algorithm_name(lrn)
        if lrn in FOREST_LEARNERS and natives[name].get_params()["n_estimators"] > (trial.config.get("n_estimators") or 0):
            probed[name] = fit_seconds(natives[name], n_fit)

    def native_fit_seconds(name: str, rows: int) -> float:
        """From the search's own timing of the configuration (no probe: probing every learner again
        costs more than the estimate is worth), or the probe of a raised forest."""
        if name in probed:
            return probed[name] * rows / n_fit
        return searched_costs[name] * rows / n_fit + SAFETY * featurize_seconds * rows / len(features)

    cuts: List[str] = []
    candidates: List[Candidate] = []
    weights: Dict[str, float] = {}
    if method == "cv":
        # Priority when time is short: the search's best, the fixed configurations, the other learners.
        ranked = list(natives)
        pool = {**{name: natives[name] for name in ranked[:1]}, **fixed, **{name: natives[name] for name in ranked[1:]}}
        costs = {name: fixed_costs[name] if name in fixed_costs else native_fit_seconds(name, n_fit) for name in pool}
        plan = plan_scoring(costs, {n: e.get_params().get("n_estimators") for n, e in pool.items()}, folds,
                            budget.left() - reserve)
        cuts.extend(plan.cuts)
        if plan.folds != folds:
            scoring_splitter = cv_splitters(task, plan.folds, seed)[1]
        scoring_folds = list(scoring_splitter.split(np.zeros(len(y)), y))
        short = "; time is short: each after the first is scored on one fold, the best of them on the rest"
        on_stage(f"scoring {len(plan.kept + plan.later)} candidates out of fold ({plan.folds} folds"
                 f"{short if plan.later else ''})")
        pipelines = {}
        for name in plan.kept + plan.later:
            estimator = pool[name]
            if name in plan.sizes:
                estimator = clone(estimator).set_params(n_estimators=plan.sizes[name])
            pipelines[name] = Pipeline([("featurize", clone(featurizer)), ("model", clone(estimator))])
        candidates, more_cuts = score_candidates(pipelines, costs, plan.later, features, y, scoring_folds, task,
                                                 codes, w, primary, budget.deadline - reserve)
        cuts.extend(more_cuts)
        if candidates:
            best, weights, candidates, more_cuts = pick_final(
                candidates, y, settings, codes, w, scoring_splitter, on_stage, lambda: budget.left() - reserve)
            cuts.extend(more_cuts)
    if not candidates and tried:
        # A holdout gives no out-of-fold predictions to blend (nor does a CV run out of time): FLAML's best.
        name = algorithm_name(tried[0])
        estimator = _affordable(natives[name], native_fit_seconds(name, len(features)), budget.left() - reserve, cuts)
        best = Candidate(name, estimator, best_score[tried[0]], np.empty(0))
        candidates = [best]
    elif not candidates:
        # Not one trial finished (big data, a short budget): a model with the library's defaults, unscored.
        name, default = _default_model(task, learners, workers, seed, cells)
        cuts.append(f"no search trial finished in the budget: {name} with default settings, not validated")
        estimator = _affordable(default, fit_seconds(default, len(features)), budget.left() - reserve, cuts)
        best = Candidate(name, estimator, float("nan"), np.empty(0))
        candidates = [best]

    for cut in cuts:
        logger.warning("AutoML cut: %s", cut)  # each says why: the budget, or a vote too large to serve
    on_stage(f"refitting {best.name} on all {len(features)} rows")
    model, threshold, row_thresholds = _final_model(best, featurizer, labels, y, w, scoring_splitter)
    fit_params = {"model__sample_weight": w} if w is not None else {}
    model.fit(features, label.to_numpy(), **fit_params)
    if best.oof.size:
        scores = metrics.all_scores(task, y, best.oof, codes, w, row_thresholds)
        oof_frame = _oof_frame(best.oof, y, labels, row_thresholds)
    else:
        scores = {} if np.isnan(best.score) else {primary: best.score}
        oof_frame = pd.DataFrame()
    test_scores = _test_scores(model, test, labels, task, threshold) if test is not None else {}
    on_stage("feature importance of the final model")
    # at least a second: one pass over the columns of a small sample is cheap, and worth the overrun
    importance = explain.importance_in_time(model, features, label.to_numpy(), primary,
                                            max(budget.left(), reserve, 1.0), seed)
    if importance is None:
        cuts.append("no feature importance (no time left)")
    logger.info("AutoML done in %.1f s of %.0f: %s %s=%.4f", time.monotonic() - budget.start, budget.seconds,
                best.name, primary, best.score)
    return AutoMLResult(
        model=model,
        algorithm=best.name,
        score=best.score,
        metrics=scores,
        trials=trials,
        candidates=candidates,
        schema=schema,
        classes=labels.classes if labels else None,
        validation=f"{folds}-fold CV" if method == "cv" else "holdout",
        workers=workers,
        oof=oof_frame,
        ensemble_weights=weights,
        threshold=threshold,
        test_metrics=test_scores,
        cuts=cuts,
        importance=importance,
    )


def _default_forest(task: str, workers: int, seed: int):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    from .candidates import FOREST_TREES

    cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
    return cls(n_estimators=FOREST_TREES, n_jobs=workers, random_state=seed)


def _default_model(task: str, learners: List[str], workers: int, seed: int, cells: int):
    """LightGBM with its defaults, or a 100-tree random forest when LightGBM is not allowed.

    Raises:
        DataError: neither is allowed.
    """
    from lightgbm import LGBMClassifier, LGBMRegressor
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    classification = task == "classification"
    if "lgbm" in learners:
        cls = LGBMClassifier if classification else LGBMRegressor
        return "LightGBM", cls(n_jobs=fit_threads("lgbm", workers, cells), random_state=seed, verbose=-1)
    if "rf" in learners:
        cls = RandomForestClassifier if classification else RandomForestRegressor
        return "RandomForest", cls(n_estimators=100, n_jobs=workers, random_state=seed)
    raise DataError("AutoML finished no trial within the budget; raise experiment_timeout_minutes")


def _affordable(estimator, fit_seconds: float, seconds: float, cuts: List[str]):
    """``estimator`` with its trees or rounds cut so that one fit takes about ``seconds``."""
    size = estimator.get_params().get("n_estimators")
    if fit_seconds <= seconds or size is None:
        return estimator
    smaller = max(int(size * max(seconds, 0) / fit_seconds), 10)
    if smaller >= size:
        return estimator
    cuts.append(f"final model fitted with {smaller} trees or rounds instead of {size}")
    return clone(estimator).set_params(n_estimators=smaller)


def _final_model(best: Candidate, featurizer, labels: Optional[LabelCodes], y, w, scoring_splitter):
    """The unfitted final pipeline, its decision threshold and each row's cross-fitted threshold."""
    from sklearn.ensemble import VotingClassifier

    estimator = best.estimator
    if labels is not None and type(estimator).__module__.startswith("xgboost") and labels.classes != labels.codes:
        # XGBoost takes only labels 0 .. k-1; a one-member vote encodes the original ones for it.
        estimator = VotingClassifier([(best.name, estimator)], voting="soft")
    model = Pipeline([("featurize", featurizer), ("model", estimator)])
    if labels is None or len(labels.classes) != 2 or not best.oof.size:
        return model, None, None
    from sklearn.model_selection import FixedThresholdClassifier

    threshold = choose_threshold(y, best.oof[:, 1], labels.codes, w)
    folds = list(scoring_splitter.split(np.zeros(len(y)), y))
    rows = cross_fitted_thresholds(y, best.oof[:, 1], labels.codes, folds, w)
    return FixedThresholdClassifier(model, threshold=threshold, response_method="predict_proba"), threshold, rows


def _split_test(features, label, weight, settings: AutoMLSettings):
    """Take ``test_size`` of the rows out (stratified for classification, seeded)."""
    from sklearn.model_selection import train_test_split

    stratify = label if settings.task == "classification" else None
    index = np.arange(len(features))
    try:
        train, test = train_test_split(index, test_size=settings.test_size, random_state=settings.seed, stratify=stratify)
    except ValueError as exc:
        raise DataError(f"label column '{label.name}': cannot take test_size={settings.test_size} out ({exc})") from None
    train, test = np.sort(train), np.sort(test)
    take = lambda part, rows: None if part is None else part.iloc[rows]  # noqa: E731
    return take(features, train), take(label, train), take(weight, train), (features.iloc[test], label.iloc[test])


def _test_scores(model, test, labels: Optional[LabelCodes], task: str, threshold) -> Dict[str, float]:
    """Every metric of the final model on the test rows (labels and threshold as it predicts)."""
    X, truth = test
    if labels is None:
        return metrics.all_scores(task, truth.to_numpy(), model.predict(X))
    y = labels.encode(truth, "test data")
    return metrics.all_scores(task, y, model.predict_proba(X), labels.codes, None, threshold)


def _oof_frame(oof: np.ndarray, y, labels: Optional[LabelCodes], thresholds=None) -> pd.DataFrame:
    """Out-of-fold predictions with the truth, in the original class values, for ROC curves and confusion matrices."""
    if labels is None:
        return pd.DataFrame({"y_true": y, "y_pred": oof})
    classes = np.asarray(labels.classes, dtype=object)
    frame = pd.DataFrame(oof, columns=[f"proba_{c}" for c in labels.classes])
    frame.insert(0, "y_pred", classes[metrics.predicted_labels(oof, labels.codes, thresholds)])
    frame.insert(0, "y_true", classes[y])
    return frame
