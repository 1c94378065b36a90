"""Loaded by every Python started with this folder on PYTHONPATH: the notebooks' kernels of a test run.

With ``AMLPIPE_FAKE_AZURE`` set, the azureml-v2 backend's `MLClient` is the recording fake on the
cloud kept in that folder, so `amlpipe run --backend azureml-v2` runs the notebooks without Azure.
The fake is put in place when the backend's `sdk` module is first imported, not at start-up: the
processes that never use the backend (the inference server's, papermill's own) start without
loading the Azure SDK.
"""

import importlib.abc
import importlib.util
import os
import sys

SDK_MODULE = "amlpipe.backends.azureml_v2.sdk"


class _InstallTheFakeOnImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != SDK_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            from tests.azureml_v2 import fake_cloud

            fake_cloud.install_from_environment()

        spec.loader.exec_module = exec_module
        return spec


if os.environ.get("AMLPIPE_FAKE_AZURE"):
    sys.meta_path.insert(0, _InstallTheFakeOnImport())
