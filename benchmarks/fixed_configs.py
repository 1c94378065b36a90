"""Held-out quality of single fixed configurations, on the model-quality benchmark's outer folds.

The local engine blends the configurations FLAML's search picks with a few fixed ones
(`fixed_candidates`). This measures those fixed ones alone, beside the libraries' defaults
and a few neighbours, with the same protocol as `model_quality.py` (repeated stratified
outer CV, 5 folds x 2 repeats, seed 42; featurizer included), so a change to the fixed
set can be judged without running the whole engine.

    python benchmarks/fixed_configs.py --data PATH [--seed 7 --repeats 4]
"""

from __future__ import annotations

import argparse
import os

import numpy as np
from lightgbm import LGBMClassifier
from sklearn.base import clone
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import Pipeline

from amlpipe.backends.local.candidates import FOREST_TREES, fixed_candidates
from amlpipe.backends.local.learners import learners_for
from amlpipe.backends.local.featurize import build_featurizer
from amlpipe.data import LABEL, feature_schema, load_heart_failure
from amlpipe.settings import AutoMLSettings


def configurations(workers: int) -> dict:
    settings = AutoMLSettings()
    fixed = fixed_candidates(settings, learners_for(settings), workers)
    return {
        **{f"engine: {name}": est for name, est in fixed.items()},
        "RandomForest, scikit-learn defaults": RandomForestClassifier(FOREST_TREES, n_jobs=workers, random_state=42),
        "RandomForest, min_samples_leaf=10": RandomForestClassifier(
            FOREST_TREES, min_samples_leaf=10, n_jobs=workers, random_state=42),
        "ExtraTrees, scikit-learn defaults": ExtraTreesClassifier(FOREST_TREES, n_jobs=workers, random_state=42),
        "LightGBM, library defaults": LGBMClassifier(n_jobs=workers, random_state=42, verbose=-1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("AMLPIPE_DATA"), help="the heart-failure CSV")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    df = load_heart_failure(args.data)
    X, y = df.drop(columns=[LABEL]), df[LABEL]
    featurizer = build_featurizer(feature_schema(X))
    outer = RepeatedStratifiedKFold(n_splits=args.folds, n_repeats=args.repeats, random_state=args.seed)
    splits = list(outer.split(X, y))
    print(f"held-out AUC over {len(splits)} outer folds ({args.folds} x {args.repeats}, seed {args.seed}):")
    print("| configuration | mean AUC | std | min |")
    print("|---|---|---|---|")
    for name, estimator in configurations(args.workers).items():
        scores = []
        for train, test in splits:
            model = Pipeline([("featurize", clone(featurizer)), ("model", clone(estimator))])
            model.fit(X.iloc[train], y.iloc[train])
            scores.append(roc_auc_score(y.iloc[test], model.predict_proba(X.iloc[test])[:, 1]))
        print(f"| {name} | {np.mean(scores):.4f} | {np.std(scores, ddof=1):.4f} | {np.min(scores):.4f} |", flush=True)


if __name__ == "__main__":
    main()
