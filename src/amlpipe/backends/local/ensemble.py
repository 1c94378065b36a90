"""The final model from the scored candidates: a voting ensemble, a stack ensemble, or one model.

Azure AutoML ends with a VotingEnsemble and a StackEnsemble. Here the vote gives equal weights
to the candidates tied with the best (`tied_with_best`); the stack (a logistic or linear model
over every candidate's out-of-fold predictions) replaces it only when it leads by more than
one standard error. Both are judged on the candidates' out-of-fold predictions, and only
when their refits fit in the time left.
"""

from __future__ import annotations

import logging
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

from ... import metrics
from .budget import affordable_members
from .candidates import Candidate, fold_scores, refit_seconds, score

logger = logging.getLogger(__name__)


def tied_with_best(candidates: Sequence[Candidate], y, folds, primary: str, task: str, classes, weight) -> List[Candidate]:
    """The candidates whose out-of-fold score is within one standard error of the best one's.

    The standard error is that of the best candidate's per-fold scores. On a few hundred rows
    the candidates inside it cannot be told apart: ranking or weighting them by these scores
    (as greedy ensemble selection does) fits the noise of the folds.
    """
    sign = 1 if metrics.GREATER_IS_BETTER[primary] else -1
    best = max(candidates, key=lambda c: sign * c.score)
    per_fold = fold_scores(best.oof, y, folds, primary, task, classes, weight)
    margin = per_fold.std(ddof=1) / np.sqrt(len(per_fold))
    return [c for c in candidates if sign * (best.score - c.score) <= margin]


# An endpoint's time per row is about the trees it runs (ONNX Runtime's profile in benchmarks/RESULTS.md,
# "Serving"): at this many the worked example's 10,000-row batch keeps 50,000 rows/s on two cores.
MAX_VOTE_TREES = 600


def serving_trees(estimator, n_classes: int) -> int:
    """The trees a prediction runs: a forest's, or a boosted model's rounds times its classes beyond two."""
    size = (estimator.get_params() if hasattr(estimator, "get_params") else {}).get("n_estimators") or 0
    boosted = type(estimator).__name__.startswith(("LGBM", "XGB"))
    return size * (n_classes if boosted and n_classes > 2 else 1)


def servable_members(ranked: Sequence[Candidate], n_classes: int) -> List[Candidate]:
    """The vote's members, best first, that keep its trees within `MAX_VOTE_TREES` (the best always).

    A member too large is skipped and smaller ones after it may still join. The bound comes from
    the endpoint's target, not from the quality suite; on the suite's development half it did not
    move the mean AUC (benchmarks/RESULTS.md, round 5). Models without ``n_estimators`` count as
    no trees (scikit-learn's HistGradientBoosting, which has ``max_iter``, among them).
    """
    kept, trees = [], 0
    for candidate in ranked:
        size = serving_trees(candidate.estimator, n_classes)
        if not kept or trees + size <= MAX_VOTE_TREES:
            kept.append(candidate)
            trees += size
    return kept


def pick_final(candidates, y, settings, classes, w, splitter, on_stage: Callable[[str], None],
               seconds_left: Callable[[], float] = lambda: float("inf"),
               ) -> Tuple[Candidate, Dict[str, float], List[Candidate], List[str]]:
    """The final model, every option considered, and what was left out for time.

    The voting ensemble of the candidates tied with the best (the best single model when no
    other is tied with it or voting is off), keeping the members whose refits fit in the time
    left and whose trees an endpoint can serve fast (`servable_members`); the stack ensemble
    replaces it only by leading it by more than one standard error, and is built only when
    refitting it (each member once per fold and once on all rows) fits.

    Returns:
        (final, its ensemble weights, options, cuts).
    """
    from sklearn.ensemble import StackingClassifier, StackingRegressor, VotingClassifier, VotingRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.model_selection import cross_val_predict

    task, primary = settings.task, settings.primary_metric
    sign = 1 if metrics.GREATER_IS_BETTER[primary] else -1
    folds = list(splitter.split(np.zeros(len(y)), y))
    k = len(folds)
    cuts: List[str] = []
    options = list(candidates)
    final = max(candidates, key=lambda c: sign * c.score)
    tied = tied_with_best(candidates, y, folds, primary, task, classes, w)
    if settings.enable_voting_ensemble and len(tied) > 1:
        ranked = sorted(tied, key=lambda c: -sign * c.score)
        names, dropped = affordable_members([(c.name, refit_seconds(c, k)) for c in ranked], seconds_left())
        if dropped:
            cuts.append(f"voting ensemble without {', '.join(dropped)} (no time to refit them)")
        tied = [c for c in ranked if c.name in names] or ranked[:1]
        servable = servable_members(tied, len(classes or ()))
        if len(servable) < len(tied):
            cuts.append(f"voting ensemble without {', '.join(c.name for c in tied if c not in servable)} "
                        f"(more than {MAX_VOTE_TREES} trees to serve)")
        tied = servable
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
        final = Candidate("VotingEnsemble", voter, score(primary, task, y, blend, classes, w), blend, weights,
                          sum(c.fit_seconds for c in tied))
        options.append(final)
    if settings.enable_stack_ensemble and settings.enable_onnx_compatible_models:
        logger.warning("no stack ensemble: enable_onnx_compatible_models is set (as on Azure)")
    elif settings.enable_stack_ensemble and len(candidates) > 1:
        stack_refit = sum(c.fit_seconds for c in candidates) * (k + 1)
        if stack_refit > seconds_left():
            cuts.append(f"no stack ensemble (refitting it would take about {stack_refit:.0f} s)")
        else:
            on_stage("building the stack ensemble")
            members = [(c.name, c.estimator) for c in candidates]
            # The stacker is scored by cross-validating it on the members' out-of-fold predictions.
            if task == "classification":
                level1 = np.column_stack([c.oof[:, 1:] for c in candidates])
                meta = LogisticRegression(max_iter=1000)
                stack_oof = cross_val_predict(meta, level1, y, cv=folds, method="predict_proba")
                stacker = StackingClassifier(members, final_estimator=meta, cv=splitter, stack_method="predict_proba")
            else:
                level1 = np.column_stack([c.oof for c in candidates])
                meta = LinearRegression(positive=True)
                stack_oof = cross_val_predict(meta, level1, y, cv=folds)
                stacker = StackingRegressor(members, final_estimator=meta, cv=splitter)
            stack = Candidate("StackEnsemble", stacker, score(primary, task, y, stack_oof, classes, w), stack_oof,
                              fit_seconds=stack_refit / k)
            options.append(stack)
            lead = sign * (fold_scores(stack.oof, y, folds, primary, task, classes, w)
                           - fold_scores(final.oof, y, folds, primary, task, classes, w))
            if lead.mean() > lead.std(ddof=1) / np.sqrt(len(lead)):
                final = stack
    return final, dict(final.members), options, cuts
