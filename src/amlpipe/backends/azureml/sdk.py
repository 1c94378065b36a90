"""The Azure ML SDK v1 names the azureml backend uses, imported here and nowhere else.

The backend reaches the SDK only through this module's attributes (``sdk.Workspace``,
``sdk.AutoMLConfig``, ...), loaded on first use so that ``import amlpipe`` never imports
the SDK. Tests put recording fakes at exactly this boundary.
"""

from __future__ import annotations

import importlib
from typing import Any

from ...errors import MissingDependencyError

# name -> (module, attribute, the package that provides it)
_NAMES = {
    "Workspace": ("azureml.core", "Workspace", "azureml-core"),
    "Experiment": ("azureml.core", "Experiment", "azureml-core"),
    "Dataset": ("azureml.core", "Dataset", "azureml-core"),
    "Environment": ("azureml.core", "Environment", "azureml-core"),
    "Run": ("azureml.core", "Run", "azureml-core"),
    "Model": ("azureml.core.model", "Model", "azureml-core"),
    "InferenceConfig": ("azureml.core.model", "InferenceConfig", "azureml-core"),
    "ComputeTarget": ("azureml.core.compute", "ComputeTarget", "azureml-core"),
    "AmlCompute": ("azureml.core.compute", "AmlCompute", "azureml-core"),
    "ComputeTargetException": ("azureml.core.compute_target", "ComputeTargetException", "azureml-core"),
    "AciWebservice": ("azureml.core.webservice", "AciWebservice", "azureml-core"),
    "Webservice": ("azureml.core.webservice", "Webservice", "azureml-core"),
    "WebserviceException": ("azureml.exceptions", "WebserviceException", "azureml-core"),
    "AuthenticationException": ("azureml.exceptions", "AuthenticationException", "azureml-core"),
    "UserErrorException": ("azureml.exceptions", "UserErrorException", "azureml-core"),
    "ProjectSystemException": ("azureml.exceptions", "ProjectSystemException", "azureml-core"),
    "AzureMLException": ("azureml.exceptions", "AzureMLException", "azureml-core"),
    # A wrong secret: the SDK's vendored copy of azure.cli.core.azclierror.AuthenticationError.
    "AzCliAuthenticationError": ("azureml._vendor.azure_cli_core.azclierror", "AuthenticationError", "azureml-core"),
    # Run history and other REST calls that fail.
    "ServiceException": ("azureml._restclient.exceptions", "ServiceException", "azureml-core"),
    "AutoMLException": ("azureml.automl.core.shared.exceptions", "AutoMLException", "azureml-automl-core"),
    "ConfigException": ("azureml.automl.core.shared.exceptions", "ConfigException", "azureml-automl-core"),
    "ServicePrincipalAuthentication": ("azureml.core.authentication", "ServicePrincipalAuthentication", "azureml-core"),
    "AzureCliAuthentication": ("azureml.core.authentication", "AzureCliAuthentication", "azureml-core"),
    "MsiAuthentication": ("azureml.core.authentication", "MsiAuthentication", "azureml-core"),
    "InteractiveLoginAuthentication": ("azureml.core.authentication", "InteractiveLoginAuthentication", "azureml-core"),
    "AutoMLConfig": ("azureml.train.automl", "AutoMLConfig", "azureml-train-automl-client"),
    "AutoMLRun": ("azureml.train.automl.run", "AutoMLRun", "azureml-train-automl-client"),
    "RunDetails": ("azureml.widgets", "RunDetails", "azureml-widgets"),
    # The training pipeline (amlpipe.pipeline).
    "RunConfiguration": ("azureml.core.runconfig", "RunConfiguration", "azureml-core"),
    "CondaDependencies": ("azureml.core.conda_dependencies", "CondaDependencies", "azureml-core"),
    "Pipeline": ("azureml.pipeline.core", "Pipeline", "azureml-pipeline-core"),
    "PipelineData": ("azureml.pipeline.core", "PipelineData", "azureml-pipeline-core"),
    "TrainingOutput": ("azureml.pipeline.core", "TrainingOutput", "azureml-pipeline-core"),
    "PipelineEndpoint": ("azureml.pipeline.core", "PipelineEndpoint", "azureml-pipeline-core"),
    "Schedule": ("azureml.pipeline.core", "Schedule", "azureml-pipeline-core"),
    "ScheduleRecurrence": ("azureml.pipeline.core", "ScheduleRecurrence", "azureml-pipeline-core"),
    "PipelineServiceError": ("azureml.pipeline.core._restclients.aeva.models.error_response",
                             "ErrorResponseException", "azureml-pipeline-core"),
    "AutoMLStep": ("azureml.pipeline.steps", "AutoMLStep", "azureml-pipeline-steps"),
    "PythonScriptStep": ("azureml.pipeline.steps", "PythonScriptStep", "azureml-pipeline-steps"),
}


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(name)
    module, attribute, package = _NAMES[name]
    try:
        value = getattr(importlib.import_module(module), attribute)
    except ImportError as exc:
        raise MissingDependencyError(
            f"the azureml backend needs {package} ({exc}); install it with: pip install {package}"
        ) from exc
    globals()[name] = value  # later lookups skip __getattr__
    return value
