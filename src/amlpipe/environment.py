"""Who is watching: a person at a terminal or in a notebook, or nobody (CI, papermill)."""

from __future__ import annotations

import os
from typing import Mapping


def unattended(environ: Mapping[str, str] = os.environ) -> bool:
    """CI (``CI=true``) or a run declared headless (``AMLPIPE_HEADLESS``): nobody is watching."""
    return environ.get("CI", "").lower() in ("1", "true", "yes") or bool(environ.get("AMLPIPE_HEADLESS"))


def interactive_notebook() -> bool:
    """A person is running a Jupyter notebook here: widgets are worth showing.

    papermill also runs a Jupyter kernel; `amlpipe run` tells it apart by passing
    ``PROGRESS="lines"``, and CI by ``CI=true``.
    """
    if unattended():
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"
