"""Finding and reading `config.json`, and choosing the backend.

The file is looked for where and in the order `Workspace.from_config` looks: an explicit
file, else from a folder (the working folder by default) upwards, first for
`.azureml/config.json` in that folder and each parent, then `aml_config/config.json`, then
a plain `config.json`.

The backend comes from, in order: the caller, `AMLPIPE_BACKEND`, the file's
`"backend"` key, `azureml` for a file without that key, `local` with no file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from .errors import ConfigError

AZURE_BACKENDS = ("azureml", "azureml-v2")  # the backends that need an Azure config.json
AZURE_KEYS = ("subscription_id", "resource_group", "workspace_name")
# Workspace.from_config's order: each of these over the whole way up before the next.
_CANDIDATES = (os.path.join(".azureml", "config.json"), os.path.join("aml_config", "config.json"), "config.json")


@dataclass(frozen=True)
class WorkspaceConfig:
    """What `config.json` (or its absence) says about the workspace.

    Attributes:
        backend: The backend's name (``"local"``, ``"azureml"`` for SDK v1, ``"azureml-v2"`` for SDK v2;
            `amlpipe.backends` knows them all).
        backend_source: Where that choice came from, for error messages.
        path: The file it came from, or None when there was none.
        subscription_id, resource_group, workspace_name: The Azure workspace, when given.
    """

    backend: str = "local"
    path: Optional[Path] = None
    subscription_id: Optional[str] = None
    resource_group: Optional[str] = None
    workspace_name: Optional[str] = None
    backend_source: str = "the default"


def find_config_file(path: Union[str, os.PathLike, None] = None, start: Union[str, os.PathLike, None] = None) -> Optional[Path]:
    """Return the config file to use, or None.

    Args:
        path: An explicit file, or a folder to search like the working folder. An explicit
            path that does not exist is an error rather than a silent fall-back.
        start: Where the upward search begins (default: the working folder).

    Raises:
        ConfigError: ``path`` was given and holds no config file.
    """
    if path is not None:
        given = Path(path)
        if given.is_file():
            return given
        if not given.is_dir():
            raise ConfigError(f"no config file at {given} (looked for {', '.join(_CANDIDATES)})")
        start = given
    folder = Path(start or os.getcwd()).resolve()
    for name in _CANDIDATES:
        for candidate_dir in (folder, *folder.parents):
            candidate = candidate_dir / name
            if candidate.is_file():
                return candidate
    if path is not None:
        raise ConfigError(f"no config file in {path} or its parents (looked for {', '.join(_CANDIDATES)})")
    return None


def load_config(
    path: Union[str, os.PathLike, None] = None,
    backend: Optional[str] = None,
    start: Union[str, os.PathLike, None] = None,
) -> WorkspaceConfig:
    """Read the config file (if any) and settle the backend.

    Raises:
        ConfigError: malformed JSON, or an Azure key missing for an Azure backend; the
            message names the file and the key. (`amlpipe.backends.get` checks the backend's name.)
    """
    file = find_config_file(path, start)
    data: dict = {}
    if file is not None:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{file}: not UTF-8 text (byte {exc.start}); save it as UTF-8 JSON") from None
        except OSError as exc:
            raise ConfigError(f"{file}: cannot be read ({exc.strerror})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{file}: expected a JSON object with {', '.join(AZURE_KEYS)}")

    source = "the caller"
    chosen = backend
    if chosen is None and os.environ.get("AMLPIPE_BACKEND"):
        chosen, source = os.environ["AMLPIPE_BACKEND"], "AMLPIPE_BACKEND"
    if chosen is None and "backend" in data:
        chosen, source = data["backend"], f"{file}: key 'backend'"
    if chosen is None:
        chosen, source = ("azureml", f"{file} (an Azure config)") if file is not None else ("local", "the default")

    if chosen in AZURE_BACKENDS:
        if file is None:
            raise ConfigError(
                f"the {chosen} backend needs a config.json with "
                f"{', '.join(AZURE_KEYS)} (download it from the Azure ML studio); none found"
            )
        for key in AZURE_KEYS:
            value = data.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{file}: key '{key}' is missing or empty (needed by the {chosen} backend)")
    return WorkspaceConfig(
        backend=chosen,
        path=file,
        subscription_id=data.get("subscription_id"),
        resource_group=data.get("resource_group"),
        workspace_name=data.get("workspace_name"),
        backend_source=source,
    )
