"""The local workspace's files: JSON records written atomically, and artifact folders behind MLflow URIs."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import unquote, urlparse

from ...errors import ResourceError

# Tags naming the process that runs an AutoML run, so that a later process can tell it was orphaned.
OWNER_PID_TAG = "amlpipe.pid"
OWNER_STARTED_TAG = "amlpipe.pid_started"


def read_record(path: Path, kind: str) -> Dict[str, Any]:
    """Read one of the workspace's JSON records, naming it on failure."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResourceError(f"{kind} record {path} not found") from None
    except (ValueError, RecursionError):  # not JSON, not UTF-8
        raise ResourceError(f"{kind} record {path} is corrupt; delete it and create the {kind} again") from None
    except OSError as exc:
        raise ResourceError(f"{kind} record {path} cannot be read ({exc.strerror})") from None


def write_record(path: Path, record: Dict[str, Any], mode: Optional[int] = None) -> None:
    """Write a JSON record atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    if mode is not None:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        os.fchmod(fd, mode)  # a stale partial file keeps its own mode through O_CREAT
        with os.fdopen(fd, "w") as fh:
            json.dump(record, fh, indent=2, default=str)
    else:
        partial.write_text(json.dumps(record, indent=2, default=str))
    partial.replace(path)


def list_records(folder: Path) -> List[Path]:
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def artifact_path(artifact_uri: str) -> Path:
    """The local folder behind a ``file://`` artifact URI."""
    parsed = urlparse(artifact_uri)
    return Path(unquote(parsed.path)) if parsed.scheme in ("file", "") else Path(artifact_uri)


def owner_tags() -> Dict[str, str]:
    """Tags naming this process, for a run it will finish: a later process can tell the run was orphaned."""
    import psutil

    return {OWNER_PID_TAG: str(os.getpid()), OWNER_STARTED_TAG: repr(psutil.Process().create_time())}
