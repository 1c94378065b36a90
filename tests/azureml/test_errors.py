"""The SDK's real exceptions become amlpipe errors naming the resource and what to do, with the cause kept."""

import pytest
import requests

import amlpipe
from amlpipe import ConfigError, DeploymentError, ResourceError
from amlpipe.backends.azureml import sdk
from amlpipe.backends.azureml.errors import translated
from amlpipe.cli import main


def sdk_exceptions():
    """One real instance of each family, built as the SDK builds them."""
    from azureml._common._error_definition import AzureMLError
    from azureml._common._error_definition.user_error import ArgumentOutOfRange
    from azureml._restclient.exceptions import ServiceException
    from azureml._restclient.models.error_response import ErrorResponseException
    from azureml._vendor.azure_cli_core.azclierror import AuthenticationError
    from azureml.automl.core.shared.exceptions import AutoMLException, ConfigException
    from azureml.exceptions import (AuthenticationException, ComputeTargetException, ProjectSystemException,
                                    UserErrorException, WebserviceException)
    from msrest import Deserializer
    from requests import Response

    response = Response()
    response.status_code = 403
    response._content = b'{"error": {"code": "AuthorizationFailed", "message": "no role on workspace ws"}}'
    response.headers["Content-Type"] = "application/json"
    rest_error = ErrorResponseException(Deserializer(), response)
    return [
        # a wrong client secret: the vendored azure-cli error raised by aad_error_handler
        (AuthenticationError("AADSTS7000215: Invalid client secret provided.\nTrace ID: 1", recommendation="az login"),
         ConfigError, r"authentication failed: \[.*\] AADSTS7000215: Invalid client secret provided.\nTrace ID: 1"),
        (AuthenticationException("Could not retrieve user token. Please run 'az login'"), ConfigError,
         "authentication failed"),
        (ProjectSystemException("Workspace not found: ws\nResource group rg"), ResourceError,
         "the workspace cannot be opened: .*Workspace not found: ws\nResource group rg.*subscription_id, resource_group"),
        (ServiceException(rest_error), ResourceError, r"Azure ML answered .*\(HTTP 403\).*role on the workspace"),
        (ConfigException._with_error(AzureMLError.create(ArgumentOutOfRange, target="experiment_timeout_hours",
                                                         argument_name="experiment_timeout_hours", min=0.25, max=8760)),
         ConfigError, r"Azure AutoML refused a setting: \[UserError/BadArgument/ArgumentOutOfRange\] .*experiment_timeout_hours"),
        (AutoMLException("Featurization failed: column 'x'"), ResourceError, "Azure AutoML failed: .*column 'x'"),
        (ComputeTargetException("QuotaExceeded: not enough cores\nmore detail"), ResourceError,
         r"\[ComputeTargetException\] QuotaExceeded: not enough cores\nmore detail"),
        (WebserviceException("ACI quota\nmore detail"), DeploymentError, r"\[WebserviceException\] ACI quota\nmore detail"),
        (UserErrorException("Run AutoML_1 not found"), ResourceError, r"\[.*\] Run AutoML_1 not found"),
    ]


@pytest.mark.parametrize("index", range(9))
def test_real_sdk_exceptions_are_translated_with_their_code_message_and_cause(index):
    original, expected, says = sdk_exceptions()[index]
    with pytest.raises(expected, match=f"(?s)^workspace 'ws': {says}") as info:
        with translated("workspace 'ws'"):
            raise original
    assert info.value.__cause__ is original
    assert "ErrorResponse" not in str(info.value)  # the message, not the SDK's JSON dump


def test_network_failures_say_what_to_do():
    with pytest.raises(ResourceError, match="cannot reach Azure \\(ConnectionError\\); check the network"):
        with translated("workspace 'ws'"):
            raise requests.ConnectionError("Max retries exceeded")


@pytest.mark.parametrize("index, kind", [(0, "authentication failed"), (2, "the workspace cannot be opened")])
def test_the_cli_prints_the_error_not_a_traceback(cloud, azure_config, capsys, index, kind):
    cloud.workspace_error = sdk_exceptions()[index][0]
    assert main(["status", "--backend", "azureml", "--config", str(azure_config)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"amlpipe: error: workspace 'ws' from {azure_config}: {kind}")
    assert "Traceback" not in err and "s3cr3t-value" not in err


def test_failed_provisioning_names_the_compute_and_the_quota(cloud, azure_config, monkeypatch):
    def refuse(workspace, name, config):
        raise sdk.ComputeTargetException("QuotaExceeded: Standard_D2_v2 cores")

    monkeypatch.setattr(sdk.ComputeTarget, "create", staticmethod(refuse))
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    with pytest.raises(ResourceError, match="compute 'heart-f-cluster': .*QuotaExceeded.*check the VM size and your quota"):
        ws.get_or_create_compute(amlpipe.ComputeSettings())


def test_missing_model_and_service_are_resource_errors(cloud, azure_config):
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    with pytest.raises(ResourceError, match="model 'nope' is not registered in workspace ws"):
        ws.get_model("nope")
    with pytest.raises(ResourceError, match="service 'nope' not found"):
        ws.get_service("nope")
