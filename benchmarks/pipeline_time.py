"""Pipeline time: `amlpipe run` end to end on the local backend, per notebook and in total;
and `amlpipe pipeline run` twice on one workspace: the first run against the second, reused one.

Also measures what papermill and a kernel cost by themselves (a one-cell notebook), and
what `import amlpipe` costs in a fresh process, so the notebooks' own work can be told apart.

    python benchmarks/pipeline_time.py --data PATH --budget-minutes 1
    python benchmarks/pipeline_time.py --data PATH --budget-minutes 1 --part pipeline
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import papermill


def kernel_overhead(folder: Path, repeats: int = 3) -> float:
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells.append(nbformat.v4.new_code_cell("x = 1"))
    path = folder / "empty.ipynb"
    nbformat.write(notebook, path)
    times = []
    for _ in range(repeats):
        started = time.monotonic()
        # as amlpipe.notebook_runner runs each notebook
        papermill.execute_notebook(str(path), str(folder / "empty.out.ipynb"), kernel_name="python3", progress_bar=False,
                                   extra_arguments=["--IPKernelApp.log_level=ERROR"])
        times.append(time.monotonic() - started)
    return sorted(times)[len(times) // 2]


def import_time() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import amlpipe, mlflow.tracking, sklearn.ensemble, flaml"], check=True)
    return time.monotonic() - started


def pipeline_runs(folder: Path, data: str, budget: float, runs: int = 2) -> list:
    """`amlpipe pipeline run --json` ``runs`` times on one new workspace: (wall seconds, JSON report) each."""
    measured = []
    for _ in range(runs):
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "amlpipe", "pipeline", "run", "--budget-minutes", str(budget), "--data", data,
             "--workspace", str(folder / "ws"), "--json"],
            capture_output=True, text=True, cwd=folder,
        )
        wall = time.monotonic() - started
        if result.returncode != 0:
            sys.exit(f"amlpipe pipeline run failed:\n{result.stdout}\n{result.stderr}")
        measured.append((wall, json.loads(result.stdout.strip().splitlines()[-1])))
    return measured


def report_pipeline(measured: list, budget: float) -> None:
    (first_wall, first), (second_wall, second) = measured[:2]
    print(f"\n`amlpipe pipeline run --budget-minutes {budget:g} --json`, twice on one new workspace, "
          f"{os.cpu_count()} CPUs\n")
    print("| run | step seconds | wall clock, including CLI start (s) |")
    print("|---|---|---|")
    for label, wall, report in (("first", first_wall, first), ("second (nothing changed)", second_wall, second)):
        steps = ", ".join(f"{s['name']} {'reused' if s['reused'] else 'ran'} {s['seconds']:.2f}" for s in report["steps"])
        print(f"| {label} | {steps} | {wall:.1f} |")
    ratio = second_wall / first_wall
    print(f"\nreused run / first run, wall clock: {ratio:.1%} (target: under 15%: {'met' if ratio < 0.15 else 'NOT met'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("AMLPIPE_DATA"))
    parser.add_argument("--budget-minutes", type=float, default=1.0)
    parser.add_argument("--part", choices=["all", "notebooks", "pipeline"], default="all",
                        help="the notebooks (`amlpipe run`), the pipeline's first and reused runs, or both")
    args = parser.parse_args()
    if args.part in ("all", "pipeline"):
        with tempfile.TemporaryDirectory() as tmp:
            measured = pipeline_runs(Path(tmp), args.data, args.budget_minutes)
        report_pipeline(measured, args.budget_minutes)
    if args.part == "pipeline":
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "amlpipe", "run", "--budget-minutes", str(args.budget_minutes), "--data", args.data,
             "--workspace", str(folder / "ws"), "--output", str(folder / "runs"), "--cleanup"],
            capture_output=True, text=True, cwd=folder,
        )
        total = time.monotonic() - started
        if result.returncode != 0:
            sys.exit(f"amlpipe run failed:\n{result.stdout}\n{result.stderr}")
        steps = re.findall(r"\] (\S+) done in ([\d.]+) s", result.stdout)
        overhead = kernel_overhead(folder)
        imports = import_time()
    print(f"`amlpipe run --budget-minutes {args.budget_minutes:g} --cleanup` on the local backend, {os.cpu_count()} CPUs\n")
    print("| notebook | seconds |")
    print("|---|---|")
    for name, seconds in steps:
        print(f"| {name} | {float(seconds):.1f} |")
    print(f"| **total (wall clock, including CLI start)** | **{total:.1f}** |")
    print(f"\npapermill + kernel start-up for a one-cell notebook: {overhead:.1f} s "
          f"(x{len(steps)} notebooks = {overhead * len(steps):.1f} s, {overhead * len(steps) / total:.0%} of the total); "
          f"importing amlpipe, mlflow, scikit-learn and FLAML in a fresh process: {imports:.1f} s")


if __name__ == "__main__":
    main()
