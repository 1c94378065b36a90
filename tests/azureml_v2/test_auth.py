"""The v2 credential chain: azure-identity's classes, chosen as the v1 chain chooses; never a prompt headless."""

import json
import subprocess
import sys

import pytest

from amlpipe.backends.azureml_v2 import auth

from ..azureml.test_auth import LOGGED_IN as CLI
from ..azureml.test_auth import NOT_LOGGED_IN as NO_CLI
from ..azureml.test_auth import SP_AZURE, SP_AZUREML

TTY = lambda: True  # noqa: E731
NO_TTY = lambda: False  # noqa: E731


@pytest.mark.parametrize("environ, cli, tty, chosen, credential", [
    (SP_AZURE, NO_CLI, NO_TTY, "service principal (AZURE_CLIENT_ID)", "EnvironmentCredential"),
    (SP_AZUREML, NO_CLI, NO_TTY, "service principal (AZUREML_SERVICE_PRINCIPAL_ID)", "ClientSecretCredential"),
    ({}, CLI, NO_TTY, "Azure CLI", "AzureCliCredential"),
    ({"MSI_ENDPOINT": "http://169.254.169.254/x"}, NO_CLI, NO_TTY, "managed identity", "ManagedIdentityCredential"),
    ({}, NO_CLI, TTY, "interactive login", "InteractiveBrowserCredential"),
])
def test_the_first_working_credential_is_chosen(monkeypatch, environ, cli, tty, chosen, credential):
    for name in (*SP_AZURE, *SP_AZUREML, "MSI_ENDPOINT", "IDENTITY_ENDPOINT", "CI", "AMLPIPE_HEADLESS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)  # EnvironmentCredential reads the process environment itself
    made, method = auth.resolve(environ, cli_check=cli, stdin_isatty=tty)
    assert method == chosen and type(made).__name__ == credential
    assert type(made).__module__.startswith("azure.identity")
    assert auth.describe(environ, cli_check=cli, stdin_isatty=tty)[0] == chosen  # what doctor would report


@pytest.mark.parametrize("environ", [{}, {"CI": "true"}])
def test_headless_without_credentials_is_an_error_not_a_prompt(environ):
    tty = TTY if environ else NO_TTY  # CI=true wins even with a terminal
    with pytest.raises(auth.AuthenticationError) as info:
        auth.resolve(environ, cli_check=NO_CLI, stdin_isatty=tty)
    message = str(info.value)
    assert "service principal" in message and "Azure CLI" in message and "managed identity" in message
    assert "no interactive login without a terminal" in message


def test_a_partial_service_principal_names_what_is_missing():
    with pytest.raises(auth.AuthenticationError, match="AZURE_CLIENT_SECRET not set"):
        auth.resolve({"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"}, cli_check=NO_CLI, stdin_isatty=NO_TTY)


def test_describe_builds_nothing_and_lists_what_it_found():
    chosen, found = auth.describe({}, cli_check=NO_CLI, stdin_isatty=NO_TTY)
    assert chosen is None
    assert found[-1].startswith("interactive login: nobody can answer")
    assert "Azure CLI: `az` not found" in found


def test_import_amlpipe_and_the_backend_load_no_v2_package():
    code = ("import sys, amlpipe, amlpipe.backends.azureml_v2; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'mltable', 'marshmallow') "
            "or m.startswith('azureml.dataprep')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_doctor_reports_the_v2_credential_and_config(tmp_path, monkeypatch):
    from amlpipe import doctor

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"subscription_id": "sub", "resource_group": "rg", "workspace_name": "ws"}))
    for name, value in {**SP_AZURE, "AZURE_CLIENT_SECRET": "s3cr3t-value"}.items():
        monkeypatch.setenv(name, value)
    info = doctor.collect("azureml-v2", str(config), endpoint=("127.0.0.1", 9))  # a closed port: offline
    assert info["backend"] == "azureml-v2" and info["config_file"] == str(config)
    assert info["credential"] == "service principal (AZURE_CLIENT_ID)"
    assert info["workspace"].startswith("ws (resource group rg")
    assert info["workspace_check"].startswith("offline: cannot reach 127.0.0.1:9")
    assert "s3cr3t-value" not in json.dumps(info)


def test_an_unreachable_sign_in_fails_in_about_a_second_not_five(monkeypatch):
    """One retry, not azure-identity's three with back-off (0 + 1.6 + 3.2 s), when login.microsoftonline.com
    cannot be reached (this machine is offline; MSAL's instance discovery goes there first)."""
    import time

    from azure.core.exceptions import ClientAuthenticationError

    for name, value in {**SP_AZURE, "AZURE_CLIENT_SECRET": "s3cr3t-value"}.items():
        monkeypatch.setenv(name, value)
    credential, _ = auth.resolve(dict(SP_AZURE), cli_check=NO_CLI, stdin_isatty=NO_TTY)
    started = time.monotonic()
    with pytest.raises(ClientAuthenticationError) as info:
        credential.get_token("https://management.azure.com/.default")
    assert time.monotonic() - started < 1.5
    assert "s3cr3t-value" not in str(info.value)
