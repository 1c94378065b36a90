import functools
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from amlpipe.backends.azureml import sdk

from . import fake_sdk


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that gave up waiting is part of the tests
        pass


def serve(handler) -> ThreadingHTTPServer:
    """A real HTTP server on loopback, in a daemon thread."""
    server = _LoopbackServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Quiet:
    def log_message(self, *args):  # keep pytest's output clean
        pass


class ScoringHandler(_Quiet, BaseHTTPRequestHandler):
    """An ACI scoring endpoint: answers predictions, refuses bad requests with a 400 naming the field."""

    requests: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        ScoringHandler.requests.append({"body": body, "authorization": self.headers.get("Authorization")})
        if not body.get("data"):
            answer, status = {"error": {"message": "field 'data' is missing or empty"}}, 400
        else:
            answer, status = {"result": [False] * len(body["data"])}, 200
        payload = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="session")
def tabular_dataset(heart_csv):
    """A real TabularDataset: the heart-failure CSV served over HTTP on loopback, read by the SDK."""
    handler = functools.partial(type("Files", (_Quiet, SimpleHTTPRequestHandler), {}), directory=str(heart_csv.parent))
    server = serve(handler)
    from azureml.core import Dataset

    url = f"http://127.0.0.1:{server.server_address[1]}/{heart_csv.name}"
    yield Dataset.Tabular.from_delimited_files(url)
    server.shutdown()


@pytest.fixture(scope="session")
def scoring_uri():
    server = serve(ScoringHandler)
    yield f"http://127.0.0.1:{server.server_address[1]}/score"
    server.shutdown()


@pytest.fixture
def cloud(monkeypatch, tabular_dataset, scoring_uri):
    """The fake Azure: every SDK call that would reach Azure, recording its calls."""
    state = fake_sdk.Cloud(tabular_dataset, scoring_uri)
    ScoringHandler.requests.clear()
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


@pytest.fixture(scope="session")
def kernel():
    """A real IPython kernel (as JupyterLab or papermill start it), without CI or AMLPIPE_HEADLESS in its environment."""
    from jupyter_client.manager import start_new_kernel

    env = {"PATH": "/usr/bin:/bin", **{k: os.environ[k] for k in ("PYTHONPATH",) if k in os.environ}}
    manager, client = start_new_kernel(kernel_name="python3", env=env)
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def execute(client, code: str, allow_stdin: bool):
    """Run ``code`` in the kernel as a frontend would; returns its iopub messages."""
    messages = []
    reply = client.execute_interactive(code, allow_stdin=allow_stdin, timeout=120, output_hook=messages.append)
    assert reply["content"]["status"] == "ok", reply["content"]
    return messages
