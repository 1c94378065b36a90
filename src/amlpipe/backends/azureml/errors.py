"""SDK exceptions translated into amlpipe's, naming the resource and what to do.

The SDK's exception stays available as the cause (``raise ... from``).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

from ...errors import ConfigError, DeploymentError, ResourceError
from . import sdk


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


@contextlib.contextmanager
def translated(resource: str, hint: str = "") -> Iterator[None]:
    """Turn the SDK's exceptions raised inside the block into amlpipe errors about ``resource``."""
    import requests

    try:
        yield
    except sdk.ComputeTargetException as exc:
        raise ResourceError(f"{resource}: {_first_line(exc)}{hint}") from exc
    except sdk.WebserviceException as exc:
        raise DeploymentError(f"{resource}: {_first_line(exc)}{hint}") from exc
    except sdk.AuthenticationException as exc:
        raise ConfigError(
            f"{resource}: authentication failed ({_first_line(exc)}); check the service principal or run `az login`"
        ) from exc
    except sdk.UserErrorException as exc:
        raise ResourceError(f"{resource}: {_first_line(exc)}{hint}") from exc
    except (requests.ConnectionError, requests.Timeout, ConnectionError) as exc:
        raise ResourceError(f"{resource}: cannot reach Azure ({type(exc).__name__}); check the network and retry") from exc
