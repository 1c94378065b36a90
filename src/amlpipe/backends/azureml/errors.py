"""SDK exceptions translated into amlpipe's, naming the resource and what to do.

Every exception of the SDK v1 (`AzureMLException` and its family, the REST client's
`ServiceException`, the vendored azure-cli `AuthenticationError`) and a network failure
becomes an amlpipe error; the text keeps the SDK's error code and whole message, and the
SDK's exception stays available as the cause (``raise ... from``).
"""

from __future__ import annotations

import contextlib
import json
import re
from typing import Iterator, List, Optional

from ...errors import ConfigError, DeploymentError, ResourceError
from . import sdk

MAX_MESSAGE_CHARS = 2000
_STATUS = re.compile(r"Response Code: (\d{3})")


def error_codes(exc: BaseException) -> List[str]:
    """The SDK's error code hierarchy (outermost first), e.g. ``["UserError", "BadArgument", "ArgumentOutOfRange"]``."""
    try:
        error = json.loads(exc._serialize_json()).get("error")  # the SDK's own ErrorResponse
    except (AttributeError, TypeError, ValueError):
        return []
    codes = []
    while isinstance(error, dict):
        if error.get("code"):
            codes.append(error["code"])
        error = error.get("inner_error")
    return codes


def status_code(exc: BaseException) -> Optional[int]:
    """The HTTP status of a failed SDK call: `ServiceException.status_code`, or the "Response Code" in the text."""
    code = getattr(exc, "status_code", None)
    if isinstance(code, int):
        return code
    found = _STATUS.search(sdk_text(exc))
    return int(found.group(1)) if found else None


def sdk_text(exc: BaseException) -> str:
    """The SDK exception's message, whole (its `str()` is a multi-line dump with JSON)."""
    text = getattr(exc, "message", None) or getattr(exc, "error_msg", None) or str(exc)
    return str(text).strip() or type(exc).__name__


def describe(exc: BaseException) -> str:
    """``[code/inner code] message`` (the class name when there is no code; status, target and details when
    the SDK gives them), bounded in length."""
    codes = error_codes(exc) or [type(exc).__name__]
    parts = [f"[{'/'.join(codes)}] "]
    parts.append(sdk_text(exc))
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        parts.append(f" (HTTP {status})")
    target = getattr(exc, "_target", None)
    if target:
        parts.append(f" (target: {target})")
    details = [getattr(d, "message", d) for d in (getattr(exc, "details", None) or [])]
    if details and isinstance(details, list):
        parts.append(" details: " + "; ".join(str(d) for d in details))
    text = "".join(parts)
    return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + " ..."


@contextlib.contextmanager
def translated(resource: str, hint: str = "") -> Iterator[None]:
    """Turn the SDK's exceptions raised inside the block into amlpipe errors about ``resource``.

    Args:
        resource: What was being done, e.g. ``"compute 'heart-f-cluster'"``.
        hint: Appended to the message: what the user can do.
    """
    import requests

    try:
        yield
    except (sdk.AuthenticationException, sdk.AzCliAuthenticationError) as exc:
        raise ConfigError(
            f"{resource}: authentication failed: {describe(exc)}. Check the service principal's tenant, id and secret "
            "(AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET), or run `az login`"
        ) from exc
    except sdk.ProjectSystemException as exc:
        raise ResourceError(
            f"{resource}: the workspace cannot be opened: {describe(exc)}. Check subscription_id, resource_group and "
            "workspace_name in config.json, and that your identity has a role on the workspace"
        ) from exc
    except sdk.ConfigException as exc:
        raise ConfigError(f"{resource}: Azure AutoML refused a setting: {describe(exc)}{hint}") from exc
    except sdk.AutoMLException as exc:
        raise ResourceError(f"{resource}: Azure AutoML failed: {describe(exc)}{hint}") from exc
    except sdk.ComputeTargetException as exc:
        raise ResourceError(f"{resource}: {describe(exc)}{hint}") from exc
    except sdk.WebserviceException as exc:
        raise DeploymentError(f"{resource}: {describe(exc)}{hint}") from exc
    except sdk.ServiceException as exc:
        raise ResourceError(f"{resource}: Azure ML answered {describe(exc)}{_access_hint(exc)}{hint}") from exc
    except sdk.AzureMLException as exc:  # UserErrorException and the rest of the family
        raise ResourceError(f"{resource}: {describe(exc)}{hint}") from exc
    except (requests.ConnectionError, requests.Timeout, ConnectionError) as exc:
        raise ResourceError(f"{resource}: cannot reach Azure ({type(exc).__name__}); check the network and retry") from exc


def _access_hint(exc: BaseException) -> str:
    status = status_code(exc)
    if status in (401, 403):
        return "; check that your identity has a role on the workspace"
    if status == 404:
        return "; check the name"
    if status is not None and status >= 500:
        return "; Azure had a problem, retry later"
    return ""
