"""The Azure ML SDK v2 names the azureml-v2 backend uses, imported here and nowhere else.

The backend reaches azure-ai-ml, azure-identity, azure-core and mltable only through this
module's attributes (``sdk.MLClient``, ``sdk.AmlCompute``, ...), loaded on first use so that
``import amlpipe`` imports none of them. Tests put a recording fake of ``MLClient`` at exactly
this boundary and keep every other name real: the entities the backend builds are the SDK's own.
"""

from __future__ import annotations

import importlib
from typing import Any

from ...errors import MissingDependencyError

# name -> (module, attribute or None for the module itself, the package that provides it)
_NAMES = {
    "MLClient": ("azure.ai.ml", "MLClient", "azure-ai-ml"),
    "Input": ("azure.ai.ml", "Input", "azure-ai-ml"),
    "Output": ("azure.ai.ml", "Output", "azure-ai-ml"),
    "automl": ("azure.ai.ml.automl", None, "azure-ai-ml"),
    "dsl": ("azure.ai.ml.dsl", None, "azure-ai-ml"),
    "command": ("azure.ai.ml", "command", "azure-ai-ml"),
    "AmlCompute": ("azure.ai.ml.entities", "AmlCompute", "azure-ai-ml"),
    "Data": ("azure.ai.ml.entities", "Data", "azure-ai-ml"),
    "Model": ("azure.ai.ml.entities", "Model", "azure-ai-ml"),
    "Environment": ("azure.ai.ml.entities", "Environment", "azure-ai-ml"),
    "CodeConfiguration": ("azure.ai.ml.entities", "CodeConfiguration", "azure-ai-ml"),
    "PipelineJob": ("azure.ai.ml.entities", "PipelineJob", "azure-ai-ml"),
    "PipelineJobSettings": ("azure.ai.ml.entities", "PipelineJobSettings", "azure-ai-ml"),
    "JobSchedule": ("azure.ai.ml.entities", "JobSchedule", "azure-ai-ml"),
    "RecurrenceTrigger": ("azure.ai.ml.entities", "RecurrenceTrigger", "azure-ai-ml"),
    "ManagedOnlineEndpoint": ("azure.ai.ml.entities", "ManagedOnlineEndpoint", "azure-ai-ml"),
    "ManagedOnlineDeployment": ("azure.ai.ml.entities", "ManagedOnlineDeployment", "azure-ai-ml"),
    "ValidationException": ("azure.ai.ml.exceptions", "ValidationException", "azure-ai-ml"),
    "JobException": ("azure.ai.ml.exceptions", "JobException", "azure-ai-ml"),
    "MarshmallowValidationError": ("marshmallow.exceptions", "ValidationError", "azure-ai-ml"),
    "ResourceNotFoundError": ("azure.core.exceptions", "ResourceNotFoundError", "azure-core"),
    "HttpResponseError": ("azure.core.exceptions", "HttpResponseError", "azure-core"),
    "ClientAuthenticationError": ("azure.core.exceptions", "ClientAuthenticationError", "azure-core"),
    "ServiceRequestError": ("azure.core.exceptions", "ServiceRequestError", "azure-core"),
    "EnvironmentCredential": ("azure.identity", "EnvironmentCredential", "azure-identity"),
    "ClientSecretCredential": ("azure.identity", "ClientSecretCredential", "azure-identity"),
    "AzureCliCredential": ("azure.identity", "AzureCliCredential", "azure-identity"),
    "ManagedIdentityCredential": ("azure.identity", "ManagedIdentityCredential", "azure-identity"),
    "InteractiveBrowserCredential": ("azure.identity", "InteractiveBrowserCredential", "azure-identity"),
    "mltable": ("mltable", None, "mltable"),
    "MlflowException": ("mlflow.exceptions", "MlflowException", "mlflow"),
}


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(name)
    module, attribute, package = _NAMES[name]
    try:
        loaded = importlib.import_module(module)
        value = loaded if attribute is None else getattr(loaded, attribute)
    except ImportError as exc:
        raise MissingDependencyError(
            f"the azureml-v2 backend needs {package} ({exc}); install it with: pip install {package}"
        ) from exc
    globals()[name] = value  # later lookups skip __getattr__
    return value
