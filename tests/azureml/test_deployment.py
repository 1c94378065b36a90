"""Deployment and scoring never wait without a bound."""

import time

import pytest

import amlpipe
from amlpipe import ScoringError

from ..conftest import LESSON_RECORD


@pytest.fixture
def deployed(cloud, azure_config, heart_csv):
    cloud.add_cluster("heart-f-cluster")
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    run = ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(), ws.register_dataset(heart_csv), None)
    run.wait_for_completion()
    return ws.deploy(run.register_model("m"), amlpipe.ServiceSettings())


def test_the_deployment_wait_has_a_timeout(cloud, deployed):
    from amlpipe.backends.azureml.deployment import DEPLOY_TIMEOUT_SECONDS

    deployed.wait_for_deployment(show_output=True)
    assert cloud.arguments("Webservice.wait_for_deployment") == {"show_output": True, "timeout_sec": DEPLOY_TIMEOUT_SECONDS}
    cloud.calls.clear()
    deployed.wait_for_deployment(timeout_seconds=60)
    assert cloud.arguments("Webservice.wait_for_deployment")["timeout_sec"] == 60


def test_scoring_is_real_http_with_a_timeout(deployed, monkeypatch):
    from .conftest import ScoringHandler

    assert deployed.run({"data": [LESSON_RECORD]}) == {"result": [False]}
    monkeypatch.setattr(ScoringHandler, "do_POST", lambda self: time.sleep(3))  # a service that hangs
    started = time.monotonic()
    with pytest.raises(ScoringError, match="no answer from http://127.0.0.1"):
        deployed.run({"data": [LESSON_RECORD]}, timeout=0.5)
    assert time.monotonic() - started < 2.5


def test_a_refused_request_is_a_scoring_error_with_the_status(deployed):
    with pytest.raises(ScoringError, match="answered 400: field 'data' is missing") as info:
        deployed.run({"method": "predict"})
    assert info.value.status_code == 400
