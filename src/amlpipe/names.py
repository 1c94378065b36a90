"""Names of Azure ML resources, checked with Azure's own rules before any work is done.

Every name amlpipe turns into a path (the local backend's folders and records) or puts
into a query (MLflow filter strings) is one of these; a name that follows Azure's rule
can neither leave the workspace folder (no ``/``, no leading ``.``) nor break a query
(no quotes). The rules are the Azure ML SDK v1's:

- service (ACI, `webservice_name_validation`): 3-32 lowercase letters, digits and dashes,
  starting with a letter and ending with a letter or digit;
- experiment (`Experiment`): 3-36 letters, digits, underscores and dashes, starting with
  a letter or digit;
- compute (`AmlCompute`): 2-16 letters, digits and dashes, starting with a letter and
  ending with a letter or digit;
- model (`Model.register`): 1-255 letters, digits, dashes, underscores and periods,
  starting with a letter or digit;
- dataset (`Dataset.register`): 1-250 letters, digits, dashes, underscores and periods,
  starting with a letter or digit.
"""

from __future__ import annotations

import re
from typing import Any, Dict, NamedTuple

from .errors import ConfigError


class NameRule(NamedTuple):
    pattern: "re.Pattern[str]"
    description: str


RULES: Dict[str, NameRule] = {
    "service": NameRule(
        re.compile(r"[a-z][-a-z0-9]{1,30}[a-z0-9]", re.ASCII),
        "3-32 lowercase letters, digits and dashes, starting with a letter and ending with a letter or digit",
    ),
    "experiment": NameRule(
        re.compile(r"[A-Za-z0-9][-\w]{2,35}", re.ASCII),
        "3-36 letters, digits, underscores and dashes, starting with a letter or digit",
    ),
    "compute": NameRule(
        re.compile(r"[A-Za-z][-A-Za-z0-9]{0,14}[A-Za-z0-9]", re.ASCII),
        "2-16 letters, digits and dashes, starting with a letter and ending with a letter or digit",
    ),
    "model": NameRule(
        re.compile(r"[A-Za-z0-9][-\w.]{0,254}", re.ASCII),
        "1-255 letters, digits, dashes, underscores and periods, starting with a letter or digit",
    ),
    "dataset": NameRule(
        re.compile(r"[A-Za-z0-9][-\w.]{0,249}", re.ASCII),
        "1-250 letters, digits, dashes, underscores and periods, starting with a letter or digit",
    ),
}


def is_valid(kind: str, name: Any) -> bool:
    """Whether ``name`` follows Azure's rule for a ``kind`` (service, experiment, compute, model, dataset)."""
    return isinstance(name, str) and RULES[kind].pattern.fullmatch(name) is not None


def check(kind: str, name: Any, setting: str = "") -> str:
    """Return ``name`` if it is a valid ``kind`` name.

    Args:
        kind: ``service``, ``experiment``, ``compute``, ``model`` or ``dataset``.
        name: The name to check.
        setting: The setting it came from (``service.name``), named in the error.

    Raises:
        ConfigError: naming the setting (or the kind), the value and the rule.
    """
    if is_valid(kind, name):
        return name
    where = f"setting '{setting}'" if setting else f"{kind} name"
    raise ConfigError(f"{where} = {name!r} is not a valid {kind} name: use {RULES[kind].description}")


__all__ = ["RULES", "check", "is_valid"]
