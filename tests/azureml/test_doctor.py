"""`amlpipe doctor`: what a person or CI checks before spending money, offline within seconds, no secret."""

import json
import socket
import time

import pytest

from amlpipe import doctor
from amlpipe.backends.azureml import auth
from amlpipe.cli import main


@pytest.fixture
def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.fixture
def offline(monkeypatch, closed_port):
    monkeypatch.setattr(doctor, "AZURE_ENDPOINT", ("127.0.0.1", closed_port))
    monkeypatch.setattr(auth, "IMDS_TOKEN_URL", f"http://127.0.0.1:{closed_port}/metadata/identity/oauth2/token")


def test_offline_azureml_preflight_in_json(cloud, azure_config, offline, capsys):
    started = time.monotonic()
    assert main(["doctor", "--backend", "azureml", "--config", str(azure_config), "--json"]) == 0
    took = time.monotonic() - started
    out = capsys.readouterr().out
    info = json.loads(out)
    assert info["backend"] == "azureml" and info["config_file"] == str(azure_config)
    assert info["credential"] == "service principal (AZURE_CLIENT_ID)"
    assert info["budget_floor_minutes"] == 15 and info["budget_minutes_default"] == 20
    assert (info["compute"], info["service"]) == ("heart-f-cluster", "automl-hf-sdk")
    assert info["workspace_check"].startswith("offline: cannot reach 127.0.0.1")
    assert info["versions"]["azureml-core"] and info["versions"]["python"]
    assert "s3cr3t-value" not in out
    assert took < 10  # under contention; offline means seconds, not a hang


def test_without_credentials_it_says_what_it_tried(cloud, azure_config, offline, monkeypatch, capsys):
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("CI", "true")
    assert main(["doctor", "--config", str(azure_config)]) == 0
    out = capsys.readouterr().out
    assert "credential   none usable" in out
    assert "Azure CLI: the SDK cannot use it here" in out and "managed identity: IMDS did not answer" in out
    assert "check        offline" in out


def test_online_it_opens_the_workspace(cloud, azure_config, monkeypatch):
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    monkeypatch.setattr(doctor, "AZURE_ENDPOINT", listening.getsockname())
    try:
        info = doctor.collect("azureml", str(azure_config))
    finally:
        listening.close()
    assert info["workspace_check"] == "workspace ws answers"
    assert "Workspace.from_config" in cloud.names()


def test_local_backend_preflight(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["doctor", "--backend", "local"]) == 0
    out = capsys.readouterr().out
    assert "backend      local" in out and "no floor" in out and "credential" not in out
