"""Settings overrides on their way from the command line to every notebook.

`amlpipe run --settings FILE --set KEY=VALUE` gathers dotted overrides such as
``{"automl.n_cross_validations": 5}``, checks them against `Settings`, and hands them to every
notebook as its one ``SETTINGS_OVERRIDES`` parameter; each notebook then builds its settings
with `load_settings(SETTINGS_OVERRIDES)`. A settings file is JSON or YAML, with groups
(``{"automl": {"n_cross_validations": 5}}``) or dotted keys; later sources win: the file,
then each ``--set``, then a command's own options (such as ``--budget-minutes``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional, Tuple, Union

from .errors import ConfigError
from .settings import Settings

PARAMETER = "SETTINGS_OVERRIDES"


def load_settings(overrides: Union[Mapping[str, Any], str, None] = None) -> Settings:
    """The settings to run with: the defaults with ``overrides`` applied.

    Args:
        overrides: Dotted keys and their values, or the same as JSON text (what
            ``papermill -p SETTINGS_OVERRIDES '{...}'`` passes); None or empty: the defaults.

    Raises:
        ConfigError: the text is not a JSON object, a key names no setting, or a value is invalid.
    """
    if isinstance(overrides, str):
        try:
            overrides = json.loads(overrides or "{}")
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{PARAMETER}: not valid JSON ({exc.msg}, column {exc.colno})") from None
        if not isinstance(overrides, dict):
            raise ConfigError(f"{PARAMETER}: expected a JSON object of dotted setting names, got {overrides!r}")
    return Settings().override(overrides or {})


def gather(
    files: Iterable[Union[str, os.PathLike]] = (),
    assignments: Iterable[str] = (),
    options: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """Dotted overrides from settings files, then ``KEY=VALUE`` assignments, then a command's options.

    Options whose value is None (not given) are left out.

    Raises:
        ConfigError: a file cannot be read or parsed, or an assignment has no ``=``.
    """
    overrides: Dict[str, Any] = {}
    for path in files:
        overrides.update(read_file(path))
    for text in assignments:
        key, value = parse_assignment(text)
        overrides[key] = value
    overrides.update({k: v for k, v in (options or {}).items() if v is not None})
    return overrides


def read_file(path: Union[str, os.PathLike]) -> Dict[str, Any]:
    """A settings file (``.json``, ``.yaml`` or ``.yml``) as dotted overrides.

    Raises:
        ConfigError: the file is missing, unreadable, not JSON/YAML, or not a mapping; names the file.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            values = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    elif path.suffix.lower() == ".json":
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    else:
        raise ConfigError(f"{path}: a settings file must end in .json, .yaml or .yml")
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, such as {{\"automl\": {{\"iterations\": 5}}}}")
    return flatten(values)


def flatten(values: Mapping[str, Any]) -> Dict[str, Any]:
    """Groups to dotted keys: ``{"automl": {"iterations": 5}}`` -> ``{"automl.iterations": 5}``.

    Only a group of `Settings` is opened; a mapping under a setting (such as ``model.tags``)
    stays its value.
    """
    defaults = Settings()
    groups = {f.name for f in dataclasses.fields(defaults) if dataclasses.is_dataclass(getattr(defaults, f.name))}
    flat: Dict[str, Any] = {}
    for key, value in values.items():
        if key in groups and isinstance(value, Mapping):
            flat.update({f"{key}.{name}": inner for name, inner in value.items()})
        else:
            flat[key] = value
    return flat


def parse_assignment(text: str) -> Tuple[str, Any]:
    """``KEY=VALUE`` -> (key, value); the value is read as JSON when it is JSON, else kept as text.

    ``automl.n_cross_validations=5`` gives 5, ``automl.allowed_models=["LightGBM"]`` a list,
    ``automl.enable_early_stopping=false`` False, ``experiment_name=my-exp`` the text.

    Raises:
        ConfigError: there is no ``=`` or no key.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE, such as automl.n_cross_validations=5")
    try:
        return key, json.loads(raw)
    except json.JSONDecodeError:
        return key, raw
