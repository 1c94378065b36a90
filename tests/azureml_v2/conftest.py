import contextlib
import json

import pytest

from amlpipe.backends.azureml_v2 import sdk

from . import fake_cloud

CREDENTIALS = {"AZURE_TENANT_ID": "tenant", "AZURE_CLIENT_ID": "client", "AZURE_CLIENT_SECRET": "s3cr3t-value"}


@contextlib.contextmanager
def fake_azure(root):
    """The fake Azure behind `MLClient` (every other SDK name stays real), a config.json and a service principal."""
    cloud = fake_cloud.Cloud(root / "cloud")
    config = root / "config.json"
    config.write_text(json.dumps({"subscription_id": "sub", "resource_group": "rg", "workspace_name": "ws"}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sdk, "MLClient", sdk.MLClient)  # undone on exit
        for name, value in CREDENTIALS.items():
            patch.setenv(name, value)
        fake_cloud.install(cloud, sdk)
        try:
            yield cloud, config
        finally:
            cloud.stop_servers()


@pytest.fixture
def cloud_and_config(tmp_path):
    with fake_azure(tmp_path) as made:
        yield made


@pytest.fixture
def cloud(cloud_and_config):
    return cloud_and_config[0]


@pytest.fixture
def azure_config(cloud_and_config):
    return cloud_and_config[1]
