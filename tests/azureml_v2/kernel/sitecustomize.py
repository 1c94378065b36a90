"""Loaded by every Python started with this folder on PYTHONPATH: the notebooks' kernels of a test run.

With ``AMLPIPE_FAKE_AZURE`` set, the azureml-v2 backend's `MLClient` is the recording fake on the
cloud kept in that folder, so `amlpipe run --backend azureml-v2` runs the notebooks without Azure.
"""

import os

if os.environ.get("AMLPIPE_FAKE_AZURE"):
    from tests.azureml_v2 import fake_cloud

    fake_cloud.install_from_environment()
