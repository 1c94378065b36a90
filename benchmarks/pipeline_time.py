"""Pipeline time: `amlpipe run` end to end on the local backend, per notebook and in total.

Also measures what papermill and a kernel cost by themselves (a one-cell notebook), and
what `import amlpipe` costs in a fresh process, so the notebooks' own work can be told apart.

    python benchmarks/pipeline_time.py --data PATH --budget-minutes 1
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("AMLPIPE_DATA"))
    parser.add_argument("--budget-minutes", type=float, default=1.0)
    args = parser.parse_args()
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
