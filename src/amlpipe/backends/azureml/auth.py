"""Azure authentication that never hangs a headless run.

The chain: a service principal from environment variables, then an Azure CLI login,
then a managed identity, then an interactive login only when a person is at a terminal.
Without a terminal (papermill, CI, ``CI=true``) there is never a device-code prompt: a
clear error lists what was tried. Secrets are read from the environment and handed to
the SDK only; they never appear in logs, errors or notebooks.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from typing import Any, Callable, List, Mapping, Optional, Tuple

from ...environment import unattended
from ...errors import ConfigError
from . import sdk

logger = logging.getLogger(__name__)

# (tenant, client id, secret) variable names, in the order they are tried.
SERVICE_PRINCIPAL_VARIABLES = (
    ("AZUREML_SERVICE_PRINCIPAL_TENANT_ID", "AZUREML_SERVICE_PRINCIPAL_ID", "AZUREML_SERVICE_PRINCIPAL_PASSWORD"),
    ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"),
)
MANAGED_IDENTITY_VARIABLES = ("IDENTITY_ENDPOINT", "MSI_ENDPOINT")
CLI_TIMEOUT_SECONDS = 20


class AuthenticationError(ConfigError):
    """No way to authenticate to Azure without a person at a terminal."""


def cli_logged_in() -> Tuple[bool, str]:
    """Whether the Azure CLI is installed and logged in (``az account show`` succeeds)."""
    az = shutil.which("az")
    if az is None:
        return False, "Azure CLI: `az` not found"
    try:
        done = subprocess.run([az, "account", "show", "--output", "none"], capture_output=True,
                              timeout=CLI_TIMEOUT_SECONDS, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False, "Azure CLI: `az account show` did not answer"
    return (done.returncode == 0, "Azure CLI: logged in" if done.returncode == 0 else "Azure CLI: not logged in (run `az login`)")


def headless(environ: Mapping[str, str] = os.environ, stdin_isatty: Optional[Callable[[], bool]] = None) -> bool:
    """True when no person can answer a prompt: CI, papermill, or no terminal on stdin."""
    if unattended(environ):
        return True
    isatty = stdin_isatty or (lambda: sys.stdin is not None and sys.stdin.isatty())
    return not isatty()


def resolve(
    environ: Mapping[str, str] = os.environ,
    cli_check: Callable[[], Tuple[bool, str]] = cli_logged_in,
    stdin_isatty: Optional[Callable[[], bool]] = None,
) -> Tuple[Any, str]:
    """Pick the first credential that can work; returns (SDK auth object, what was chosen).

    Raises:
        AuthenticationError: nothing works and no person is at a terminal; lists what was tried.
    """
    tried: List[str] = []
    for tenant_var, client_var, secret_var in SERVICE_PRINCIPAL_VARIABLES:
        values = [environ.get(v) for v in (tenant_var, client_var, secret_var)]
        if all(values):
            logger.info("authenticating with the service principal from %s", client_var)
            auth = sdk.ServicePrincipalAuthentication(
                tenant_id=values[0], service_principal_id=values[1], service_principal_password=values[2]
            )
            return auth, f"service principal ({client_var})"
        if any(values):
            missing = [v for v, value in zip((tenant_var, client_var, secret_var), values) if not value]
            tried.append(f"service principal: {', '.join(missing)} not set")
        else:
            tried.append(f"service principal: {tenant_var}/{client_var}/{secret_var} not set")
    logged_in, why = cli_check()
    if logged_in:
        logger.info("authenticating with the Azure CLI login")
        return sdk.AzureCliAuthentication(), "Azure CLI"
    tried.append(why)
    endpoint = next((v for v in MANAGED_IDENTITY_VARIABLES if environ.get(v)), None)
    if endpoint:
        logger.info("authenticating with the managed identity (%s)", endpoint)
        return sdk.MsiAuthentication(), "managed identity"
    tried.append(f"managed identity: {' / '.join(MANAGED_IDENTITY_VARIABLES)} not set")
    if not headless(environ, stdin_isatty):
        logger.info("authenticating interactively")
        return sdk.InteractiveLoginAuthentication(), "interactive login"
    raise AuthenticationError(
        "no Azure credentials for a headless run (no interactive login without a terminal). Tried: "
        + "; ".join(tried)
        + ". Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), or run `az login`."
    )
