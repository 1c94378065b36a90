import json

import pytest

from amlpipe.backends.azureml import sdk

from . import fake_sdk


@pytest.fixture
def cloud(monkeypatch):
    """The fake Azure: every SDK name the backend uses, recording its calls."""
    state = fake_sdk.Cloud()
    for name, fake in fake_sdk.build(state).items():
        monkeypatch.setattr(sdk, name, fake, raising=False)
    return state


@pytest.fixture
def azure_config(tmp_path, monkeypatch):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"subscription_id": "sub", "resource_group": "rg", "workspace_name": "ws"}))
    monkeypatch.setenv("AZURE_TENANT_ID", "tenant")
    monkeypatch.setenv("AZURE_CLIENT_ID", "client")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "s3cr3t-value")
    return path
