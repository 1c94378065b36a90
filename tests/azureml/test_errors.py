"""SDK and network failures become amlpipe errors naming the resource, with the SDK's exception as the cause."""

import pytest
import requests

import amlpipe
from amlpipe import ConfigError, DeploymentError, ResourceError
from amlpipe.backends.azureml import sdk
from amlpipe.backends.azureml.errors import translated


@pytest.mark.parametrize("raised, expected, says", [
    ("ComputeTargetException", ResourceError, "compute 'c': QuotaExceeded"),
    ("WebserviceException", DeploymentError, "compute 'c': QuotaExceeded"),
    ("UserErrorException", ResourceError, "compute 'c': QuotaExceeded"),
    ("AuthenticationException", ConfigError, "authentication failed"),
])
def test_sdk_exceptions_are_translated(cloud, raised, expected, says):
    original = getattr(sdk, raised)("QuotaExceeded: not enough cores\nmore detail")
    with pytest.raises(expected, match=says) as info:
        with translated("compute 'c'"):
            raise original
    assert info.value.__cause__ is original
    assert "more detail" not in str(info.value)  # one line, the rest stays on the cause


def test_network_failures_say_what_to_do(cloud):
    with pytest.raises(ResourceError, match="cannot reach Azure \\(ConnectionError\\); check the network"):
        with translated("workspace 'ws'"):
            raise requests.ConnectionError("Max retries exceeded")


def test_failed_provisioning_names_the_compute_and_the_quota(cloud, azure_config, monkeypatch):
    def refuse(workspace, name, config):
        raise sdk.ComputeTargetException("QuotaExceeded: Standard_D2_v2 cores")

    monkeypatch.setattr(sdk.ComputeTarget, "create", staticmethod(refuse))
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    with pytest.raises(ResourceError, match="compute 'heart-f-cluster': QuotaExceeded.*check the VM size and your quota"):
        ws.get_or_create_compute(amlpipe.ComputeSettings())


def test_missing_model_and_service_are_resource_errors(cloud, azure_config):
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    with pytest.raises(ResourceError, match="model 'nope' is not registered in workspace ws"):
        ws.get_model("nope")
    with pytest.raises(ResourceError, match="service 'nope' not found"):
        ws.get_service("nope")
