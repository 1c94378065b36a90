"""What a deployment serves: the entry script, the files beside it, its OpenAPI document."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Dict, Optional

from . import contract, serving
from .errors import ConfigError
from .resources import score_script
from .settings import InferenceSettings


def entry_script(settings: Optional[InferenceSettings] = None) -> Path:
    """The entry script to serve: the configured one, or amlpipe's own score.py.

    Raises:
        ConfigError: the file does not exist.
    """
    settings = settings or InferenceSettings()
    path = Path(settings.entry_script) if settings.entry_script else score_script()
    if not path.is_file():
        raise ConfigError(
            f"entry script {path} not found; set 'inference.entry_script' to the path of score.py"
        )
    return path.resolve()


def write_source_directory(folder: Path, model_metadata: Dict[str, Any], settings: Optional[InferenceSettings] = None,
                           example: Optional[Dict[str, Any]] = None) -> Path:
    """Lay out what the server runs: score.py, contract.py and serving.py beside it (for hosts without amlpipe),
    and swagger.json describing the model's request. Returns the entry script's path in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    script = shutil.copy2(entry_script(settings), folder / "score.py")
    for module in (contract, serving):
        shutil.copy2(Path(module.__file__), folder / Path(module.__file__).name)
    write_swagger(folder, model_metadata, settings, example)
    return Path(script)


def write_swagger(folder: Path, model_metadata: Dict[str, Any], settings: Optional[InferenceSettings] = None,
                  example: Optional[Dict[str, Any]] = None) -> Path:
    """swagger.json in the server's app root, which azureml-inference-server-http serves at /swagger.json."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "swagger.json"
    path.write_text(json.dumps(openapi_for(model_metadata, settings, example), indent=1))
    return path


def openapi_for(model_metadata: Dict[str, Any], settings: Optional[InferenceSettings] = None,
                example: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    settings = settings or InferenceSettings()
    return contract.openapi_spec(
        model_metadata.get("input_schema") or {},
        model_metadata.get("classes"),
        example=example,
        max_rows=settings.max_rows,
        title=f"amlpipe: {model_metadata.get('algorithm', 'model')} ({model_metadata.get('task', '')})",
    )
