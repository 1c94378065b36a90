"""The local endpoint under attack and carelessness: real server processes, raw HTTP on loopback.

No request gets a 500 or an answer without the contract's error body; a slow client stalls
nothing; stopping a service stops all of its processes, even with a corrupt record.
"""

import json
import os
import signal
import socket
import time

import psutil
import pytest
import requests
from hypothesis import HealthCheck, given, settings, strategies as st

import amlpipe
from amlpipe import DeploymentError, ServiceSettings

from ..conftest import LESSON_RECORD
from .test_endpoint import gone, port_is_free

pytestmark = pytest.mark.slow

READ_TIMEOUT = 2  # seconds; the service reads this from AMLPIPE_READ_TIMEOUT_SECONDS when it starts


@pytest.fixture(scope="module")
def service(trained):
    os.environ["AMLPIPE_READ_TIMEOUT_SECONDS"] = str(READ_TIMEOUT)
    try:
        svc = trained["ws"].deploy(trained["model"], ServiceSettings(name="hardening-test"))
        svc.wait_for_deployment()
    finally:
        del os.environ["AMLPIPE_READ_TIMEOUT_SECONDS"]
    yield svc
    svc.delete()


def raw(port, data, timeout=10.0):
    """Send raw bytes, return (status, decoded JSON body) of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return read_answer(s)


def read_answer(s):
    answer = b""
    while b"\r\n\r\n" not in answer or len(answer.split(b"\r\n\r\n", 1)[1]) < _length(answer):
        chunk = s.recv(65536)
        if not chunk:
            break
        answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def _length(answer):
    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def assert_contract_error(status, body, expected_status):
    assert status == expected_status, body
    assert set(body) == {"error"} and isinstance(body["error"]["message"], str) and body["error"]["message"]


@pytest.mark.parametrize("request_bytes, status", [
    (b"POST /score HTTP/1.1\r\nHo st: x\r\n\r\n", 400),  # gunicorn: bad header name (was HTML)
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 400),  # gunicorn: request line too long (was HTML)
    (b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404),  # Flask: unknown route (was {"message"})
    (b"PUT /score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),  # Flask: method (was {"message"})
    (b"DELETE /score HTTP/1.1\r\nHost: x\r\n\r\n", 405),
    (b"PATCH /score HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", 405),
    (b"GET /score HTTP/1.1\r\nHost: x\r\n\r\n", 405),
    (b"POST /score HTTP/1.1\r\nHost: x\r\nx-request-id: " + b"a" * 200 + b"\r\nContent-Length: 2\r\n\r\n{}", 431),
])
def test_every_4xx_carries_the_contract_error_body(service, request_bytes, status):
    assert_contract_error(*raw(service.port, request_bytes), status)


def test_what_used_to_be_500s_are_400s_in_the_contract_body(service):
    huge = json.dumps({"data": [{**LESSON_RECORD, "age": 10 ** 400}]}).encode()
    status, body = raw(service.port, b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n%s" % (len(huge), huge))
    assert_contract_error(status, body, 400)
    assert (body["error"]["row"], body["error"]["field"]) == (0, "age")
    deep = b'{"data": [' + b"[" * 2000 + b"]" * 2000 + b"]}"
    response = requests.post(service.scoring_uri, data=deep, headers={"Content-Type": "application/json"}, timeout=30)
    assert_contract_error(response.status_code, response.json(), 400)
    chunked = (b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"zz\r\nabc\r\n0\r\n\r\n")
    assert_contract_error(*raw(service.port, chunked), 400)


def test_an_oversized_body_is_refused_by_its_length_before_it_is_read(service):
    # Only the headers are sent: the 413 must come back without the server waiting for 80 MB.
    status, body = raw(service.port, b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                       b"Content-Length: 83886080\r\n\r\n{", timeout=READ_TIMEOUT / 2)
    assert_contract_error(status, body, 413)
    assert "83886080 bytes" in body["error"]["message"]


def test_an_oversized_chunked_body_is_refused_while_it_is_read(service):
    def chunks():
        yield b'{"data": ["'
        for _ in range(200):
            yield b"x" * 65536
        yield b'"]}'

    response = requests.post(service.scoring_uri, data=chunks(), headers={"Content-Type": "application/json"}, timeout=30)
    assert_contract_error(response.status_code, response.json(), 413)


def test_a_slow_client_stalls_nothing_and_gets_a_408(service):
    with socket.create_connection(("127.0.0.1", service.port)) as slow:
        slow.sendall(b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"")
        started = time.monotonic()
        assert requests.get(f"http://127.0.0.1:{service.port}/", timeout=READ_TIMEOUT).status_code == 200
        assert service.run({"data": [LESSON_RECORD]}, timeout=READ_TIMEOUT) == {"result": [False]}
        assert time.monotonic() - started < READ_TIMEOUT  # answered while the slow client still held its request
        slow.settimeout(READ_TIMEOUT * 5)
        status, body = read_answer(slow)
    assert_contract_error(status, body, 408)
    assert body["error"]["message"].startswith("the body stopped arriving")


def test_the_server_log_holds_no_traceback_after_start(service):
    service.run({"data": [LESSON_RECORD]})
    log = service.get_logs(10_000)
    assert "Worker with pid" in log  # the log is the server's
    assert "Traceback" not in log and "NotADirectoryError" not in log


record = st.fixed_dictionaries({}, optional={k: st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10 ** 400), max_value=10 ** 400), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["60", "1_000", "\u0663", "1e308", "true", " 1", "-0", "1e-400"]),
    st.lists(st.integers(), max_size=2)) for k in LESSON_RECORD})
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)
requests_ = st.one_of(
    st.builds(lambda rows, method: {"data": rows, "method": method},
              st.lists(st.one_of(record, st.just(LESSON_RECORD), json_values), max_size=4),
              st.sampled_from(["predict", "predict_proba", "explain", 3])),
    json_values,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=requests_, as_bytes=st.binary(max_size=40), raw_body=st.booleans())
def test_fuzzed_requests_get_a_200_or_a_4xx_in_the_contract(service, payload, as_bytes, raw_body):
    data = as_bytes if raw_body else json.dumps(payload).encode()
    response = requests.post(service.scoring_uri, data=data, headers={"Content-Type": "application/json"}, timeout=30)
    body = response.json()
    if response.status_code == 200:
        assert isinstance(body["result"], list) and len(body["result"]) == len(payload["data"])
    else:
        assert 400 <= response.status_code < 500
        assert set(body) == {"error"} and body["error"]["message"]


def test_delete_stops_the_workers_of_a_killed_master_and_frees_the_port(trained):
    svc = trained["ws"].deploy(trained["model"], ServiceSettings(name="orphan-test"))
    svc.wait_for_deployment()
    workers = psutil.Process(svc.record.pid).children()
    assert workers
    os.kill(svc.record.pid, signal.SIGKILL)  # the master only: its worker is left behind
    svc.delete()
    assert all(gone(w.pid) for w in workers)
    assert port_is_free(svc.port)


def test_down_stops_the_server_of_a_corrupt_record_and_other_services_stay_listed(trained, service):
    ws = trained["ws"]
    svc = ws.deploy(trained["model"], ServiceSettings(name="corrupt-test"))
    svc.wait_for_deployment()
    pid, port = svc.record.pid, svc.port
    (ws.root / "services" / "corrupt-test.json").write_bytes(b"\x89PNG\x00\xff")
    fresh = amlpipe.connect(backend="local", workspace_dir=ws.root)
    assert {s.name: s.state for s in fresh.list_services()} == {"hardening-test": "Healthy", "corrupt-test": "Failed"}
    corrupt = fresh.get_service("corrupt-test")
    assert "is corrupt" in corrupt.problem and "amlpipe down --service corrupt-test" in corrupt.problem
    with pytest.raises(DeploymentError, match="is corrupt"):
        corrupt.run({"data": [LESSON_RECORD]})
    corrupt.delete()  # found by its working folder: the record says nothing
    assert gone(pid) and port_is_free(port)
    assert [s.name for s in fresh.list_services()] == ["hardening-test"]


@pytest.mark.parametrize("content", [b'{"name": "s3"}', b"[1, 2]", b"\x89PNG\x00\xff", b'{"name": "s3", "pid": "x"}', b""])
def test_any_corrupt_record_reads_as_a_failed_service(trained, service, content):
    ws = amlpipe.connect(backend="local", workspace_dir=trained["ws"].root)
    (ws.root / "services" / "s3x.json").write_bytes(content)
    try:
        assert {s.name: s.state for s in ws.list_services()} == {"hardening-test": "Healthy", "s3x": "Failed"}
        assert ws.get_service("hardening-test").run({"data": [LESSON_RECORD]}) == {"result": [False]}
    finally:
        ws.get_service("s3x").delete()
    assert not (ws.root / "services" / "s3x.json").exists()
