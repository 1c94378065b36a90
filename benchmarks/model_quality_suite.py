"""Held-out quality on many datasets: the local engine against AutoGluon and a random forest.

Datasets: ones that ship inside pip packages (scikit-learn's), ones generated with a fixed seed
(numeric, text categories, missing values, imbalanced, two to four classes), and the
heart-failure CSV; 150 to 20,000 rows. They are split once, by hand, into two halves:

- ``dev``: the development half, on which engine choices may be made;
- ``confirm``: the confirmation half, run once per engine change and reported as such; no
  engine choice is made on it.

Protocol: 3 stratified outer folds per dataset (seed 0). In each, the same training part goes
to the local engine (`run_search`, exactly what `Experiment.submit` runs, text labels as they
are), to AutoGluon (``TabularPredictor(presets="medium_quality", time_limit=budget)``) and to a
500-tree random forest (on one-hot encoded, median-imputed data); each is scored on the held-out
part with AUC_weighted (the AUC for two classes). A fit that raises is a failure and scored as
missing. Wall time of each fit is kept against the budget (``budget x 1.1 + 10 s``).

AutoGluon is a benchmark-only dependency that needs pandas < 3, so this runs in a separate
environment (see RESULTS.md):

    python -m venv /tmp/venv-bench
    /tmp/venv-bench/bin/pip install -r benchmarks/model_quality_suite.requirements.txt
    /tmp/venv-bench/bin/pip install --no-deps -e .
    AMLPIPE_DATA=... nice -n 10 /tmp/venv-bench/bin/python benchmarks/model_quality_suite.py --half confirm \\
        --budget-seconds 30 --json confirm.jsonl

Without AutoGluon installed its column is reported as missing, not as a failure of the others.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, Tuple

import numpy as np
import pandas as pd

Dataset = Tuple[pd.DataFrame, pd.Series]


def _sklearn(name: str) -> Dataset:
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")(as_frame=True)
    label = bunch.target.map(dict(enumerate(bunch.target_names))) if name != "digits" else bunch.target
    return bunch.data, label.rename("label")


def _generated(rows: int, columns: int, classes: int = 2, categories: int = 0, missing: float = 0.0,
               positive_share: float = None, seed: int = 0, text: bool = True) -> Dataset:
    from sklearn.datasets import make_classification

    weights = [1 - positive_share, positive_share] if positive_share else None
    X, y = make_classification(n_samples=rows, n_features=columns, n_informative=max(3, columns // 2),
                               n_redundant=columns // 5, n_classes=classes, weights=weights, flip_y=0.05,
                               class_sep=0.8, random_state=seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(columns)])
    for i in range(categories):
        frame[f"x{i}"] = pd.cut(frame[f"x{i}"], 6, labels=list("abcdef")).astype(str)
    if missing:
        frame = frame.mask(np.random.default_rng(seed).random(frame.shape) < missing)
    names = np.array(["no", "yes"] if classes == 2 else [f"class_{c}" for c in "ABCDEFGH"[:classes]])
    return frame, pd.Series(names[y] if text else y, name="label")


def _moons() -> Dataset:
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=600, noise=0.35, random_state=0)
    extra = np.random.default_rng(0).normal(size=(600, 6))  # noise columns
    return pd.DataFrame(np.hstack([X, extra]), columns=[f"x{i}" for i in range(8)]), pd.Series(y, name="label")


def _hastie() -> Dataset:
    from sklearn.datasets import make_hastie_10_2

    X, y = make_hastie_10_2(n_samples=3000, random_state=0)
    return pd.DataFrame(X, columns=[f"x{i}" for i in range(10)]), pd.Series(y > 0, name="label")


def _heart_failure() -> Dataset:
    from amlpipe.data import LABEL, load_heart_failure

    df = load_heart_failure()
    return df.drop(columns=[LABEL]), df[LABEL]


DATASETS: Dict[str, Tuple[str, Callable[[], Dataset]]] = {
    # development half
    "iris": ("dev", lambda: _sklearn("iris")),
    "breast_cancer": ("dev", lambda: _sklearn("breast_cancer")),
    "moons_noisy": ("dev", _moons),
    "gen_cat_missing_1000": ("dev", lambda: _generated(1000, 20, categories=6, missing=0.05, seed=1)),
    "gen_4class_3000": ("dev", lambda: _generated(3000, 25, classes=4, categories=4, missing=0.02, seed=2)),
    "heart_failure": ("dev", _heart_failure),
    # added in round 6: the half had nothing over 3,000 rows, where the confirmation half lost most
    "gen_imbalanced_12000": ("dev", lambda: _generated(12000, 40, categories=10, missing=0.05,
                                                       positive_share=0.15, seed=6)),
    # confirmation half
    "wine": ("confirm", lambda: _sklearn("wine")),
    "digits": ("confirm", lambda: _sklearn("digits")),
    "hastie_bool": ("confirm", _hastie),
    "gen_small_200": ("confirm", lambda: _generated(200, 12, categories=3, missing=0.1, seed=3)),
    "gen_3class_int_1500": ("confirm", lambda: _generated(1500, 15, classes=3, seed=4, text=False)),
    "gen_imbalanced_20000": ("confirm", lambda: _generated(20000, 30, categories=8, missing=0.05,
                                                          positive_share=0.1, seed=5)),
}


def auc_weighted(truth: pd.Series, proba: np.ndarray, classes) -> float:
    from amlpipe import metrics

    return metrics.score("AUC_weighted", np.asarray(truth), proba, list(classes))


def fit_engine(X, y, Xte, budget: float, seed: int):
    from amlpipe.backends.local.automl import run_search
    from amlpipe.settings import AutoMLSettings

    settings = AutoMLSettings(label_column_name=str(y.name), experiment_timeout_minutes=budget / 60, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        result = run_search(X, y, settings, min(2, os.cpu_count() or 1), Path(tmp) / "trials.jsonl")
    return result.model.predict_proba(Xte), list(result.model.classes_), result.algorithm


def fit_autogluon(X, y, Xte, budget: float, seed: int):
    from autogluon.tabular import TabularPredictor

    folder = tempfile.mkdtemp(prefix="ag-")
    try:
        predictor = TabularPredictor(label="label", eval_metric="roc_auc" if y.nunique() == 2 else "log_loss",
                                     path=folder, verbosity=0)
        predictor.fit(X.assign(label=y.to_numpy()), presets="medium_quality", time_limit=budget)
        proba = predictor.predict_proba(Xte)
        return proba.to_numpy(), list(proba.columns), predictor.model_best
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fit_forest(X, y, Xte, budget: float, seed: int):
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    numbers = [c for c in X.columns if c not in text]
    prepare = make_column_transformer(
        (SimpleImputer(strategy="median"), numbers),
        (make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), text),
    )
    model = make_pipeline(prepare, RandomForestClassifier(500, n_jobs=2, random_state=seed)).fit(X, y)
    return model.predict_proba(Xte), list(model.classes_), "RandomForest500"


ENGINES = {"engine": fit_engine, "autogluon": fit_autogluon, "random_forest_500": fit_forest}


def main() -> None:
    from sklearn.model_selection import StratifiedKFold

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--half", choices=["dev", "confirm", "all"], default="dev")
    parser.add_argument("--datasets", nargs="*", help="only these (default: every one of the half)")
    parser.add_argument("--budget-seconds", type=float, default=30)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--engines", nargs="*", default=list(ENGINES))
    parser.add_argument("--json", metavar="PATH", help="append one JSON line per fit here")
    args = parser.parse_args()

    names = args.datasets or [n for n, (half, _) in DATASETS.items() if args.half in ("all", half)]
    rows = []
    for name in names:
        half, load = DATASETS[name]
        X, y = load()
        outer = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=0)
        for fold, (train, test) in enumerate(outer.split(X, y)):
            for engine in args.engines:
                started = time.monotonic()
                row = {"dataset": name, "half": half, "rows": len(X), "classes": int(y.nunique()), "fold": fold,
                       "engine": engine, "budget_s": args.budget_seconds}
                try:
                    proba, classes, model = ENGINES[engine](X.iloc[train], y.iloc[train], X.iloc[test],
                                                            args.budget_seconds, fold)
                    row.update(auc=auc_weighted(y.iloc[test], proba, classes), model=str(model), error=None)
                except ImportError as exc:
                    row.update(auc=None, model=None, error=f"not installed: {exc}", missing=True)
                except Exception as exc:  # noqa: BLE001 - a benchmark records every failure and goes on
                    row.update(auc=None, model=None, error=f"{type(exc).__name__}: {exc}"[:300])
                row["wall_s"] = round(time.monotonic() - started, 1)
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.json:
                    with open(args.json, "a") as fh:
                        fh.write(json.dumps(row) + "\n")
    summarize(pd.DataFrame(rows))


def summarize(frame: pd.DataFrame) -> None:
    """Per dataset mean AUC per engine, mean rank, failures, wall time against the budget."""
    table = frame.pivot_table(index="dataset", columns="engine", values="auc", aggfunc="mean")
    ranks = table.rank(axis=1, ascending=False)
    print("\n| dataset | " + " | ".join(table.columns) + " |")
    print("|---|" + "---|" * len(table.columns))
    for dataset, row in table.iterrows():
        print(f"| {dataset} | " + " | ".join("" if pd.isna(v) else f"{v:.4f}" for v in row) + " |")
    print("| **mean rank** | " + " | ".join(f"{ranks[c].mean():.2f}" for c in table.columns) + " |")
    missing = frame["missing"].fillna(False).astype(bool) if "missing" in frame else False
    failures = frame[frame.error.notna() & ~missing]
    print(f"\nfailures: {len(failures)}" + "".join(f"\n  {r.dataset} fold {r.fold} {r.engine}: {r.error}"
                                                    for r in failures.itertuples()))
    limit = frame.budget_s * 1.1 + 10
    for engine, part in frame.groupby("engine"):
        over = part[part.wall_s > limit[part.index]]
        print(f"{engine}: wall time mean {part.wall_s.mean():.1f} s, max {part.wall_s.max():.1f} s, "
              f"over budget x 1.1 + 10 s in {len(over)}/{len(part)} fits")


if __name__ == "__main__":
    main()
