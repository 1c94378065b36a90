"""gunicorn settings for the local server: no client can stall it, every error carries the contract's body.

azureml-inference-server-http starts gunicorn with one sync worker per ``WORKER_COUNT`` and a
300 s worker timeout: one client that sends a ``Content-Length`` and then holds the body
blocks every request and health check for 300 s. `server.py` loads this module as gunicorn's
configuration (``--config python:amlpipe.backends.local.http_server`` through ``GUNICORN_CMD_ARGS``;
azmlinfsrv's own command line still sets the bind address, the workers and the timeout), so:

- each worker serves requests on `THREADS` threads (gunicorn's ``gthread`` worker), which
  also waits for a new connection's first bytes without holding a thread;
- a socket read (headers or body) that waits longer than ``AMLPIPE_READ_TIMEOUT_SECONDS``
  (default 10) fails: score.py answers 408, gunicorn closes the connection;
- every 4xx or 5xx, whether from gunicorn (a malformed request line or header), Flask (an
  unknown route or method) or score.py, has the body ``{"error": {"message", "row", "field"}}``.
"""

from __future__ import annotations

import json
import os
import socket
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

THREADS = 8
READ_TIMEOUT_SECONDS = float(os.environ.get("AMLPIPE_READ_TIMEOUT_SECONDS", "10"))

# gunicorn settings (read by gunicorn from this module)
worker_class = f"{__name__}.ContractThreadWorker"
threads = THREADS
keepalive = 5
control_socket_disable = True  # gunicorn's default control socket, ~/.gunicorn/gunicorn.ctl, would be shared by every service


def error_body(message: str) -> bytes:
    """The contract's error body for an error that concerns no row or field."""
    return json.dumps({"error": {"message": message, "row": None, "field": None}}).encode()


class _ReadTimeoutSocket(socket.socket):
    """A client socket whose blocking reads give up after `READ_TIMEOUT_SECONDS`."""

    def setblocking(self, flag: bool) -> None:
        if flag:
            self.settimeout(READ_TIMEOUT_SECONDS)
        else:
            super().setblocking(False)

    @classmethod
    def adopt(cls, sock: socket.socket) -> "_ReadTimeoutSocket":
        timeout = sock.gettimeout()
        adopted = cls(sock.family, sock.type, sock.proto, fileno=sock.detach())
        adopted.setblocking(timeout != 0.0)
        return adopted


class ContractThreadWorker(ThreadWorker):
    """gunicorn's threaded worker with bounded socket reads and the contract's error bodies."""

    def enqueue_req(self, conn) -> None:
        if not isinstance(conn.sock, _ReadTimeoutSocket):
            conn.sock = _ReadTimeoutSocket.adopt(conn.sock)
        super().enqueue_req(conn)


def _write_error(sock, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own error answer (it writes HTML), with the contract's JSON body."""
    body = error_body(f"{reason}: {mesg}" if mesg else reason)
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin1") + body)


util.write_error = _write_error


class ContractErrors:
    """WSGI middleware: an error answer without the contract's body gets it (Flask's 404/405/431 say ``{"message"}``)."""

    def __init__(self, app: Callable):
        self.app = app

    def __call__(self, environ: Dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        answer: Dict[str, Any] = {}

        def capture(status: str, headers: List[Tuple[str, str]], exc_info: Optional[Any] = None):
            answer.update(status=status, headers=headers, exc_info=exc_info)
            return lambda data: None  # write() is not used by Flask

        result = self.app(environ, capture)
        status, headers = answer["status"], answer["headers"]
        if int(status.split()[0]) < 400:
            start_response(status, headers, answer["exc_info"])
            return result
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        body = _as_contract(body, status)
        headers = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")]
        start_response(status, headers + [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _as_contract(body: bytes, status: str) -> bytes:
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
        return body
    if isinstance(decoded, dict) and isinstance(decoded.get("message"), str):
        return error_body(decoded["message"])
    return error_body(status.split(" ", 1)[-1])


def post_worker_init(worker) -> None:
    """gunicorn hook: wrap the loaded app."""
    worker.wsgi = ContractErrors(worker.wsgi)
