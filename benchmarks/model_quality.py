"""Held-out quality of the local AutoML against two fixed baselines, on the same outer folds.

Protocol: repeated stratified outer CV (5 folds x 2 repeats, seed 42) on the real
heart-failure data. In each outer fold the local AutoML engine (FLAML search plus
ensembles, exactly what `Experiment.submit` runs) searches on the training part with the
given budget; the returned pipeline is scored on the held-out part. Side by side, in the
same run and folds: a 500-tree random forest, and a logistic regression on
(serum_creatinine, ejection_fraction, time).

    python benchmarks/model_quality.py --data PATH --budget-seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from amlpipe.backends.local.automl import run_search
from amlpipe.backends.local.search import worker_count
from amlpipe.data import LABEL, load_heart_failure
from amlpipe.settings import AutoMLSettings

THREE_FEATURES = ["serum_creatinine", "ejection_fraction", "time"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("AMLPIPE_DATA"), help="the heart-failure CSV")
    parser.add_argument("--budget-seconds", type=float, default=60, help="AutoML budget per outer fold")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", metavar="PATH", help="also write the per-fold results here")
    args = parser.parse_args()

    df = load_heart_failure(args.data)
    X, y = df.drop(columns=[LABEL]), df[LABEL]
    settings = AutoMLSettings(experiment_timeout_minutes=args.budget_seconds / 60)
    workers = worker_count(settings, 3)
    outer = RepeatedStratifiedKFold(n_splits=args.folds, n_repeats=args.repeats, random_state=args.seed)
    rows = []
    for i, (train, test) in enumerate(outer.split(X, y)):
        Xtr, Xte, ytr, yte = X.iloc[train], X.iloc[test], y.iloc[train], y.iloc[test]
        started = time.monotonic()
        with tempfile.TemporaryDirectory() as tmp:
            result = run_search(Xtr, ytr, settings, workers, Path(tmp) / "trials.jsonl")
        automl_seconds = time.monotonic() - started
        forest = RandomForestClassifier(n_estimators=500, n_jobs=workers, random_state=args.seed).fit(Xtr, ytr)
        logistic = make_pipeline(StandardScaler(), LogisticRegression()).fit(Xtr[THREE_FEATURES], ytr)
        row = {
            "fold": i,
            "automl": roc_auc_score(yte, result.model.predict_proba(Xte)[:, 1]),
            "automl_inner_cv": result.score,
            "automl_algorithm": result.algorithm,
            "automl_seconds": automl_seconds,
            "random_forest_500": roc_auc_score(yte, forest.predict_proba(Xte)[:, 1]),
            "logistic_3_features": roc_auc_score(yte, logistic.predict_proba(Xte[THREE_FEATURES])[:, 1]),
        }
        rows.append(row)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
    frame = pd.DataFrame(rows)
    print()
    print(f"held-out AUC over {len(frame)} outer folds ({args.folds} x {args.repeats}, seed {args.seed}), "
          f"AutoML budget {args.budget_seconds:g} s per fit, {workers} workers:")
    print("| model | mean AUC | std | min |")
    print("|---|---|---|---|")
    for name in ("automl", "random_forest_500", "logistic_3_features"):
        print(f"| {name} | {frame[name].mean():.4f} | {frame[name].std():.4f} | {frame[name].min():.4f} |")
    print(f"| (automl inner CV, optimistic) | {frame['automl_inner_cv'].mean():.4f} | | |")
    wins = int((frame["automl"] >= frame["random_forest_500"]).sum())
    print(f"\nAutoML >= random forest in {wins}/{len(frame)} folds; mean AutoML fit time "
          f"{frame['automl_seconds'].mean():.1f} s; algorithms: {frame['automl_algorithm'].value_counts().to_dict()}")
    if args.json:
        Path(args.json).write_text(frame.to_json(orient="records", indent=1))


if __name__ == "__main__":
    main()
