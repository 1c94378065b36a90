"""Run azureml-inference-server-http (`azmlinfsrv`) bound to loopback only.

The server binds 0.0.0.0 and has no host option; it reads the address from its own
module constant when it starts, so setting that constant first makes it bind 127.0.0.1.
The arguments are azmlinfsrv's (``--entry_script``, ``--port``, ...).
"""

import sys

from azureml_inference_server_http import amlserver

from .deployment import HOST

if __name__ == "__main__":
    amlserver.DEFAULT_HOST = HOST
    sys.exit(amlserver.run())
