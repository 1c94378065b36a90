"""azure-identity credentials, chosen by the same headless-safe chain as the v1 backend's.

The chain: a service principal from environment variables (`EnvironmentCredential` for
``AZURE_*``, `ClientSecretCredential` for the v1 backend's ``AZUREML_SERVICE_PRINCIPAL_*``),
then the Azure CLI login, then a managed identity, then `InteractiveBrowserCredential` only
when a person is at a terminal. Headless (papermill, CI, ``CI=true``) there is never a prompt:
a clear error lists what was tried. The checks are the v1 backend's own; secrets go to the
credential only and never into logs, errors or notebooks.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Callable, List, Mapping, Optional, Tuple

from ..azureml.auth import (
    MANAGED_IDENTITY_VARIABLES,
    SERVICE_PRINCIPAL_VARIABLES,
    AuthenticationError,
    cli_logged_in,
    headless,
)
from . import sdk

logger = logging.getLogger(__name__)


def resolve(
    environ: Mapping[str, str] = os.environ,
    cli_check: Callable[[], Tuple[bool, str]] = cli_logged_in,
    stdin_isatty: Optional[Callable[[], bool]] = None,
) -> Tuple[Any, str]:
    """Pick the first credential that can work; returns (azure-identity credential, what was chosen).

    Raises:
        AuthenticationError: nothing works and no person is at a terminal; lists what was tried.
    """
    tried: List[str] = []
    for tenant_var, client_var, secret_var in SERVICE_PRINCIPAL_VARIABLES:
        names = (tenant_var, client_var, secret_var)
        values = [environ.get(v) for v in names]
        if all(values):
            logger.info("authenticating with the service principal from %s", client_var)
            if tenant_var == "AZURE_TENANT_ID":  # azure-identity's own variables: it reads them itself
                credential = sdk.EnvironmentCredential()
            else:
                credential = sdk.ClientSecretCredential(tenant_id=values[0], client_id=values[1], client_secret=values[2])
            return credential, f"service principal ({client_var})"
        missing = [v for v, value in zip(names, values) if not value]
        tried.append(f"service principal: {', '.join(missing) if any(values) else '/'.join(names)} not set")
    logged_in, why = cli_check()
    if logged_in:
        logger.info("authenticating with the Azure CLI login")
        return sdk.AzureCliCredential(), "Azure CLI"
    tried.append(why)
    endpoint = next((v for v in MANAGED_IDENTITY_VARIABLES if environ.get(v)), None)
    if endpoint:
        logger.info("authenticating with the managed identity (%s)", endpoint)
        client_id = environ.get("DEFAULT_IDENTITY_CLIENT_ID")  # set on Azure ML compute with a user-assigned identity
        return sdk.ManagedIdentityCredential(client_id=client_id), "managed identity"
    tried.append(f"managed identity: {' / '.join(MANAGED_IDENTITY_VARIABLES)} not set")
    if not headless(environ, stdin_isatty):
        logger.info("authenticating interactively in a browser")
        return sdk.InteractiveBrowserCredential(), "interactive login"
    raise AuthenticationError(
        "no Azure credentials for a headless run (no interactive login without a terminal). Tried: "
        + "; ".join(tried)
        + ". Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), or run `az login`."
    )
