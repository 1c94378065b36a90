"""Recording fakes of the Azure ML SDK v1 names the azureml backend uses.

Every call lands in `Cloud.calls` as (name, arguments); `Cloud` also holds what exists
"in Azure" (computes, datasets, runs, services), so the get-or-create branches can be set up.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any, Dict, List, Tuple


class Cloud:
    """The state of the fake Azure and the calls made to it."""

    def __init__(self):
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.computes: Dict[str, Any] = {}
        self.experiments: Dict[str, Any] = {}
        self.datasets: Dict[str, Any] = {}  # the latest version of each
        self.dataset_versions: List[Any] = []  # every version registered
        self.runs: Dict[str, Any] = {}
        self.models: List[Any] = []
        self.services: Dict[str, Any] = {}
        self.deployment_fails = False
        self.ids = itertools.count(1)

    def record(self, _call: str, **arguments):
        self.calls.append((_call, arguments))

    def names(self) -> List[str]:
        return [name for name, _ in self.calls]

    def arguments(self, name: str) -> Dict[str, Any]:
        return next(args for n, args in self.calls if n == name)


class ComputeTargetException(Exception):
    pass


class WebserviceException(Exception):
    pass


class AuthenticationException(Exception):
    pass


class UserErrorException(Exception):
    pass


# The child runs of each AutoML run: algorithm and score under the run's primary metric.
CHILDREN = (("VotingEnsemble", 0.91), ("LightGBM", 0.87), ("RandomForest", 0.89))


def build(cloud: Cloud) -> Dict[str, Any]:
    """The fake SDK names, bound to ``cloud``."""

    class Datastore:
        name = "workspaceblobstore"

        def upload_files(self, files, target_path=None, overwrite=False, show_progress=True):
            cloud.record("Datastore.upload_files", files=files, target_path=target_path, overwrite=overwrite)

    class Datasets(dict):
        pass

    class Workspace:
        def __init__(self, name="ws"):
            self.name = name
            self.resource_group = "rg"
            self.location = "westeurope"

        @property
        def datasets(self):
            return Datasets(cloud.datasets)

        def get_default_datastore(self):
            return Datastore()

        @staticmethod
        def from_config(path=None, auth=None):
            cloud.record("Workspace.from_config", path=path, auth=type(auth).__name__)
            return Workspace()

    class AmlCompute:
        type = "AmlCompute"

        def __init__(self, name, vm_size="Standard_D2_v2", min_nodes=1, max_nodes=3):
            self.name = name
            self.vm_size = vm_size
            self.scale_settings = SimpleNamespace(minimum_node_count=min_nodes, maximum_node_count=max_nodes)

        @staticmethod
        def provisioning_configuration(vm_size="", min_nodes=0, max_nodes=None, **kwargs):
            cloud.record("AmlCompute.provisioning_configuration", vm_size=vm_size, min_nodes=min_nodes, max_nodes=max_nodes)
            return {"vm_size": vm_size, "min_nodes": min_nodes, "max_nodes": max_nodes}

        def wait_for_completion(self, show_output=False):
            cloud.record("AmlCompute.wait_for_completion", show_output=show_output)

        def delete(self):
            cloud.record("AmlCompute.delete", name=self.name)
            cloud.computes.pop(self.name, None)

    class ComputeTarget:
        def __new__(cls, workspace=None, name=None):
            cloud.record("ComputeTarget", name=name)
            if name not in cloud.computes:
                raise ComputeTargetException(f"ComputeTargetNotFound: compute target with name {name} not found")
            return cloud.computes[name]

        @staticmethod
        def create(workspace, name, provisioning_configuration):
            cloud.record("ComputeTarget.create", name=name, provisioning_configuration=provisioning_configuration)
            target = AmlCompute(name, provisioning_configuration["vm_size"], provisioning_configuration["min_nodes"],
                                provisioning_configuration["max_nodes"])
            cloud.computes[name] = target
            return target

    class RegisteredDataset:
        def __init__(self, name, version, description=""):
            self.name, self.version, self.description = name, version, description

        def to_pandas_dataframe(self):
            import pandas as pd

            return pd.DataFrame({"a": [1]})

    class TabularFactory:
        def __init__(self, path):
            self.path = path

        @staticmethod
        def from_delimited_files(path):
            cloud.record("Dataset.Tabular.from_delimited_files", path=path if isinstance(path, str) else (path[0].name, path[1]))
            return TabularFactory(path)

        @staticmethod
        def register_pandas_dataframe(dataframe, target, name, description=None):
            cloud.record("Dataset.Tabular.register_pandas_dataframe", name=name, rows=len(dataframe))
            return TabularFactory.new_version(name, description)  # the SDK registers with create_new_version=True

        def register(self, workspace, name, description=None, create_new_version=False):
            cloud.record("TabularDataset.register", name=name, description=description, create_new_version=create_new_version)
            return TabularFactory.new_version(name, description)

        @staticmethod
        def new_version(name, description):
            version = getattr(cloud.datasets.get(name), "version", 0) + 1
            cloud.datasets[name] = RegisteredDataset(name, version, description)
            cloud.dataset_versions.append(cloud.datasets[name])
            return cloud.datasets[name]

    class Dataset:
        Tabular = TabularFactory

        @staticmethod
        def get_by_name(workspace, name, version="latest"):
            cloud.record("Dataset.get_by_name", name=name, version=version)
            found = [d for d in [*cloud.dataset_versions, cloud.datasets.get(name)]
                     if d is not None and d.name == name and version in ("latest", d.version)]
            if not found:
                raise UserErrorException(f"Cannot find dataset registered with name '{name}'"
                                         + ("" if version == "latest" else f" (version: {version})"))
            return found[-1]

    class AutoMLConfig:
        def __init__(self, **kwargs):
            cloud.record("AutoMLConfig", **kwargs)
            self.kwargs = kwargs

    class RegisteredModel:
        def __init__(self, name, version, description, tags, run_id):
            self.name, self.version, self.description, self.tags, self.run_id = name, version, description, tags, run_id
            self.properties = {}

    class Run:
        def __init__(self, run_id, parent=None, experiment=None, properties=None, metrics=None):
            self.id = run_id
            self.parent = parent
            self.experiment = experiment
            self.properties = properties or {"primary_metric": "AUC_weighted", "iteration": "0",
                                             "run_algorithm": "VotingEnsemble"}
            self.metrics = metrics or {"AUC_weighted": 0.91, "accuracy_table": "aml://artifact"}

        @staticmethod
        def get(workspace, run_id):
            cloud.record("Run.get", run_id=run_id)
            return cloud.runs[run_id]

        def get_status(self):
            return "Completed"

        def get_properties(self):
            return dict(self.properties)

        def get_tags(self):
            return {}

        def get_metrics(self):
            return dict(self.metrics)

        def wait_for_completion(self, show_output=False, wait_post_processing=False):
            cloud.record("Run.wait_for_completion", run_id=self.id, show_output=show_output,
                         wait_post_processing=wait_post_processing)
            return {"runId": self.id, "status": "Completed"}

        def get_children(self):
            return [r for r in cloud.runs.values() if r.parent is self]

        def get_output(self):
            cloud.record("AutoMLRun.get_output", run_id=self.id)
            return self.get_children()[0], None  # no azureml-train-automl-runtime: no model object

        def get_environment(self):
            cloud.record("Run.get_environment", run_id=self.id)
            return SimpleNamespace(name="AzureML-AutoML")

        def download_file(self, name, output_file_path=None):
            cloud.record("Run.download_file", run_id=self.id, name=name)
            with open(output_file_path, "w") as fh:
                fh.write("def init():\n    pass\n\ndef run(data):\n    return data\n")

        def register_model(self, model_name=None, description=None, tags=None, **kwargs):
            cloud.record("AutoMLRun.register_model", model_name=model_name, description=description, tags=tags)
            best = self.get_children()[0]
            version = len([m for m in cloud.models if m.name == model_name]) + 1
            model = RegisteredModel(model_name, version, description, tags, best.id)
            cloud.models.append(model)
            return model

    def AutoMLRun(experiment, run_id):
        cloud.record("AutoMLRun", run_id=run_id)
        if run_id not in cloud.runs:
            raise UserErrorException(f"Run {run_id} not found")
        return cloud.runs[run_id]

    class Experiment:
        def __init__(self, workspace, name):
            cloud.record("Experiment", name=name)
            self.name = name
            cloud.experiments.setdefault(name, self)  # the SDK gets or creates it in the cloud

        @staticmethod
        def list(workspace, experiment_name=None):
            cloud.record("Experiment.list", experiment_name=experiment_name)
            return [e for name, e in cloud.experiments.items() if experiment_name in (None, name)]

        def submit(self, config, show_output=False):
            cloud.record("Experiment.submit", config=config, show_output=show_output)
            metric = config.kwargs["primary_metric"]
            parent = Run(f"AutoML_{next(cloud.ids)}", experiment=self.name, properties={"primary_metric": metric})
            cloud.runs[parent.id] = parent
            # Child runs in the order they ran (the first is the best: get_output returns it).
            for iteration, (algorithm, score) in enumerate(CHILDREN):
                child = Run(f"{parent.id}_{iteration}", parent, properties={
                    "primary_metric": metric, "iteration": str(iteration), "run_algorithm": algorithm,
                }, metrics={metric: score, "accuracy_table": "aml://artifact"})
                cloud.runs[child.id] = child
            return parent

        def get_runs(self, type=None):
            cloud.record("Experiment.get_runs", type=type)
            return reversed([r for r in cloud.runs.values() if r.parent is None and r.experiment == self.name])

    class RunDetails:
        def __init__(self, run):
            self.run = run

        def show(self):
            cloud.record("RunDetails.show", run_id=self.run.id)

    class Service:
        def __init__(self, name, models, auth_enabled):
            self.name, self.models, self.auth_enabled = name, models, auth_enabled
            self.state = "Transitioning"
            self.scoring_uri = f"http://{name}.westeurope.azurecontainer.io/score"
            self.swagger_uri = self.scoring_uri.replace("score", "swagger.json")
            self.tags = {}

        def wait_for_deployment(self, show_output=False, timeout_sec=None):
            cloud.record("Webservice.wait_for_deployment", show_output=show_output)
            if cloud.deployment_fails:
                self.state = "Failed"
                raise WebserviceException("Service deployment polling reached non-successful terminal state")
            self.state = "Healthy"

        def get_logs(self):
            return "2026-11-28 init() failed: ModuleNotFoundError: No module named 'amlpipe_missing'"

        def run(self, input_data):
            cloud.record("Webservice.run", input_data=input_data)
            return '{"result": [false]}'

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
                raise WebserviceException(f"ModelNotFound: {name}")
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
                raise WebserviceException(f"WebserviceNotFound: {name}")
            return cloud.services[name]

        @staticmethod
        def list(workspace):
            return list(cloud.services.values())

    def auth_class(kind):
        class Auth:
            def __init__(self, **kwargs):
                # Record which credential, never the values: fakes must not keep secrets either.
                cloud.record(kind, arguments=sorted(kwargs))

        Auth.__name__ = kind
        return Auth

    return {
        "Workspace": Workspace,
        "Experiment": Experiment,
        "Dataset": Dataset,
        "Run": Run,
        "Model": Model,
        "InferenceConfig": InferenceConfig,
        "ComputeTarget": ComputeTarget,
        "AmlCompute": AmlCompute,
        "ComputeTargetException": ComputeTargetException,
        "AciWebservice": AciWebservice,
        "Webservice": Webservice,
        "WebserviceException": WebserviceException,
        "AuthenticationException": AuthenticationException,
        "UserErrorException": UserErrorException,
        "AutoMLConfig": AutoMLConfig,
        "AutoMLRun": AutoMLRun,
        "RunDetails": RunDetails,
        "ServicePrincipalAuthentication": auth_class("ServicePrincipalAuthentication"),
        "AzureCliAuthentication": auth_class("AzureCliAuthentication"),
        "MsiAuthentication": auth_class("MsiAuthentication"),
        "InteractiveLoginAuthentication": auth_class("InteractiveLoginAuthentication"),
    }
