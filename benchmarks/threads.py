"""Seconds of one LightGBM or XGBoost fit on one thread and on two, by OpenMP's wait policy.

`amlpipe` sets ``OMP_WAIT_POLICY=PASSIVE`` on import (idle OpenMP threads sleep instead of
spinning on the CPUs the next fit needs); this measures what that costs a fit on two threads,
which sets `search.THREADED_CELLS`. OpenMP reads the policy when the library loads, so each
policy runs in a fresh process. Data: `make_classification`, seed 0; the best of two fits.

    python benchmarks/threads.py
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

SIZES = [(300, 12), (2000, 25), (8000, 90), (20000, 50), (50000, 90), (100000, 100)]


def measure() -> None:
    from lightgbm import LGBMClassifier
    from sklearn.datasets import make_classification
    from xgboost import XGBClassifier

    for rows, columns in SIZES:
        X, y = make_classification(rows, columns, random_state=0)
        for library in ("lightgbm", "xgboost"):
            for threads in (1, 2):
                if library == "lightgbm":
                    model = LGBMClassifier(n_estimators=300, num_leaves=15, learning_rate=0.05, subsample=0.8,
                                           subsample_freq=1, colsample_bytree=0.8, n_jobs=threads, verbose=-1)
                else:
                    model = XGBClassifier(n_estimators=300, max_depth=6, tree_method="hist", n_jobs=threads)
                seconds = []
                for _ in range(2):
                    started = time.monotonic()
                    model.fit(X, y)
                    seconds.append(time.monotonic() - started)
                print(json.dumps({"policy": os.environ.get("OMP_WAIT_POLICY", "unset"), "library": library,
                                  "rows": rows, "columns": columns, "threads": threads,
                                  "seconds": round(min(seconds), 3)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)  # one policy, this process
    if parser.parse_args().measure:
        measure()
        return
    rows = []
    for policy in ("PASSIVE", None):
        env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
        if policy:
            env["OMP_WAIT_POLICY"] = policy
        out = subprocess.run([sys.executable, __file__, "--measure"], env=env, check=True, capture_output=True, text=True)
        rows += [json.loads(line) for line in out.stdout.splitlines()]
    print("| rows x columns | library | passive, 1 thread | passive, 2 threads | default policy, 1 | default, 2 |")
    print("|---|---|---|---|---|---|")
    for rows_, columns in SIZES:
        for library in ("lightgbm", "xgboost"):
            cell = {(r["policy"], r["threads"]): r["seconds"] for r in rows
                    if (r["rows"], r["columns"], r["library"]) == (rows_, columns, library)}
            print(f"| {rows_:,} x {columns} | {library} | " + " | ".join(
                f"{cell[key]:.2f}" for key in [("PASSIVE", 1), ("PASSIVE", 2), ("unset", 1), ("unset", 2)]) + " |")


if __name__ == "__main__":
    main()
