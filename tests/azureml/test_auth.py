"""The auth chain's choice for each environment; never a prompt without a terminal."""

import pytest

from amlpipe.backends.azureml import auth

SP_AZUREML = {"AZUREML_SERVICE_PRINCIPAL_TENANT_ID": "t", "AZUREML_SERVICE_PRINCIPAL_ID": "c",
              "AZUREML_SERVICE_PRINCIPAL_PASSWORD": "p"}
SP_AZURE = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "p"}
NO_CLI = lambda: (False, "Azure CLI: `az` not found")  # noqa: E731
CLI = lambda: (True, "Azure CLI: logged in")  # noqa: E731
TTY = lambda: True  # noqa: E731
NO_TTY = lambda: False  # noqa: E731


@pytest.mark.parametrize("environ, cli, tty, chosen", [
    (SP_AZUREML, NO_CLI, NO_TTY, "service principal (AZUREML_SERVICE_PRINCIPAL_ID)"),
    (SP_AZURE, NO_CLI, NO_TTY, "service principal (AZURE_CLIENT_ID)"),
    ({**SP_AZURE, **SP_AZUREML}, CLI, TTY, "service principal (AZUREML_SERVICE_PRINCIPAL_ID)"),
    ({}, CLI, NO_TTY, "Azure CLI"),
    ({"MSI_ENDPOINT": "http://169.254.169.254/x"}, NO_CLI, NO_TTY, "managed identity"),
    ({"IDENTITY_ENDPOINT": "http://localhost:1/x"}, NO_CLI, NO_TTY, "managed identity"),
    ({}, NO_CLI, TTY, "interactive login"),
])
def test_the_first_working_credential_is_chosen(cloud, environ, cli, tty, chosen):
    _, method = auth.resolve(environ, cli, tty)
    assert method == chosen
    assert cloud.names()[-1] == {
        "Azure CLI": "AzureCliAuthentication", "managed identity": "MsiAuthentication",
        "interactive login": "InteractiveLoginAuthentication",
    }.get(chosen, "ServicePrincipalAuthentication")


@pytest.mark.parametrize("environ", [{}, {"CI": "true"}])
def test_headless_without_credentials_is_an_error_not_a_prompt(cloud, environ):
    tty = TTY if environ else NO_TTY  # CI=true wins even with a terminal
    with pytest.raises(auth.AuthenticationError) as info:
        auth.resolve(environ, NO_CLI, tty)
    message = str(info.value)
    assert "service principal" in message and "Azure CLI" in message and "managed identity" in message
    assert "no interactive login without a terminal" in message
    assert "InteractiveLoginAuthentication" not in cloud.names()


def test_a_partial_service_principal_names_what_is_missing(cloud):
    with pytest.raises(auth.AuthenticationError, match="AZURE_CLIENT_SECRET not set"):
        auth.resolve({"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"}, NO_CLI, NO_TTY)


def test_the_secret_is_passed_to_the_sdk_and_nowhere_else(cloud, caplog):
    caplog.set_level("DEBUG")
    auth.resolve({**SP_AZURE, "AZURE_CLIENT_SECRET": "very-secret-9"}, NO_CLI, NO_TTY)
    assert "very-secret-9" not in caplog.text
    assert cloud.arguments("ServicePrincipalAuthentication") == {
        "arguments": ["service_principal_id", "service_principal_password", "tenant_id"]}
