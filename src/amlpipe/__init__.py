"""amlpipe: the Azure ML SDK v1 AutoML workflow, step by step, on Azure or on one machine.

``import amlpipe`` never imports the Azure SDK; the azureml backend loads it when used.
"""

from ._log import show_progress_logs
from .data import load_heart_failure
from .notebook import record
from .overrides import load_settings
from .errors import (
    AmlpipeError,
    ConfigError,
    DataError,
    DeploymentError,
    MissingDependencyError,
    ResourceError,
    ScoringError,
)
from .settings import (
    AutoMLSettings,
    ComputeSettings,
    DatasetSettings,
    InferenceSettings,
    ModelSettings,
    ServiceSettings,
    Settings,
)
from .workspace import connect

__version__ = "0.1.0"

__all__ = [
    "connect",
    "load_heart_failure",
    "show_progress_logs",
    "record",
    "load_settings",
    "Settings",
    "AutoMLSettings",
    "ComputeSettings",
    "DatasetSettings",
    "ModelSettings",
    "ServiceSettings",
    "InferenceSettings",
    "AmlpipeError",
    "ConfigError",
    "DataError",
    "DeploymentError",
    "MissingDependencyError",
    "ResourceError",
    "ScoringError",
]
