"""Is ``experiment_timeout_minutes`` kept? Wall time from submit to Completed, over data sizes and budgets.

Target (issue 10): submit -> Completed within ``budget x 1.1 + 10 s`` for budgets from 10 s to
20 min, on data from 100 rows to 100,000 rows x 100 columns. The data is generated with a fixed
seed (`sklearn.datasets.make_classification`, a third of the columns as text categories and 5% of
the values missing) and goes through the public API as a new user's would: ``connect("local")``,
``register_dataset(dataframe=..., schema="any")``, ``submit`` with a text label.

    nice -n 10 python benchmarks/budget.py --sizes 100x10 2000x20 --budgets 10 30
    nice -n 10 python benchmarks/budget.py --sizes 100000x100 --budgets 60 300 --json out.json

Each line printed is one run: rows, columns, budget, wall seconds, the limit, whether it was kept,
the final model and what the run cut to keep the budget.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def generated(rows: int, columns: int, seed: int = 0) -> pd.DataFrame:
    """A two-class problem with numeric and text columns, some values missing, and a Yes/No label."""
    from sklearn.datasets import make_classification

    informative = max(2, columns // 3)
    X, y = make_classification(n_samples=rows, n_features=columns, n_informative=informative,
                               n_redundant=min(columns - informative, informative // 2), random_state=seed)
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(columns)])
    for i in range(0, columns, 3):  # every third column as a category with five levels
        frame[f"x{i}"] = pd.cut(frame[f"x{i}"], 5, labels=["a", "b", "c", "d", "e"]).astype(str)
    frame = frame.mask(rng.random(frame.shape) < 0.05)
    frame["label"] = np.where(y == 1, "Yes", "No")
    return frame


def run_once(frame: pd.DataFrame, budget_seconds: float, workdir: Path) -> dict:
    import amlpipe
    from amlpipe import AutoMLSettings, DatasetSettings

    ws = amlpipe.connect("local", workspace_dir=workdir / "ws")
    dataset = ws.register_dataset(dataframe=frame, settings=DatasetSettings(name="generated", schema="any"))
    settings = AutoMLSettings(label_column_name="label", experiment_timeout_minutes=budget_seconds / 60,
                              path=str(workdir))
    experiment = ws.get_or_create_experiment("budget")
    started = time.monotonic()
    run = experiment.submit(settings, dataset, show_output=False)
    wall = time.monotonic() - started
    limit = budget_seconds * 1.1 + 10
    return {
        "rows": len(frame), "columns": frame.shape[1] - 1, "budget_s": budget_seconds, "wall_s": round(wall, 1),
        "limit_s": round(limit, 1), "kept": wall <= limit, "status": run.status,
        "model": run.tags.get("amlpipe.best_algorithm"), "validation": run.tags.get("amlpipe.validation"),
        "trials": int(run.get_metrics().get("trials", 0)), "cuts": run.tags.get("amlpipe.budget_cuts", ""),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["100x10", "2000x20", "20000x50", "100000x100"],
                        help="ROWSxCOLUMNS")
    parser.add_argument("--budgets", nargs="+", type=float, default=[10, 30, 60], help="seconds")
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        rows, columns = (int(v) for v in size.split("x"))
        frame = generated(rows, columns)
        for budget in args.budgets:
            with tempfile.TemporaryDirectory() as tmp:
                row = run_once(frame, budget, Path(tmp))
            results.append(row)
            print(json.dumps(row), flush=True)
    kept = sum(r["kept"] for r in results)
    print(f"\nbudget kept in {kept}/{len(results)} runs")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
