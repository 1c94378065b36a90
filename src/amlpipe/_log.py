"""The package logger; `amlpipe.<module>` loggers all hang below it."""

from __future__ import annotations

import logging
import sys

logger = logging.getLogger("amlpipe")


def show_progress_logs(level: int = logging.INFO) -> None:
    """Send amlpipe's log lines to stderr, once, for scripts and notebooks.

    Library code never configures logging by itself; the CLI and the notebooks call this.
    """
    if any(getattr(h, "_amlpipe", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))
    handler.setLevel(level)
    handler._amlpipe = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
