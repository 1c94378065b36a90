"""The local backend: FLAML, MLflow on SQLite and azureml-inference-server-http on this machine."""

from __future__ import annotations

from ..base import Backend
from .workspace import LocalWorkspace, connect

BACKEND = Backend(
    name="local",
    connect=connect,
    dataset_reuse="content",
    description="this machine: FLAML AutoML, MLflow on SQLite, azureml-inference-server-http",
)

__all__ = ["BACKEND", "LocalWorkspace", "connect"]
