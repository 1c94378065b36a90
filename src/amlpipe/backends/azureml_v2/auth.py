"""azure-identity credentials, chosen by the same headless-safe chain as the v1 backend's.

The chain, first that can work wins:

1. a service principal from environment variables (`EnvironmentCredential` for ``AZURE_*``,
   `ClientSecretCredential` for the v1 backend's ``AZUREML_SERVICE_PRINCIPAL_*``);
2. the Azure CLI login (`AzureCliCredential`), when ``az account show`` succeeds;
3. a managed identity (`ManagedIdentityCredential`), when ``IDENTITY_ENDPOINT`` or
   ``MSI_ENDPOINT`` is set (Azure ML compute sets them); a user-assigned one by
   ``DEFAULT_IDENTITY_CLIENT_ID``, or ``AZURE_CLIENT_ID`` without a secret;
4. `InteractiveBrowserCredential` only when a person can answer (`amlpipe.environment.headless`).

Headless (papermill, CI, ``CI=true``) there is never a prompt: a clear error lists what was
tried. Secrets go to the credential only, never into logs, errors or notebooks. `describe`
says which step would be used without building any credential.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, Iterator, List, Mapping, Optional, Tuple

from ...environment import headless
from ..azureml.auth import (
    SERVICE_PRINCIPAL_VARIABLES,
    AuthenticationError,
    Step,
    cli_logged_in,
    first_usable,
    identity_client_id,
)
from . import sdk

logger = logging.getLogger(__name__)
# Set where a managed identity's token endpoint is (Azure ML compute, App Service); azure-identity reads them.
MANAGED_IDENTITY_VARIABLES = ("IDENTITY_ENDPOINT", "MSI_ENDPOINT")
# A service principal's token request: one retry and a 10 s connection timeout. azure-identity's
# defaults (3 retries with back-off, a 300 s timeout) take 4.8 s to report an unreachable
# login.microsoftonline.com, and minutes on a network that drops packets.
TOKEN_REQUEST_OPTIONS = {"retry_total": 1, "connection_timeout": 10}


def _service_principal(tenant_var: str, values: List[str]) -> Callable[[], Any]:
    if tenant_var == "AZURE_TENANT_ID":  # azure-identity's own variables: it reads them itself
        return lambda: sdk.EnvironmentCredential(**TOKEN_REQUEST_OPTIONS)
    return lambda: sdk.ClientSecretCredential(tenant_id=values[0], client_id=values[1], client_secret=values[2],
                                              **TOKEN_REQUEST_OPTIONS)


def steps(environ: Mapping[str, str] = os.environ,
          cli_check: Callable[[], Tuple[bool, str]] = cli_logged_in,
          stdin_isatty: Optional[Callable[[], bool]] = None, shell: Any = "detect") -> Iterator[Step]:
    """The chain's steps in order, each checked only when the ones before it cannot be used."""
    for tenant_var, client_var, secret_var in SERVICE_PRINCIPAL_VARIABLES:
        names = (tenant_var, client_var, secret_var)
        values = [environ.get(v) for v in names]
        if all(values):
            yield Step(f"service principal ({client_var})", True, f"service principal: {client_var} and its secret are set",
                       _service_principal(tenant_var, values))
        else:
            missing = [v for v, value in zip(names, values) if not value]
            yield Step("service principal", False,
                       f"service principal: {', '.join(missing) if any(values) else '/'.join(names)} not set")
    logged_in, why = cli_check()
    yield Step("Azure CLI", logged_in, why, lambda: sdk.AzureCliCredential())
    endpoint = next((v for v in MANAGED_IDENTITY_VARIABLES if environ.get(v)), None)
    client_id, _ = identity_client_id(environ)  # a user-assigned identity, as the v1 chain finds it
    yield Step("managed identity", endpoint is not None,
               f"managed identity: {endpoint} is set" if endpoint else
               f"managed identity: {' / '.join(MANAGED_IDENTITY_VARIABLES)} not set",
               lambda: sdk.ManagedIdentityCredential(client_id=client_id))
    if headless(environ, stdin_isatty, shell):
        yield Step("interactive login", False, "interactive login: nobody can answer a prompt here (CI, papermill or no terminal)")
    else:
        yield Step("interactive login", True, "interactive login: a person is at a terminal",
                   lambda: sdk.InteractiveBrowserCredential())


def describe(environ: Mapping[str, str] = os.environ, **checks) -> Tuple[Optional[str], List[str]]:
    """Which step the chain would use (None when none) and what was found on the way; builds nothing."""
    step, tried = first_usable(steps(environ, **checks))
    return (step.name if step else None), tried


def resolve(environ: Mapping[str, str] = os.environ, **checks) -> Tuple[Any, str]:
    """Pick the first credential that can work; returns (azure-identity credential, what was chosen).

    Args:
        checks: Overrides of `steps`' checks (``cli_check``, ``stdin_isatty``, ``shell``), for tests and `amlpipe doctor`.

    Raises:
        AuthenticationError: nothing works and no person is at a terminal; lists what was tried.
    """
    step, tried = first_usable(steps(environ, **checks))
    if step is not None:
        logger.info("authenticating with %s", step.name)
        return step.build(), step.name
    raise AuthenticationError(
        "no Azure credentials for a headless run (no interactive login without a terminal). Tried: "
        + "; ".join(tried)
        + ". Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), or run `az login`."
    )
