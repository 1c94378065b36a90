"""The local deployment: a real azureml-inference-server-http process, real HTTP on loopback."""

import json
import os
import signal
import socket
import stat
import time

import psutil
import pytest
import requests

import amlpipe
from amlpipe import DeploymentError, ResourceError, ScoringError, ServiceSettings, client

from ..conftest import LESSON_RECORD

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(trained):
    svc = trained["ws"].deploy(trained["model"], ServiceSettings(name="endpoint-test"))
    svc.wait_for_deployment()
    yield svc
    svc.delete()


def post(uri, body, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    return requests.post(uri, data=data, headers=headers, timeout=30, **kwargs)


def port_is_free(port):
    """A new server could listen there (SO_REUSEADDR, as gunicorn binds; TIME_WAIT does not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def gone(pid):
    """The process has exited (a zombie awaiting its parent's wait counts as exited)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_scores_the_lessons_sample(service):
    assert service.state == "Healthy"
    response = post(service.scoring_uri, {"data": [LESSON_RECORD]})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"result": [False]}
    assert service.run(json.dumps({"data": [LESSON_RECORD]})) == {"result": [False]}


def test_batch_predictions_equal_the_registered_models(service, trained, heart_csv):
    import pandas as pd

    frame = pd.read_csv(heart_csv).drop(columns=["DEATH_EVENT"])
    records = frame.to_dict("records")
    answer = client.score(service.scoring_uri, records, method="predict_proba")
    expected = trained["model"].load().predict(frame)
    assert answer["result"] == [bool(v) for v in expected]
    assert len(answer["probabilities"]) == 299


@pytest.mark.parametrize("body, content_type, status, says", [
    ("{not json", "application/json", 400, "not valid JSON"),
    ({"data": [LESSON_RECORD]}, "text/plain", 415, "application/json"),
    ({"rows": [LESSON_RECORD]}, "application/json", 400, "unknown top-level key 'rows'"),
    ({"data": "x"}, "application/json", 400, "'data' must be a list"),
    ({"data": []}, "application/json", 400, "'data' is empty"),
    ({"data": [LESSON_RECORD] * 10001}, "application/json", 413, "at most 10000"),
    ({"data": [{k: v for k, v in LESSON_RECORD.items() if k != "time"}]}, "application/json", 400, "row 0: field 'time' is missing"),
    ({"data": [{**LESSON_RECORD, "bmi": "22"}]}, "application/json", 400, "row 0: unknown field 'bmi'"),
    ({"data": [LESSON_RECORD, {**LESSON_RECORD, "serum_sodium": "low"}]}, "application/json", 400, "row 1, field 'serum_sodium'"),
    ('{"data": [{"age": NaN}]}', "application/json", 400, "NaN is not a valid JSON value"),
    ({"data": [{**LESSON_RECORD, "age": "inf"}]}, "application/json", 400, "row 0, field 'age'"),
    ({"data": [LESSON_RECORD], "method": "shap"}, "application/json", 400, "unknown method 'shap'"),
])
def test_bad_input_is_a_4xx_naming_the_field(service, body, content_type, status, says):
    data = body if isinstance(body, str) else json.dumps(body)
    response = requests.post(service.scoring_uri, data=data, headers={"Content-Type": content_type}, timeout=30)
    assert response.status_code == status
    assert says in response.json()["error"]["message"]


def test_service_run_raises_with_the_servers_message(service):
    with pytest.raises(ScoringError, match="answered 400: row 0, field 'age'") as info:
        service.run({"data": [{**LESSON_RECORD, "age": "sixty"}]})
    assert info.value.status_code == 400


def test_swagger_describes_the_request(service):
    spec = requests.get(service.swagger_uri, timeout=10).json()
    assert spec["definitions"]["Record"]["required"] == list(LESSON_RECORD)
    assert "/score" in spec["paths"]


def test_binds_loopback_only(service):
    server = psutil.Process(service.record.pid)
    addresses = {
        c.laddr.ip
        for p in [server, *server.children(recursive=True)]
        for c in p.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
    }
    assert addresses == {"127.0.0.1"}


def test_found_by_name_from_a_new_connection(service, trained):
    ws = amlpipe.connect(backend="local", workspace_dir=trained["ws"].root)
    again = ws.get_service("endpoint-test")
    assert again.scoring_uri == service.scoring_uri and again.state == "Healthy"
    assert again.model == (trained["model"].name, trained["model"].version)
    assert [s.name for s in ws.list_services()] == ["endpoint-test"]
    with pytest.raises(ResourceError, match="service 'nope' not found"):
        ws.get_service("nope")


def test_keys_when_auth_is_enabled(trained):
    svc = trained["ws"].deploy(trained["model"], ServiceSettings(name="auth-test", auth_enabled=True))
    try:
        svc.wait_for_deployment()
        primary, secondary = svc.get_keys()
        assert primary != secondary and len(primary) >= 32
        assert stat.S_IMODE(os.stat(svc.record.keys_file).st_mode) == 0o600
        assert post(svc.scoring_uri, {"data": [LESSON_RECORD]}).status_code == 401
        for key in (primary, secondary):
            response = post(svc.scoring_uri, {"data": [LESSON_RECORD]}, headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 200
        assert svc.run({"data": [LESSON_RECORD]}) == {"result": [False]}
        with pytest.raises(ScoringError) as info:
            client.post(svc.scoring_uri, {"data": [LESSON_RECORD]}, key="k3y-n0t-valid-123")
        assert info.value.status_code == 401 and "k3y-n0t-valid-123" not in str(info.value)
        assert primary not in svc.get_logs(1000) and secondary not in svc.get_logs(1000)
    finally:
        svc.delete()


def test_no_keys_without_auth(service):
    with pytest.raises(DeploymentError, match="auth_enabled=False"):
        service.get_keys()


def test_killed_server_is_not_healthy_and_delete_frees_the_port(trained):
    svc = trained["ws"].deploy(trained["model"], ServiceSettings(name="kill-test"))
    svc.wait_for_deployment()
    port = svc.port
    assert not port_is_free(port)
    os.killpg(svc.record.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while svc.state == "Healthy" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert svc.state == "Unhealthy"
    with pytest.raises(ScoringError, match="no answer"):
        svc.run({"data": [LESSON_RECORD]}, timeout=2)
    svc.delete()
    assert port_is_free(port)
    with pytest.raises(ResourceError):
        trained["ws"].get_service("kill-test")


def test_delete_stops_a_live_server(trained):
    svc = trained["ws"].deploy(trained["model"], ServiceSettings(name="delete-test"))
    svc.wait_for_deployment()
    pid, port = svc.record.pid, svc.port
    svc.delete()
    assert gone(pid)
    assert port_is_free(port)


def test_two_services_side_by_side_and_redeploy_replaces(trained, service):
    other = trained["ws"].deploy(trained["model"], ServiceSettings(name="second"))
    try:
        other.wait_for_deployment()
        assert other.port != service.port
        assert other.run({"data": [LESSON_RECORD]}) == service.run({"data": [LESSON_RECORD]})
        old_pid = other.record.pid
        replaced = trained["ws"].deploy(trained["model"], ServiceSettings(name="second"))
        replaced.wait_for_deployment()
        assert replaced.record.pid != old_pid and gone(old_pid)
        assert replaced.run({"data": [LESSON_RECORD]}) == {"result": [False]}
    finally:
        trained["ws"].get_service("second").delete()


def test_requested_port_in_use_is_an_error(trained, service):
    with pytest.raises(DeploymentError, match=f"port {service.port} on 127.0.0.1 is in use"):
        trained["ws"].deploy(trained["model"], ServiceSettings(name="clash"), port=service.port)


def test_a_server_that_cannot_start_fails_with_its_log(trained, tmp_path):
    from dataclasses import replace

    broken = replace(trained["model"], path=tmp_path / "empty-model")
    (tmp_path / "empty-model").mkdir()
    (tmp_path / "empty-model" / "metadata.json").write_text("{}")
    svc = trained["ws"].deploy(broken, ServiceSettings(name="broken"))
    try:
        with pytest.raises(DeploymentError, match="(?s)service 'broken' failed.*server log.*model.pkl"):
            svc.wait_for_deployment(timeout_seconds=60)
        assert svc.state == "Failed"
    finally:
        svc.delete()
