import json

import pytest

from amlpipe.backends.azureml_v2 import sdk

from . import fake_cloud


@pytest.fixture
def cloud(tmp_path, monkeypatch):
    """The fake Azure behind `MLClient`; every other SDK name stays real."""
    state = fake_cloud.Cloud(tmp_path / "cloud")
    monkeypatch.setattr(sdk, "MLClient", sdk.MLClient)  # undone after the test
    fake_cloud.install(state, sdk)
    yield state
    state.stop_servers()


@pytest.fixture
def azure_config(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"subscription_id": "sub", "resource_group": "rg", "workspace_name": "ws"}))
    monkeypatch.setenv("AZURE_TENANT_ID", "tenant")
    monkeypatch.setenv("AZURE_CLIENT_ID", "client")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "s3cr3t-value")
    return path
