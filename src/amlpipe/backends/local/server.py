"""Run azureml-inference-server-http (`azmlinfsrv`) bound to loopback only, with amlpipe's gunicorn settings.

The server binds 0.0.0.0 and has no host option; it reads the address from its own
module constant when it starts, so setting that constant first makes it bind 127.0.0.1.
Its gunicorn command line sets the bind address, ``WORKER_COUNT`` workers and the
``WORKER_TIMEOUT``; gunicorn reads the rest of its settings from `http_server` (threads,
bounded reads, JSON error bodies), named in ``GUNICORN_CMD_ARGS``.
The arguments are azmlinfsrv's (``--entry_script``, ``--port``, ...).
"""

import os
import sys

from azureml_inference_server_http import amlserver

from . import http_server
from .deployment import HOST

if __name__ == "__main__":
    amlserver.DEFAULT_HOST = HOST
    os.environ["GUNICORN_CMD_ARGS"] = f"--config python:{http_server.__name__}"
    sys.exit(amlserver.run())
