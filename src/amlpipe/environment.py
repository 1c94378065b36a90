"""Who is watching: a person at a terminal or in a notebook, or nobody (CI, papermill).

Jupyter starts every kernel with stdin as a pipe, so ``sys.stdin.isatty()`` is False in a
notebook a person is running as much as under papermill. What tells them apart is the
frontend: JupyterLab, Notebook and VS Code send each cell with ``allow_stdin=True`` (they
can answer `input()`), papermill's nbclient always sends ``allow_stdin=False``. ipykernel
keeps that flag for the running cell (``kernel._allow_stdin``), and `input()` refuses to
prompt without it.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Mapping, Optional


def unattended(environ: Mapping[str, str] = os.environ) -> bool:
    """CI (``CI=true``) or a run declared headless (``AMLPIPE_HEADLESS``): nobody is watching."""
    return environ.get("CI", "").lower() in ("1", "true", "yes") or bool(environ.get("AMLPIPE_HEADLESS"))


def _kernel_shell() -> Optional[Any]:
    """The IPython shell when this code runs in a Jupyter kernel, else None."""
    if "IPython" not in sys.modules:  # never import IPython just to ask
        return None
    from IPython import get_ipython

    shell = get_ipython()
    return shell if shell is not None and type(shell).__name__ == "ZMQInteractiveShell" else None


def _frontend_answers_input(shell: Any) -> bool:
    """Whether the frontend that sent the running cell can answer `input()` (a person's frontend can)."""
    kernel = getattr(shell, "kernel", None)
    return bool(getattr(kernel, "_allow_stdin", False))


def headless(environ: Mapping[str, str] = os.environ, stdin_isatty: Optional[Callable[[], bool]] = None,
             shell: Any = "detect") -> bool:
    """True when no person can answer a prompt.

    CI and ``AMLPIPE_HEADLESS`` always are; in a Jupyter kernel, a cell sent without
    ``allow_stdin`` (papermill, nbclient) is; elsewhere, no terminal on stdin is.

    Args:
        environ: The environment variables to look at.
        stdin_isatty: Overrides the terminal check (tests).
        shell: The IPython kernel shell, None for "not in a kernel"; detected by default.
    """
    if unattended(environ):
        return True
    if shell == "detect":
        shell = _kernel_shell()
    if shell is not None:
        return not _frontend_answers_input(shell)
    isatty = stdin_isatty or (lambda: sys.stdin is not None and sys.stdin.isatty())
    return not isatty()


def interactive_notebook() -> bool:
    """A person is running a Jupyter notebook here (not papermill, not CI): live displays are worth showing."""
    shell = _kernel_shell()
    return shell is not None and not headless(shell=shell)
