"""Recording fakes of the Azure ML SDK v1 calls that would reach Azure, behaving as the real ones do.

Only the calls that talk to Azure are faked. What the SDK does offline is the SDK itself:
the exception classes (raised with the messages the SDK raises), `AutoMLConfig` and the
settings validation `Experiment.submit` runs before it sends anything (`_validate_config_settings`
then `AzureAutoMLSettings`, as in `automlconfig._automl_static_submit`), the `TabularDataset`
(read over HTTP from a file served on loopback), the `AmlCompute` objects (built from the
resource provider's JSON with `AmlCompute.deserialize`'s own code) and a `Workspace` object.

Every call lands in `Cloud.calls` as (name, arguments); `Cloud` holds what exists "in Azure"
and how Azure answers (a compute lookup refused with 403, a quota error, a failed run...).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import uuid
from typing import Any, Dict, List, Optional, Tuple

from azureml.core import Workspace as RealWorkspace
from azureml.core.authentication import ServicePrincipalAuthentication as RealServicePrincipalAuthentication
from azureml.core.compute import AmlCompute as RealAmlCompute
from azureml.core.compute import ComputeInstance as RealComputeInstance
from azureml.data.abstract_dataset import _DatasetRegistration
from azureml.exceptions import (
    AuthenticationException,
    ComputeTargetException,
    UserErrorException,
    WebserviceException,
)
from azureml._common._error_definition import AzureMLError
from azureml.automl.core.shared._diagnostics.automl_error_definitions import OnnxNotEnabled, RuntimeModuleDependencyMissing
from azureml.automl.core.shared._diagnostics.contract import Contract
from azureml.automl.core.shared.exceptions import ConfigException
from azureml.train.automl import AutoMLConfig as RealAutoMLConfig
from azureml.train.automl._azureautomlsettings import AzureAutoMLSettings
from azureml.train.automl.exceptions import OnnxConvertException

CHILDREN = (  # (algorithm, AUC_weighted) of the default run's children, iteration = position
    ("LightGBM", 0.881),
    ("XGBoostClassifier", 0.902),
    ("RandomForest", 0.874),
    ("VotingEnsemble", 0.915),
)


ONNX_FILE = "outputs/model.onnx"  # azureml.automl.core.shared.constants.MODEL_PATH_ONNX


def onnx_model(name: str) -> bytes:
    """A small ONNX model's file, its graph named after the child's algorithm."""
    from onnx import TensorProto, helper

    value = helper.make_tensor_value_info("x", TensorProto.DOUBLE, [None, 1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], name, [value],
                              [helper.make_tensor_value_info("y", TensorProto.DOUBLE, [None, 1])])
    return helper.make_model(graph).SerializeToString()


class Cloud:
    """The state of the fake Azure, how it answers, and the calls made to it."""

    def __init__(self, tabular_dataset, scoring_uri: str):
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.tabular_dataset = tabular_dataset  # a real TabularDataset, read from loopback
        self.scoring_uri = scoring_uri  # a real HTTP scoring server on loopback
        self.computes: Dict[str, Any] = {}
        self.compute_lookup_status = 200  # anything else but 404: the RP's "bad response"
        self.provisioning_error: Optional[Dict[str, Any]] = None  # e.g. a QuotaExceeded error
        self.datasets: Dict[str, Any] = {}  # the latest version of each
        self.dataset_versions: List[Any] = []  # every version registered
        self.experiments: set = set()
        self.runs: Dict[str, Any] = {}
        self.run_outcome = "Completed"  # or "Failed", "Canceled"
        self.streaming_returns_early = False  # wait_for_completion(show_output=True) returns while running
        self.polls_until_done: Optional[int] = None  # the run ends after this many get_status calls
        self.children = CHILDREN  # (algorithm, score of the submitted primary metric) per iteration
        self.onnx_conversion_fails: set = set()  # algorithms whose child wrote no model.onnx
        self.automl_runtime_installed = False  # azureml-train-automl-runtime, which loads downloaded models
        self.nest_under_hyperdrive = False
        self.models: List[Any] = []
        self.services: Dict[str, Any] = {}
        self.deployment_fails = False
        self.workspace_error: Optional[BaseException] = None
        self.cli_supported = False  # azure-cli is not in this environment: the SDK refuses AzureCliAuthentication
        self.ids = itertools.count(1)

    def record(self, _call: str, **arguments):
        self.calls.append((_call, arguments))

    def names(self) -> List[str]:
        return [name for name, _ in self.calls]

    def arguments(self, name: str) -> Dict[str, Any]:
        return next(args for n, args in self.calls if n == name)

    def add_cluster(self, name: str, state: str = "Succeeded", vm_size: str = "STANDARD_D2_V2", max_nodes: int = 3):
        """An AmlCompute cluster that exists already."""
        self.computes[name] = build_cluster(self, name, vm_size, 1, max_nodes, state)
        return self.computes[name]


def rp_payload(name: str, vm_size: str, min_nodes: int, max_nodes: int, state: str) -> Dict[str, Any]:
    """The resource provider's JSON for an AmlCompute cluster, as `ComputeTarget._get` receives it."""
    return {
        "id": f"/subscriptions/sub/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/{name}",
        "name": name, "location": "westeurope", "tags": None,
        "properties": {
            "computeType": "AmlCompute", "computeLocation": "westeurope", "description": None, "resourceId": None,
            "provisioningState": state, "provisioningErrors": None, "isAttachedCompute": False,
            "createdOn": "2026-11-28T10:00:00Z", "modifiedOn": "2026-11-28T10:00:00Z",
            "properties": {
                "vmSize": vm_size, "vmPriority": "Dedicated", "subnet": None, "errors": None,
                "scaleSettings": {"minNodeCount": min_nodes, "maxNodeCount": max_nodes, "nodeIdleTimeBeforeScaleDown": "PT120S"},
                "currentNodeCount": 0, "targetNodeCount": min_nodes, "nodeStateCounts": {}, "allocationState": "Steady",
                "allocationStateTransitionTime": "2026-11-28T10:00:00Z", "remoteLoginPortPublicAccess": "Enabled",
            },
        },
    }


def build_cluster(cloud: Cloud, name: str, vm_size: str, min_nodes: int, max_nodes: int, state: str):
    """A real `AmlCompute` (the SDK's own `_initialize` on the RP's JSON) whose Azure calls are recorded."""

    class RecordedAmlCompute(RealAmlCompute):
        def wait_for_completion(self, show_output=False, min_node_count=None, timeout_in_minutes=25,
                                is_delete_operation=False):
            cloud.record("AmlCompute.wait_for_completion", show_output=show_output)
            # The real one prints provisioning errors and returns: it never raises for them.
            if cloud.provisioning_error:
                self.provisioning_state = "Failed"
                self.provisioning_errors = [cloud.provisioning_error]
                self.status = None
                if show_output:
                    print(f'Terminal state of "Failed" has been reached\nProvisioning errors: {self.provisioning_errors}')
            else:
                self.provisioning_state = "Succeeded"

        def delete(self):
            cloud.record("AmlCompute.delete", name=self.name)
            cloud.computes.pop(self.name, None)

    target = RecordedAmlCompute(None, None)
    target._initialize(workspace(cloud), rp_payload(name, vm_size, min_nodes, max_nodes, state))
    return target


def compute_instance(cloud: Cloud, name: str):
    """A real `ComputeInstance` object (a person's notebook VM), whose delete is recorded."""

    class RecordedComputeInstance(RealComputeInstance):
        def delete(self, wait_for_completion=False, show_output=False):
            cloud.record("ComputeInstance.delete", name=self.name)

    instance = RecordedComputeInstance(None, None)
    instance.name, instance.type = name, "ComputeInstance"
    return instance


def workspace(cloud: Cloud):
    """A real `Workspace` object, built offline; its listing calls answer from ``cloud``."""

    class FakeWorkspace(RealWorkspace):
        @property
        def datasets(self):
            cloud.record("Workspace.datasets")
            return dict(cloud.datasets)

        @property
        def compute_targets(self):
            cloud.record("Workspace.compute_targets")
            return dict(cloud.computes)

        def get_default_datastore(self):
            return Datastore(cloud)

    return FakeWorkspace(subscription_id="sub", resource_group="rg", workspace_name="ws",
                         auth=RealServicePrincipalAuthentication("tenant", "client", "not-a-secret"),
                         _location="westeurope", _disable_service_check=True)


class Datastore:
    name = "workspaceblobstore"

    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    def upload_files(self, files, target_path=None, overwrite=False, show_progress=True):
        self.cloud.record("Datastore.upload_files", files=files, target_path=target_path, overwrite=overwrite)


def registered(cloud: Cloud, name: str, description: Optional[str]):
    """A registered version of the real TabularDataset (what `TabularDataset.register` returns)."""
    version = getattr(cloud.datasets.get(name), "version", 0) + 1
    dataset = copy.copy(cloud.tabular_dataset)
    saved = str(uuid.uuid4())
    dataset._registration = _DatasetRegistration(None, saved, registered_id=saved, name=name, version=version,
                                                 description=description)
    cloud.datasets[name] = dataset
    cloud.dataset_versions.append(dataset)
    return dataset


class Run:
    """An AutoML parent or child run, answering as `AutoMLRun`/`Run` do."""

    def __init__(self, cloud: Cloud, run_id: str, parent=None, properties=None, metrics=None, run_type="automl",
                 experiment: Optional[str] = None):
        self.cloud = cloud
        self.id = run_id
        self.parent = parent
        self.experiment = experiment
        self.type = run_type
        self._properties = dict(properties or {})
        self._metrics = dict(metrics or {})
        self._files: Dict[str, Any] = {}  # artifact path -> content
        self.status = "Running" if parent is None else "Completed"

    @property
    def properties(self):
        return dict(self._properties)

    def get_status(self):
        if self.parent is None and self.status == "Running" and self.cloud.polls_until_done is not None:
            self.cloud.polls_until_done -= 1  # the run ends on its own while someone polls
            if self.cloud.polls_until_done <= 0:
                self.status = self.cloud.run_outcome
        return self.status

    def get_properties(self):
        return dict(self._properties)

    def get_tags(self):
        return {}

    def get_details(self):
        details = {"runId": self.id, "status": self.status, "properties": self.get_properties(),
                   "startTimeUtc": "2026-11-28T10:00:00.000Z", "endTimeUtc": None}
        if self.parent is not None:
            iteration = int(self._properties.get("iteration", 0))
            details["startTimeUtc"] = f"2026-11-28T10:{iteration:02d}:00.000Z"
            details["endTimeUtc"] = f"2026-11-28T10:{iteration:02d}:30.000Z"
        if self.status == "Failed":
            details["error"] = {"error": {"code": "UserError", "message": "Compute heart-f-cluster has no nodes: quota"}}
        return details

    def get_portal_url(self):
        return f"https://ml.azure.com/runs/{self.id}?wsid=/subscriptions/sub/resourcegroups/rg/workspaces/ws"

    def _children(self, recursive: bool) -> List["Run"]:
        direct = [r for r in self.cloud.runs.values() if r.parent is self]
        if not recursive:
            return direct
        return [*direct, *(grandchild for child in direct for grandchild in child._children(True))]

    def get_children(self, recursive=False, tags=None, properties=None, type=None, status=None, _rehydrate_runs=True):
        self.cloud.record("Run.get_children", run_id=self.id, recursive=recursive, properties=properties)
        children = self._children(recursive)
        if properties:
            children = [c for c in children if all(c._properties.get(k) == v for k, v in properties.items())]
        return children

    def get_metrics(self, name=None, recursive=False, run_type=None, populate=False):
        if recursive:
            return {c.id: dict(c._metrics) for c in self._children(True)}
        return dict(self._metrics)

    def wait_for_completion(self, show_output=False, wait_post_processing=False):
        """As AutoMLRun's: never raises on failure; streaming output can return while the run goes on."""
        self.cloud.record("Run.wait_for_completion", run_id=self.id, show_output=show_output,
                          wait_post_processing=wait_post_processing)
        if not (show_output and self.cloud.streaming_returns_early):
            self.status = self.cloud.run_outcome
        return self.get_details()

    def _ranked(self) -> List["Run"]:
        metric = self._properties["primary_metric"]
        scored = [c for c in self._children(True) if c._properties.get("runTemplate") == "automl_child"]
        return sorted(scored, key=lambda c: c._metrics[metric], reverse="error" not in metric)

    def _best(self) -> "Run":
        return self._ranked()[0]

    def get_file_names(self):
        return list(self._files)

    def get_output(self, iteration=None, metric=None, return_onnx_model=False, return_split_onnx_model=None, **kwargs):
        """As `AutoMLRun.get_output`: the best completed child by the primary metric's direction, and no
        model object (model.pkl needs the AutoML runtime to load; the SDK then returns None).

        With ``return_onnx_model`` (`_get_best_child_run(onnx_compatible=True)`): `OnnxConvertException`
        unless the run was submitted with ``enable_onnx_compatible_models``; else the best child holding
        outputs/model.onnx (`_get_onnx_run`), its model downloaded into the working folder and loaded
        (`_download_automl_onnx_model`: a `ConfigException` without the runtime), the file then removed."""
        self.cloud.record("AutoMLRun.get_output", run_id=self.id, iteration=iteration, metric=metric,
                          return_onnx_model=return_onnx_model, return_split_onnx_model=return_split_onnx_model)
        if not return_onnx_model:
            return self._best(), None
        if not json.loads(self._properties["AMLSettingsJsonString"]).get("enable_onnx_compatible_models"):
            raise OnnxConvertException._with_error(AzureMLError.create(OnnxNotEnabled, target="onnx_compatible"))
        best = next((child for child in self._ranked() if ONNX_FILE in child.get_file_names()), None)
        Contract.assert_true(best is not None, "Failed to retrieve a run with successful ONNX conversion",
                             target="current_run", log_safe=True)
        path = f"model_onnx_{best.id}.onnx"  # in the working folder, as the SDK does
        best.download_file(ONNX_FILE, output_file_path=path, _validate_checksum=True)
        try:
            if not self.cloud.automl_runtime_installed:
                raise ConfigException._with_error(AzureMLError.create(
                    RuntimeModuleDependencyMissing, target="onnx-model", module_name="azureml-train-automl-runtime"))
            import onnx

            return best, onnx.load(path)  # what OnnxConverter.load_onnx_model does
        finally:
            os.remove(path)

    def get_environment(self):
        self.cloud.record("Run.get_environment", run_id=self.id)
        from types import SimpleNamespace

        return SimpleNamespace(name="AzureML-AutoML")

    def download_file(self, name, output_file_path=None, **kwargs):
        self.cloud.record("Run.download_file", run_id=self.id, name=name)
        if name == ONNX_FILE:
            with open(output_file_path, "wb") as fh:
                fh.write(self._files[name])
            return
        with open(output_file_path, "w") as fh:
            fh.write("def init():\n    pass\n\ndef run(data):\n    return data\n")

    def register_model(self, model_name=None, description=None, tags=None, **kwargs):
        self.cloud.record("AutoMLRun.register_model", model_name=model_name, description=description, tags=tags)
        version = len([m for m in self.cloud.models if m.name == model_name]) + 1
        model = RegisteredModel(model_name, version, description, tags, self._best().id)
        self.cloud.models.append(model)
        return model


def start_run(cloud: Cloud, config, experiment: str) -> Run:
    """The parent run and its AutoML children (optionally nested under a HyperDrive run)."""
    metric = config.user_settings["primary_metric"]
    onnx = bool(config.user_settings.get("enable_onnx_compatible_models"))
    settings = json.dumps({"primary_metric": metric, "enable_onnx_compatible_models": onnx})
    parent = Run(cloud, f"AutoML_{next(cloud.ids)}", properties={"primary_metric": metric, "AMLSettingsJsonString": settings},
                 experiment=experiment)
    cloud.runs[parent.id] = parent
    holder = parent
    if cloud.nest_under_hyperdrive:
        holder = Run(cloud, f"{parent.id}_HD", parent, properties={"runTemplate": "hyperdrive"}, run_type="hyperdrive")
        cloud.runs[holder.id] = holder
    for iteration, (algorithm, score) in enumerate(cloud.children):
        child = Run(cloud, f"{parent.id}_{iteration}", holder, run_type="azureml.scriptrun",
                    properties={"runTemplate": "automl_child", "iteration": str(iteration), "run_algorithm": algorithm},
                    metrics={metric: score, "accuracy_table": "aml://artifact"})
        child._files["outputs/model.pkl"] = b"pickled"
        if onnx and algorithm not in cloud.onnx_conversion_fails:
            child._files[ONNX_FILE] = onnx_model(algorithm)
        cloud.runs[child.id] = child
    return parent


class RegisteredModel:
    def __init__(self, name, version, description, tags, run_id):
        self.name, self.version, self.description, self.tags, self.run_id = name, version, description, tags, run_id
        self.properties = {}


def build(cloud: Cloud) -> Dict[str, Any]:
    """The fake SDK names, bound to ``cloud``. The exception classes are not faked: the SDK's are used."""

    class Workspace:
        @staticmethod
        def from_config(path=None, auth=None):
            cloud.record("Workspace.from_config", path=path, auth=type(auth).__name__)
            with open(path) as fh:
                json.load(fh)
            if cloud.workspace_error is not None:
                raise cloud.workspace_error
            return workspace(cloud)

    class ComputeTarget:
        def __new__(cls, workspace=None, name=None):
            """As `ComputeTarget.__new__` + `_get`: 404 is "not found", any other non-200 a "bad response"."""
            cloud.record("ComputeTarget", name=name)
            if cloud.compute_lookup_status != 200:
                raise ComputeTargetException(
                    "Received bad response from Resource Provider:\n"
                    f"Response Code: {cloud.compute_lookup_status}\n"
                    "Headers: {'Content-Type': 'application/json; charset=utf-8'}\n"
                    "Content: b'{\"error\":{\"code\":\"AuthorizationFailed\",\"message\":\"The client does not have "
                    "authorization to perform action Microsoft.MachineLearningServices/workspaces/computes/read\"}}'"
                )
            if name not in cloud.computes:
                raise ComputeTargetException(
                    f"ComputeTargetNotFound: Compute Target with name {name} not found in provided workspace")
            return cloud.computes[name]

        @staticmethod
        def create(workspace, name, provisioning_configuration):
            config = provisioning_configuration  # the SDK's real AmlComputeProvisioningConfiguration
            scale = config.scale_settings
            cloud.record("ComputeTarget.create", name=name, vm_size=config.vm_size,
                         min_nodes=scale.minimum_node_count, max_nodes=scale.maximum_node_count)
            target = build_cluster(cloud, name, config.vm_size, scale.minimum_node_count, scale.maximum_node_count,
                                   "Creating")
            cloud.computes[name] = target
            return target

    class TabularFactory:
        @staticmethod
        def from_delimited_files(path):
            cloud.record("Dataset.Tabular.from_delimited_files",
                         path=path if isinstance(path, str) else (path[0].name, path[1]))
            dataset = copy.copy(cloud.tabular_dataset)

            def register(workspace, name, description=None, tags=None, create_new_version=False):
                cloud.record("TabularDataset.register", name=name, description=description,
                             create_new_version=create_new_version)
                return registered(cloud, name, description)

            dataset.register = register
            return dataset

        @staticmethod
        def register_pandas_dataframe(dataframe, target, name, description=None, tags=None, show_progress=True):
            cloud.record("Dataset.Tabular.register_pandas_dataframe", name=name, rows=len(dataframe))
            return registered(cloud, name, description)

    class Dataset:
        Tabular = TabularFactory

        @staticmethod
        def get_by_name(workspace, name, version="latest"):
            cloud.record("Dataset.get_by_name", name=name, version=version)
            found = [d for d in cloud.dataset_versions if d.name == name and version in ("latest", d.version)]
            if not found:
                raise UserErrorException(f"Cannot find dataset registered with name '{name}' (version: {version}) "
                                         "in this workspace.")
            return found[-1]

    def AutoMLConfig(**kwargs):
        cloud.record("AutoMLConfig", **kwargs)
        return RealAutoMLConfig(**kwargs)

    def AutoMLRun(experiment, run_id):
        cloud.record("AutoMLRun", run_id=run_id)
        if run_id not in cloud.runs:
            raise UserErrorException(f"Run {run_id} not found")
        return cloud.runs[run_id]

    class Experiment:
        def __init__(self, workspace, name, _create_in_cloud=True, **kwargs):
            cloud.record("Experiment", name=name)
            self.workspace, self.name = workspace, name
            if _create_in_cloud:
                cloud.experiments.add(name)

        @staticmethod
        def list(workspace, experiment_name=None, **kwargs):
            cloud.record("Experiment.list", experiment_name=experiment_name)
            names = sorted(cloud.experiments) if experiment_name is None else [experiment_name]
            return [Experiment(workspace, n, _create_in_cloud=False) for n in names if n in cloud.experiments]

        def submit(self, config, show_output=False, **kwargs):
            """What `_automl_static_submit` does before sending anything, then a run in Azure."""
            cloud.record("Experiment.submit", config=config, show_output=show_output)
            config._validate_config_settings(self.workspace)
            fit_params = config._get_fit_params()
            AzureAutoMLSettings(experiment=None, **{k: v for k, v in config.user_settings.items() if k not in fit_params})
            return start_run(cloud, config, self.name)

        def get_runs(self, type=None):
            cloud.record("Experiment.get_runs", type=type)
            return reversed([r for r in cloud.runs.values() if r.parent is None and r.experiment == self.name])

    class Run_:
        @staticmethod
        def get(workspace, run_id):
            cloud.record("Run.get", run_id=run_id)
            return cloud.runs[run_id]

    class RunDetails:
        def __init__(self, run):
            self.run = run

        def show(self):
            cloud.record("RunDetails.show", run_id=self.run.id)

    class Service:
        def __init__(self, name, models, auth_enabled):
            self.name, self.models, self.auth_enabled = name, models, auth_enabled
            self.state = "Transitioning"
            self.scoring_uri = cloud.scoring_uri
            self.swagger_uri = self.scoring_uri.replace("score", "swagger.json")
            self.tags = {}

        def wait_for_deployment(self, show_output=False, timeout_sec=None):
            cloud.record("Webservice.wait_for_deployment", show_output=show_output, timeout_sec=timeout_sec)
            if cloud.deployment_fails:
                self.state = "Failed"
                raise WebserviceException("Service deployment polling reached non-successful terminal state, "
                                          "current service state: Failed")
            self.state = "Healthy"

        def get_logs(self):
            return "2026-11-28 init() failed: ModuleNotFoundError: No module named 'amlpipe_missing'"

        def get_keys(self):
            return ("primary-secret", "secondary-secret")

        def delete(self):
            cloud.record("Webservice.delete", name=self.name)
            cloud.services.pop(self.name, None)

    class Model:
        def __new__(cls, workspace, name=None, version=None):
            cloud.record("Model", name=name, version=version)
            found = [m for m in cloud.models if m.name == name and (version is None or m.version == version)]
            if not found:
                raise WebserviceException(f"ModelNotFound: Model with name {name} not found in provided workspace")
            return found[-1]

        @staticmethod
        def list(workspace):
            return list(cloud.models)

        @staticmethod
        def deploy(workspace, name, models, inference_config=None, deployment_config=None, overwrite=False, **kwargs):
            cloud.record("Model.deploy", name=name, models=[m.name for m in models], inference_config=inference_config,
                         deployment_config=deployment_config, overwrite=overwrite)
            service = Service(name, models, deployment_config["auth_enabled"])
            cloud.services[name] = service
            return service

    class InferenceConfig:
        def __init__(self, entry_script, source_directory=None, environment=None, **kwargs):
            cloud.record("InferenceConfig", entry_script=entry_script, source_directory=source_directory,
                         environment=getattr(environment, "name", environment))
            self.entry_script, self.source_directory = entry_script, source_directory

    class AciWebservice:
        @staticmethod
        def deploy_configuration(**kwargs):
            cloud.record("AciWebservice.deploy_configuration", **kwargs)
            return kwargs

    class Webservice:
        def __new__(cls, workspace, name=None):
            cloud.record("Webservice", name=name)
            if name not in cloud.services:
                raise WebserviceException(f"WebserviceNotFound: Webservice with name {name} not found in provided workspace")
            return cloud.services[name]

        @staticmethod
        def list(workspace):
            return list(cloud.services.values())

    def auth_class(kind):
        class Auth:
            def __init__(self, **kwargs):
                if kind == "AzureCliAuthentication" and not cloud.cli_supported:
                    # AzureCliAuthentication._azure_cli_core_check, word for word
                    raise AuthenticationException(
                        "azure-cli package is not installed. AzureCliAuthentication requires azure-cli>=2.30.0 to be "
                        "installed in the same python environment where azureml-sdk is installed.")
                # Record which credential, never the secret values: fakes must not keep secrets either.
                cloud.record(kind, arguments=sorted(kwargs), identity_config=kwargs.get("identity_config"))

        Auth.__name__ = kind
        return Auth

    return {
        "Workspace": Workspace,
        "Experiment": Experiment,
        "Dataset": Dataset,
        "Run": Run_,
        "Model": Model,
        "InferenceConfig": InferenceConfig,
        "ComputeTarget": ComputeTarget,
        "AciWebservice": AciWebservice,
        "Webservice": Webservice,
        "AutoMLConfig": AutoMLConfig,
        "AutoMLRun": AutoMLRun,
        "RunDetails": RunDetails,
        "ServicePrincipalAuthentication": auth_class("ServicePrincipalAuthentication"),
        "AzureCliAuthentication": auth_class("AzureCliAuthentication"),
        "MsiAuthentication": auth_class("MsiAuthentication"),
        "InteractiveLoginAuthentication": auth_class("InteractiveLoginAuthentication"),
    }
