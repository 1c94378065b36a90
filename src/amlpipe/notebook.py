"""Recording results in a notebook and reading them back (what scrapbook did, in a few lines).

A notebook's last cell calls `record(auc=..., version=...)`; the values land in the executed
notebook as a display output with amlpipe's own MIME type, which `read_records` finds with
nbformat. Tests and the CLI read them; a person sees a small table.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, Union

MIME_TYPE = "application/vnd.amlpipe.record+json"


def record(**values: Any) -> None:
    """Record JSON-serialisable values in the running notebook's output."""
    from IPython.display import display

    payload = json.loads(json.dumps(values, default=str))  # fail here, not in the reader
    rows = "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in payload.items())
    display(
        {MIME_TYPE: payload, "text/html": f"<table>{rows}</table>", "text/plain": json.dumps(payload)},
        raw=True,
    )


def read_records(path: Union[str, os.PathLike]) -> Dict[str, Any]:
    """Every value recorded in an executed notebook (later records win)."""
    import nbformat

    found: Dict[str, Any] = {}
    notebook = nbformat.read(os.fspath(path), as_version=4)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if MIME_TYPE in data:
                found.update(data[MIME_TYPE])
    return found
