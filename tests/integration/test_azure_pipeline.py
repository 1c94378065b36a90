"""The notebooks on a real Azure ML workspace. Skipped unless credentials are given:

    AMLPIPE_AZURE_CONFIG=/path/to/config.json \\
    AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=... \\
    .venv/bin/python -m pytest -m azure tests/integration

It runs once per Azure backend: ``azureml`` (SDK v1: ACI) and ``azureml-v2`` (SDK v2: a managed
online endpoint; reading run metrics needs ``pip install azureml-mlflow`` too). Each provisions the
lesson's cluster, runs AutoML for 15 minutes, deploys and deletes the service at the end (the
cluster stays; it scales to its minimum node count).
"""

import os
import subprocess
import sys

import pytest

from amlpipe.notebook import read_records

pytestmark = pytest.mark.azure

CREDENTIALS = ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")


@pytest.fixture(scope="module", params=["azureml", "azureml-v2"])
def azure_run(request, tmp_path_factory):
    config = os.environ.get("AMLPIPE_AZURE_CONFIG")
    if not config or not all(os.environ.get(v) for v in CREDENTIALS):
        pytest.skip("no Azure workspace: set AMLPIPE_AZURE_CONFIG and AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET")
    output = tmp_path_factory.mktemp("azure") / "executed"
    result = subprocess.run(
        [sys.executable, "-m", "amlpipe", "run", "--backend", request.param, "--config", config,
         "--budget-minutes", "15", "--output", str(output), "--cleanup"],
        capture_output=True, text=True, timeout=3 * 3600, env={**os.environ, "CI": "true"},
    )
    return result, output, request.param


def test_the_notebooks_run_unchanged_on_azure(azure_run):
    result, output, backend = azure_run
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_records(output / "01_setup.ipynb")["backend"] == backend
    assert read_records(output / "03_train.ipynb")["status"] == "Completed"
    assert read_records(output / "04_register.ipynb")["model_version"] >= 1
    assert read_records(output / "05_deploy.ipynb")["state"] == "Healthy"
    consume = read_records(output / "06_consume.ipynb")
    assert consume["answer"]["result"] in ([False], [True])
    assert consume["bad_status"] == 400


def test_no_secret_in_the_executed_notebooks(azure_run):
    _, output, _ = azure_run
    for path in output.glob("*.ipynb"):
        text = path.read_text()
        assert os.environ["AZURE_CLIENT_SECRET"] not in text
