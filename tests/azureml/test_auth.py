"""The auth chain's choice in each environment; never a prompt, a hang or a secret in the output."""

import functools
import json
import time
from http.server import BaseHTTPRequestHandler
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest

from amlpipe.backends.azureml import auth

from .conftest import _Quiet, serve

SP_AZUREML = {"AZUREML_SERVICE_PRINCIPAL_TENANT_ID": "t", "AZUREML_SERVICE_PRINCIPAL_ID": "c",
              "AZUREML_SERVICE_PRINCIPAL_PASSWORD": "p"}
SP_AZURE = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "p"}
LOGGED_IN = lambda: (True, "Azure CLI: logged in")  # noqa: E731
NOT_LOGGED_IN = lambda: (False, "Azure CLI: `az` not found")  # noqa: E731
NO_IDENTITY = lambda environ: (False, "managed identity: IMDS did not answer")  # noqa: E731
IDENTITY = lambda environ: (True, "managed identity: IMDS gives a token")  # noqa: E731
PERSON = SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=True))  # JupyterLab, Notebook, VS Code
PAPERMILL = SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=False))  # nbclient never allows stdin


def chain(environ, cli=NOT_LOGGED_IN, identity=NO_IDENTITY, shell=None, tty=False, **more):
    return auth.resolve(environ, cli_check=cli, identity_probe=identity, shell=shell, stdin_isatty=lambda: tty, **more)


class TokenEndpoint(_Quiet, BaseHTTPRequestHandler):
    """IMDS (GET) or an MSI_ENDPOINT (POST) on loopback; ``delay`` seconds before answering."""

    seen: list = []
    delay = 0.0
    status = 200

    def _answer(self, fields):
        TokenEndpoint.seen.append({"method": self.command, "fields": fields, "metadata": self.headers.get("Metadata")})
        time.sleep(TokenEndpoint.delay)
        body = json.dumps({"access_token": "token-value-never-shown", "token_type": "Bearer", "expires_on": "1"}).encode()
        self.send_response(TokenEndpoint.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._answer({k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()})

    def do_POST(self):
        self._answer({k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()})


@pytest.fixture
def token_endpoint():
    TokenEndpoint.seen, TokenEndpoint.delay, TokenEndpoint.status = [], 0.0, 200
    server = serve(TokenEndpoint)
    yield f"http://127.0.0.1:{server.server_address[1]}/metadata/identity/oauth2/token"
    TokenEndpoint.delay = 0.0
    server.shutdown()


@pytest.mark.parametrize("environ, cli, identity, shell, chosen", [
    (SP_AZUREML, NOT_LOGGED_IN, NO_IDENTITY, None, "service principal (AZUREML_SERVICE_PRINCIPAL_ID)"),
    (SP_AZURE, NOT_LOGGED_IN, NO_IDENTITY, None, "service principal (AZURE_CLIENT_ID)"),
    ({**SP_AZURE, **SP_AZUREML}, LOGGED_IN, IDENTITY, PERSON, "service principal (AZUREML_SERVICE_PRINCIPAL_ID)"),
    ({}, LOGGED_IN, IDENTITY, None, "Azure CLI"),
    ({}, NOT_LOGGED_IN, IDENTITY, None, "managed identity"),
    ({}, NOT_LOGGED_IN, NO_IDENTITY, PERSON, "interactive login"),
])
def test_the_first_working_credential_is_chosen(cloud, environ, cli, identity, shell, chosen):
    cloud.cli_supported = True
    _, method = chain(environ, cli, identity, shell)
    assert method == chosen
    assert cloud.names()[-1] == {
        "Azure CLI": "AzureCliAuthentication", "managed identity": "MsiAuthentication",
        "interactive login": "InteractiveLoginAuthentication",
    }.get(chosen, "ServicePrincipalAuthentication")


def test_az_login_without_the_sdks_cli_support_goes_on_to_the_next_step(cloud):
    """`AzureCliAuthentication()` raises when azure-cli is not in this Python environment: not a crash, the next step."""
    cloud.cli_supported = False
    _, method = chain({}, LOGGED_IN, IDENTITY)
    assert method == "managed identity"
    with pytest.raises(auth.AuthenticationError, match="Azure CLI: the SDK cannot use it here .azure-cli package is not installed"):
        chain({}, LOGGED_IN, NO_IDENTITY)


def test_the_real_sdk_decides_whether_the_cli_can_be_used():
    """No fake: the real AzureCliAuthentication refuses unless azure-cli is in this Python environment."""
    import importlib.util

    cli_installed = importlib.util.find_spec("azure.cli") is not None
    supported, why = auth.sdk_cli_support()
    assert supported is cli_installed
    if not cli_installed:  # this project's environment: azure-cli is not a dependency
        assert "azure-cli package is not installed" in why


def test_managed_identity_is_probed_with_the_user_assigned_client_id(cloud, token_endpoint):
    probe = functools.partial(auth.probe_managed_identity, imds_url=token_endpoint)
    _, method = chain({"DEFAULT_IDENTITY_CLIENT_ID": "1111-client"}, identity=probe)
    assert method == "managed identity"
    assert TokenEndpoint.seen == [{"method": "GET", "metadata": "true", "fields": {
        "resource": "https://management.core.windows.net/", "api-version": "2018-02-01", "client_id": "1111-client"}}]
    assert cloud.arguments("MsiAuthentication")["identity_config"] == {"client_id": "1111-client"}


def test_msi_endpoint_is_probed_where_the_sdk_would_ask(cloud, token_endpoint):
    probe = functools.partial(auth.probe_managed_identity, imds_url="http://127.0.0.1:9/never-used")
    _, method = chain({"MSI_ENDPOINT": token_endpoint}, identity=probe)
    assert method == "managed identity"
    assert TokenEndpoint.seen[0]["method"] == "POST" and "client_id" not in TokenEndpoint.seen[0]["fields"]
    assert cloud.arguments("MsiAuthentication")["identity_config"] is None  # system-assigned


def test_a_silent_identity_endpoint_does_not_hang_the_chain(cloud, token_endpoint):
    TokenEndpoint.delay = 5.0
    probe = functools.partial(auth.probe_managed_identity, imds_url=token_endpoint, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(auth.AuthenticationError, match="IMDS did not answer within 0.5 s"):
        chain({}, identity=probe)
    assert time.monotonic() - started < 3


def test_identity_endpoint_alone_is_not_what_the_sdk_uses(cloud):
    probe = functools.partial(auth.probe_managed_identity, imds_url="http://127.0.0.1:9/closed", timeout=0.5)
    with pytest.raises(auth.AuthenticationError, match="SDK v1 uses only MSI_ENDPOINT or IMDS"):
        chain({"IDENTITY_ENDPOINT": "http://127.0.0.1:9/x"}, identity=probe)


@pytest.mark.parametrize("environ, shell, tty", [
    ({}, PAPERMILL, True),  # papermill's kernel: stdin may be anything, nobody answers
    ({"CI": "true"}, PERSON, True),  # CI wins even in a person's kernel
    ({}, None, False),  # a script without a terminal
])
def test_headless_without_credentials_is_an_error_not_a_prompt(cloud, environ, shell, tty):
    with pytest.raises(auth.AuthenticationError) as info:
        chain(environ, shell=shell, tty=tty)
    message = str(info.value)
    assert "service principal" in message and "Azure CLI" in message and "managed identity" in message
    assert "no interactive login without a person to answer" in message
    assert "InteractiveLoginAuthentication" not in cloud.names()


def test_a_person_in_a_notebook_gets_the_interactive_login_though_stdin_is_a_pipe(cloud):
    _, method = chain({}, shell=PERSON, tty=False)
    assert method == "interactive login"


def test_a_partial_service_principal_names_what_is_missing(cloud):
    with pytest.raises(auth.AuthenticationError, match="AZURE_CLIENT_SECRET not set"):
        chain({"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"})


def test_no_secret_in_any_output(cloud, caplog, token_endpoint):
    caplog.set_level("DEBUG")
    chain({**SP_AZURE, "AZURE_CLIENT_SECRET": "very-secret-9"})
    assert "very-secret-9" not in caplog.text
    assert cloud.arguments("ServicePrincipalAuthentication") == {
        "arguments": ["service_principal_id", "service_principal_password", "tenant_id"], "identity_config": None}
    probe = functools.partial(auth.probe_managed_identity, imds_url=token_endpoint)
    chosen, tried = auth.describe({"AZURE_TENANT_ID": "t", "AZURE_CLIENT_SECRET": "very-secret-9"}, cli_check=NOT_LOGGED_IN,
                                  identity_probe=probe, shell=None, stdin_isatty=lambda: False)
    assert chosen == "managed identity"
    assert "very-secret-9" not in repr(tried) and "token-value-never-shown" not in repr(tried) + caplog.text
