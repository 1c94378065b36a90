"""SDK v2 exceptions translated into amlpipe's, naming the resource and what to do.

azure-core's `ResourceNotFoundError`, `ClientAuthenticationError`, `ServiceRequestError`
(no answer) and `HttpResponseError`, and azure-ai-ml's `ValidationException`, become amlpipe
errors; the SDK's exception stays available as the cause (``raise ... from``).
"""

from __future__ import annotations

import contextlib
import re
from typing import Iterator, Optional, Type

from ...errors import AmlpipeError, ConfigError, ResourceError
from . import sdk


def first_line(exc: BaseException) -> str:
    """The first line of the exception's message (the SDK's messages run to pages)."""
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


def unreachable_host(exc: BaseException) -> Optional[str]:
    """The host named when ``exc`` (or what it wraps) is a failure to connect, e.g. azure-identity's
    "Authentication failed: HTTPSConnection(host='login.microsoftonline.com', ...): Failed to resolve"."""
    chain = []
    while exc is not None and len(chain) < 10:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    for link in chain:
        text = str(link)
        if isinstance(link, sdk.ServiceRequestError) or re.search(r"Failed to resolve|Connection refused|timed out", text):
            found = re.search(r"host='([^']+)'", text)
            return found.group(1) if found else "Azure"
    return None


@contextlib.contextmanager
def translated(resource: str, hint: str = "", failure: Type[AmlpipeError] = ResourceError) -> Iterator[None]:
    """Turn the SDK's exceptions raised inside the block into amlpipe errors about ``resource``.

    Args:
        resource: What the block works on, as the message should name it (``"compute 'c'"``).
        hint: Appended to service-side failures (what to check).
        failure: The amlpipe error for a refused request (`DeploymentError` for deployments).
    """
    try:
        yield
    except sdk.ResourceNotFoundError as exc:
        raise ResourceError(f"{resource}: not found ({first_line(exc)})") from exc
    except sdk.ClientAuthenticationError as exc:  # also azure-identity's CredentialUnavailableError
        host = unreachable_host(exc)
        if host:
            raise ResourceError(f"{resource}: cannot reach {host} to sign in; check the network and retry") from exc
        raise ConfigError(
            f"{resource}: authentication failed ({first_line(exc)}); check the service principal or run `az login`"
        ) from exc
    except sdk.ServiceRequestError as exc:
        raise ResourceError(
            f"{resource}: cannot reach {unreachable_host(exc)} ({first_line(exc)}); check the network and retry"
        ) from exc
    except sdk.HttpResponseError as exc:
        status = f"HTTP {exc.status_code}: " if getattr(exc, "status_code", None) else ""
        raise failure(f"{resource}: {status}{first_line(exc)}{hint}") from exc
    except sdk.MlflowException as exc:  # the workspace's MLflow: run metrics, tags, children
        raise ResourceError(f"{resource}: {first_line(exc)}") from exc
    except (sdk.ValidationException, sdk.MarshmallowValidationError) as exc:
        raise ConfigError(f"{resource}: the SDK refused the settings: {first_line(exc)}") from exc
