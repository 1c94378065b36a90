"""Running the step notebooks in order with papermill, as `amlpipe run` and CI do."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional

from .errors import AmlpipeError, ConfigError
from .notebook import read_records
from .resources import notebook_dir as packaged_notebook_dir

logger = logging.getLogger(__name__)

STEPS = ("01_setup", "02_data", "03_train", "04_register", "05_deploy", "06_consume")
CLEANUP_STEP = "07_cleanup"
PIPELINE_STEP = "08_pipeline"
# `amlpipe run --pipeline`: the pipeline notebook trains, registers and deploys in place of 03-05.
PIPELINE_STEPS = ("01_setup", "02_data", PIPELINE_STEP, "06_consume")
KERNEL = "python3"  # the kernel of the Python running amlpipe (ipykernel's native kernel)


class NotebookFailed(AmlpipeError):
    """A notebook of the pipeline failed; says which, in which cell, and why."""


@dataclass
class StepResult:
    name: str
    output: Path
    seconds: float
    records: Dict[str, Any] = field(default_factory=dict)


def declared_parameters(notebook: Path) -> List[str]:
    """The names in the notebook's `parameters` cell."""
    import papermill

    return list(papermill.inspect_notebook(str(notebook)))


def default_output_dir() -> Path:
    return Path("runs") / datetime.now().strftime("%Y%m%d-%H%M%S")


def run_pipeline(
    parameters: Mapping[str, Any],
    output_dir: Optional[Path] = None,
    cleanup: bool = False,
    notebook_dir: Optional[Path] = None,
    on_step: Callable[[str], None] = lambda line: None,
    steps: Optional[List[str]] = None,
    pipeline: bool = False,
) -> List[StepResult]:
    """Execute the step notebooks in order; each gets the parameters it declares.

    Args:
        parameters: Notebook parameters (UPPER_CASE names); a notebook gets those it declares.
        output_dir: Where executed notebooks go (default `runs/<timestamp>/`).
        cleanup: Run 07_cleanup at the end.
        notebook_dir: Where the notebooks are (default: those that came with amlpipe).
        on_step: Called with one progress line per notebook.
        steps: Run only these notebooks (names without .ipynb), in this order.
        pipeline: Train, register and deploy with 08_pipeline (`PIPELINE_STEPS`) instead of 03-05.

    Raises:
        ConfigError: a notebook is missing from ``notebook_dir``.
        NotebookFailed: naming the notebook, the cell and the error; the executed notebook
            with the failing cell is kept in ``output_dir``.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook_dir = Path(notebook_dir) if notebook_dir else packaged_notebook_dir()
    if steps is None:
        steps = list(PIPELINE_STEPS if pipeline else STEPS) + ([CLEANUP_STEP] if cleanup else [])
    missing = [name for name in steps if not (notebook_dir / f"{name}.ipynb").is_file()]
    if missing:
        raise ConfigError(f"notebook {missing[0]}.ipynb not found in {notebook_dir}")
    output_dir = Path(output_dir or default_output_dir())
    output_dir.mkdir(parents=True, exist_ok=True)
    results: List[StepResult] = []
    for number, name in enumerate(steps, start=1):
        source = notebook_dir / f"{name}.ipynb"
        target = output_dir / f"{name}.ipynb"
        declared = set(declared_parameters(source))
        given = {k: v for k, v in parameters.items() if k in declared}
        started = time.monotonic()
        try:
            papermill.execute_notebook(
                str(source), str(target), parameters=given, kernel_name=KERNEL,
                progress_bar=False, cwd=os.getcwd(),
                # The kernel warns at start-up that it talks to papermill over loopback TCP; only errors matter here.
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )
        except PapermillExecutionError as exc:
            seconds = time.monotonic() - started
            on_step(f"[{number}/{len(steps)}] {name} FAILED after {seconds:.1f} s")
            raise NotebookFailed(
                f"notebook {name} failed in cell {exc.exec_count or exc.cell_index}: {exc.ename}: {exc.evalue.strip()} "
                f"(executed notebook: {target})"
            ) from None
        seconds = time.monotonic() - started
        results.append(StepResult(name, target, seconds, read_records(target)))
        on_step(f"[{number}/{len(steps)}] {name} done in {seconds:.1f} s")
    return results
