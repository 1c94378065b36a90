"""Azure authentication that never hangs a headless run.

The chain, first that can work wins:

1. a service principal from environment variables;
2. the Azure CLI login, only when the SDK can use it: `AzureCliAuthentication` needs the
   azure-cli package inside this Python environment and refuses to be built otherwise;
3. a managed identity, only when its token endpoint answers a short probe (the SDK's
   `MsiAuthentication` asks ``MSI_ENDPOINT`` when set, else IMDS, without a timeout);
   a user-assigned identity by its client id (``DEFAULT_IDENTITY_CLIENT_ID`` on a compute
   instance, or ``AZURE_CLIENT_ID`` without a secret);
4. an interactive login, only when a person can answer (see `amlpipe.environment.headless`);
   `InteractiveLoginAuthentication` reuses the Azure CLI's token cache when it can.

Without a person (papermill, CI) there is never a prompt: a clear error lists what was tried.
Secrets are read from the environment and handed to the SDK only; they never appear in
logs, errors or notebooks. `describe` says which step would be used, without building
any credential (for `amlpipe doctor`).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any, Callable, Iterable, List, Mapping, Optional, Tuple

from ...environment import headless
from ...errors import ConfigError
from . import sdk

logger = logging.getLogger(__name__)

# (tenant, client id, secret) variable names, in the order they are tried.
SERVICE_PRINCIPAL_VARIABLES = (
    ("AZUREML_SERVICE_PRINCIPAL_TENANT_ID", "AZUREML_SERVICE_PRINCIPAL_ID", "AZUREML_SERVICE_PRINCIPAL_PASSWORD"),
    ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"),
)
# The token endpoint msrestazure's MSIAuthentication calls when MSI_ENDPOINT is not set.
IMDS_TOKEN_URL = "http://169.254.169.254/metadata/identity/oauth2/token"
ARM_RESOURCE = "https://management.core.windows.net/"
PROBE_TIMEOUT_SECONDS = 2.0
CLI_TIMEOUT_SECONDS = 20


class AuthenticationError(ConfigError):
    """No way to authenticate to Azure without a person to log in."""


@dataclass(frozen=True)
class Step:
    """One step of the chain: whether it can be used, and a line saying why (no secret in it)."""

    name: str
    usable: bool
    why: str
    build: Optional[Callable[[], Any]] = None


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


def sdk_cli_support() -> Tuple[bool, str]:
    """Whether `AzureCliAuthentication` can be built here (its constructor checks for azure-cli>=2.30)."""
    try:
        sdk.AzureCliAuthentication()
    except sdk.AuthenticationException as exc:
        return False, f"Azure CLI: the SDK cannot use it here ({sdk_message(exc)})"
    return True, "Azure CLI: the SDK can use it"


def sdk_message(exc: BaseException) -> str:
    """The SDK exception's own message, without its multi-line JSON dump."""
    return str(getattr(exc, "message", None) or getattr(exc, "error_msg", None) or exc).strip()


def identity_client_id(environ: Mapping[str, str]) -> Tuple[Optional[str], str]:
    """The client id of a user-assigned managed identity, and the variable it came from."""
    if environ.get("DEFAULT_IDENTITY_CLIENT_ID"):
        return environ["DEFAULT_IDENTITY_CLIENT_ID"], "DEFAULT_IDENTITY_CLIENT_ID"
    if environ.get("AZURE_CLIENT_ID") and not environ.get("AZURE_CLIENT_SECRET"):
        return environ["AZURE_CLIENT_ID"], "AZURE_CLIENT_ID"
    return None, ""


def probe_managed_identity(environ: Mapping[str, str], imds_url: Optional[str] = None,
                           timeout: float = PROBE_TIMEOUT_SECONDS) -> Tuple[bool, str]:
    """Ask the token endpoint the SDK would use, once, with a short timeout; the token is dropped.

    msrestazure posts to ``MSI_ENDPOINT`` when it is set and otherwise calls IMDS; it knows
    nothing of ``IDENTITY_ENDPOINT``.
    """
    import requests

    imds_url = imds_url or IMDS_TOKEN_URL
    client_id, source = identity_client_id(environ)
    who = f"user-assigned identity from {source}" if client_id else "system-assigned identity"
    extra = {"client_id": client_id} if client_id else {}
    if environ.get("MSI_ENDPOINT"):
        where = "MSI_ENDPOINT"
        call = lambda: requests.post(environ["MSI_ENDPOINT"], data={"resource": ARM_RESOURCE, **extra},  # noqa: E731
                                     headers={"Metadata": "true"}, timeout=timeout)
    else:
        where = "IMDS"
        call = lambda: requests.get(imds_url, params={"resource": ARM_RESOURCE, "api-version": "2018-02-01", **extra},  # noqa: E731
                                    headers={"Metadata": "true"}, timeout=timeout)
    try:
        answer = call()
    except requests.RequestException as exc:
        note = " (IDENTITY_ENDPOINT is set, but SDK v1 uses only MSI_ENDPOINT or IMDS)" if environ.get("IDENTITY_ENDPOINT") else ""
        return False, f"managed identity: {where} did not answer within {timeout:g} s ({type(exc).__name__}){note}"
    if answer.status_code != 200:
        return False, f"managed identity: {where} answered {answer.status_code} for the {who}"
    return True, f"managed identity: {where} gives a token for the {who}"


def steps(environ: Mapping[str, str] = os.environ,
          cli_check: Callable[[], Tuple[bool, str]] = cli_logged_in,
          cli_support: Callable[[], Tuple[bool, str]] = sdk_cli_support,
          identity_probe: Callable[[Mapping[str, str]], Tuple[bool, str]] = probe_managed_identity,
          stdin_isatty: Optional[Callable[[], bool]] = None,
          shell: Any = "detect"):
    """The chain's steps in order, each checked only when the ones before it cannot be used (a generator)."""
    for tenant_var, client_var, secret_var in SERVICE_PRINCIPAL_VARIABLES:
        names = (tenant_var, client_var, secret_var)
        values = [environ.get(v) for v in names]
        if all(values):
            yield Step(f"service principal ({client_var})", True, f"service principal: {client_var} and its secret are set",
                       lambda values=values: sdk.ServicePrincipalAuthentication(
                           tenant_id=values[0], service_principal_id=values[1], service_principal_password=values[2]))
        elif any(values):
            missing = [v for v, value in zip(names, values) if not value]
            yield Step("service principal", False, f"service principal: {', '.join(missing)} not set")
        else:
            yield Step("service principal", False, f"service principal: {tenant_var}/{client_var}/{secret_var} not set")
    supported, why = cli_support()
    if supported:
        logged_in, why = cli_check()
        yield Step("Azure CLI", logged_in, why, sdk.AzureCliAuthentication)
    else:
        yield Step("Azure CLI", False, why)
    reachable, why = identity_probe(environ)
    client_id, _ = identity_client_id(environ)
    config = {"identity_config": {"client_id": client_id}} if client_id else {}
    yield Step("managed identity", reachable, why, lambda: sdk.MsiAuthentication(**config))
    if headless(environ, stdin_isatty, shell):
        yield Step("interactive login", False, "interactive login: nobody can answer a prompt here (CI, papermill or no terminal)")
    else:
        yield Step("interactive login", True, "interactive login: a person can answer", sdk.InteractiveLoginAuthentication)


def first_usable(chain: Iterable[Step]) -> Tuple[Optional[Step], List[str]]:
    """The first usable step of ``chain`` (None when none) and why of each step looked at; builds nothing."""
    tried: List[str] = []
    for step in chain:
        tried.append(step.why)
        if step.usable:
            return step, tried
    return None, tried


def describe(environ: Mapping[str, str] = os.environ, **checks) -> Tuple[Optional[str], List[str]]:
    """Which step the chain would use (None when none) and what was found on the way; builds nothing."""
    step, tried = first_usable(steps(environ, **checks))
    return (step.name if step else None), tried


def resolve(environ: Mapping[str, str] = os.environ, **checks) -> Tuple[Any, str]:
    """Pick the first credential that can work; returns (SDK auth object, what was chosen).

    Args:
        environ: The environment variables to read.
        checks: Overrides of `steps`' checks (``cli_check``, ``cli_support``, ``identity_probe``,
            ``stdin_isatty``, ``shell``), for tests and `amlpipe doctor`.

    Raises:
        AuthenticationError: nothing works and nobody can log in interactively; lists what was tried.
    """
    step, tried = first_usable(steps(environ, **checks))
    if step is not None:
        logger.info("authenticating with %s", step.name)
        return step.build(), step.name
    raise AuthenticationError(
        "no Azure credentials for a headless run (no interactive login without a person to answer). Tried: "
        + "; ".join(tried)
        + ". Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a service principal), "
        "run `az login` with azure-cli installed in this environment, or use a managed identity."
    )
