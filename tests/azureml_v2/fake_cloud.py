"""A recording fake of `MLClient` for the azureml-v2 backend: only the Azure cloud is faked.

Every operation the backend calls lands in `Cloud.calls` as (``"group.method"``, arguments),
and raises azure-core's real exception classes (`ResourceNotFoundError`, `HttpResponseError`)
where Azure would. What the fake hands back are the SDK's real entities (`AmlCompute`,
`Data`, `Model`, `ManagedOnlineEndpoint`, the AutoML job). Behind it, real local stand-ins:

- data assets: the uploaded MLTable folder is copied into the cloud's folder and read back with `mltable`;
- AutoML: a job makes a parent MLflow run and two trials in a real MLflow store on SQLite (the
  workspace's tracking URI), the best trial holding an MLflow model fitted on the uploaded data;
  the trials are child jobs too (`jobs.list(parent_job_name=...)`), as run history answers them;
- pipelines: a pipeline job (built with `dsl.pipeline`, or on a registered pipeline component)
  runs its nodes in order as child jobs: the AutoML node as above, the register node by parsing
  its command with register_step.py's own argument parser; a node whose inputs and definition
  did not change is reused as Azure ML does (``azureml.isreused``) unless ``force_rerun``;
- managed online endpoints: a deployment starts azureml-inference-server-http running the
  deployment's own code (amlpipe's score.py) on the model's files, bound to loopback, with keys.

With ``root`` the state is kept in ``root/state.pkl`` so that separate processes (the notebooks'
kernels) share one cloud; `install` puts the fake in place of `sdk.MLClient`.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import secrets
import shlex
import shutil
import subprocess
import sys
import time
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from amlpipe.backends.local.workspace import copy_empty_store

STATE_FILE = "state.pkl"
ENV_ROOT = "AMLPIPE_FAKE_AZURE"  # the kernels of a notebook run find the shared cloud here


class Poller:
    """What `begin_*` returns: `.result()`."""

    def __init__(self, value: Any = None):
        self.value = value

    def result(self, timeout: Optional[float] = None) -> Any:
        return self.value


class State:
    """What exists in the fake Azure; pickled between processes."""

    def __init__(self):
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.computes: Dict[str, Any] = {}
        self.data: Dict[str, List[Any]] = {}
        self.jobs: Dict[str, Any] = {}
        self.trials: Dict[str, Any] = {}  # child jobs (AutoML trials, pipeline steps): found by jobs.get, not listed by jobs.list
        self.children: Dict[str, List[str]] = {}  # parent job -> its child jobs, in order
        self.job_errors: Dict[str, Dict[str, Any]] = {}  # a failed job -> Azure's error
        self.step_runs: Dict[str, Dict[str, Any]] = {}  # a pipeline node's reuse key -> the child job that ran it
        self.components: Dict[str, List[Any]] = {}
        self.schedules: Dict[str, Any] = {}
        self.fail_node: Optional[str] = None  # a pipeline node that fails when it runs
        self.polls_until_done: Optional[int] = None  # jobs.get answers Running until this many calls
        self.models: Dict[str, List[Any]] = {}
        self.endpoints: Dict[str, Any] = {}
        self.servers: Dict[str, Dict[str, Any]] = {}  # endpoint -> pid, port, keys, logs
        self.fail: Dict[str, Exception] = {}  # "group.method" -> the exception to raise
        self.job_status = "Completed"


class Cloud:
    """The fake Azure: its state, its folder, and the calls made to it."""

    def __init__(self, root: Path, persistent: bool = False):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.persistent = persistent
        self.state = State()
        self.load()
        if not (self.root / "mlflow.db").exists():  # the workspace's MLflow store, made as a local workspace's is
            copy_empty_store(self.root / "mlflow.db")

    # --- state shared between processes
    def load(self) -> None:
        if self.persistent and (self.root / STATE_FILE).exists():
            self.state = pickle.loads((self.root / STATE_FILE).read_bytes())

    def save(self) -> None:
        if self.persistent:
            partial = self.root / (STATE_FILE + ".part")
            partial.write_bytes(pickle.dumps(self.state))
            partial.replace(self.root / STATE_FILE)

    @property
    def calls(self) -> List[Tuple[str, Dict[str, Any]]]:
        return self.state.calls

    def names(self) -> List[str]:
        return [name for name, _ in self.calls]

    def arguments(self, name: str) -> Dict[str, Any]:
        return next(args for n, args in self.calls if n == name)

    def record(self, _call: str, **arguments) -> None:
        self.load()
        if self.persistent:  # shared through a pickle: what does not pickle (pipeline entities) is kept by its type
            arguments = {k: v if _picklable(v) else type(v).__name__ for k, v in arguments.items()}
        self.state.calls.append((_call, arguments))
        self.save()
        if _call in self.state.fail:
            raise self.state.fail[_call]

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.root / 'mlflow.db'}"

    def stop_servers(self) -> None:
        """Stop every endpoint's server process (the test's safety net)."""
        for server in list(self.state.servers.values()):
            _stop(server["pid"])
        self.state.servers.clear()
        self.save()


def _picklable(value: Any) -> bool:
    try:
        pickle.loads(pickle.dumps(value))  # pipeline entities pickle, but do not unpickle
    except Exception:  # noqa: BLE001 - whatever pickle refuses
        return False
    return True


def not_found(kind: str, name: str) -> ResourceNotFoundError:
    return ResourceNotFoundError(f"{kind} {name} not found (ResourceNotFound)")


def one_version(versions: List[Any], version: Optional[str], label: Optional[str], what: str) -> Any:
    """The asset version asked for (``label="latest"``: the last), or azure-core's ResourceNotFoundError."""
    found = versions[-1:] if label == "latest" else [v for v in versions if v.version == version]
    if not found:
        raise not_found(what, f"version {version or label}")
    return found[0]


class _Operations:
    def __init__(self, cloud: Cloud):
        self.cloud = cloud

    @property
    def state(self) -> State:
        return self.cloud.state


class ComputeOperations(_Operations):
    def get(self, name: str):
        self.cloud.record("compute.get", name=name)
        if name not in self.state.computes:
            raise not_found("Compute", name)
        return self.state.computes[name]

    def begin_create_or_update(self, compute):
        self.cloud.record("compute.begin_create_or_update", compute=compute)
        self.state.computes[compute.name] = compute
        self.cloud.save()
        return Poller(compute)

    def begin_delete(self, name: str, **kwargs):
        self.cloud.record("compute.begin_delete", name=name)
        self.state.computes.pop(name, None)
        self.cloud.save()
        return Poller()


class DataOperations(_Operations):
    def get(self, name: str, version: Optional[str] = None, label: Optional[str] = None):
        self.cloud.record("data.get", name=name, version=version, label=label)
        return one_version(self.state.data.get(name, []), version, label, f"Data asset {name}")

    def create_or_update(self, data):
        """'Upload' the MLTable folder into the cloud's storage, as the SDK does before registering."""
        self.cloud.record("data.create_or_update", data=data)
        from azure.ai.ml.entities import Data

        stored = self.cloud.root / "storage" / "data" / data.name / data.version
        shutil.copytree(data.path, stored)
        registered = Data(name=data.name, version=data.version, type=data.type, path=str(stored),
                          description=data.description, tags=dict(data.tags))
        self.state.data.setdefault(data.name, []).append(registered)
        self.cloud.save()
        return registered

    def list(self, name: Optional[str] = None):
        self.cloud.record("data.list", name=name)
        return [versions[-1] for versions in self.state.data.values()]


class JobOperations(_Operations):
    def create_or_update(self, job, **kwargs):
        self.cloud.record("jobs.create_or_update", job=job)
        if job.type == "pipeline":
            name, status = run_pipeline(self.cloud, job)
            # The service's record of it, as jobs.get reads it back (the SDK's pipeline entity does not pickle).
            job = child_job(name, job.display_name or name, status, job.experiment_name, datetime.now(timezone.utc))
        else:
            name, status = run_automl(self.cloud, job), self.state.job_status
        job.name = name
        self.state.jobs[name] = (job, status)
        self.cloud.save()
        return self.get(name, _record=False)

    def get(self, name: str, _record: bool = True):
        if _record:
            self.cloud.record("jobs.get", name=name)
        if name in self.state.trials:
            return self.state.trials[name]
        if name not in self.state.jobs:
            raise not_found("Job", name)
        job, status = self.state.jobs[name]
        if self.state.polls_until_done and _record:
            self.state.polls_until_done -= 1
            status = "Running" if self.state.polls_until_done > 0 else status
        job._status = status  # the SDK's entities keep the service's status here
        return job

    def list(self, *, parent_job_name: Optional[str] = None, **kwargs):
        if parent_job_name is None:
            self.cloud.record("jobs.list")
            return [self.get(name, _record=False) for name in reversed(list(self.state.jobs))]
        self.cloud.record("jobs.list", parent_job_name=parent_job_name)
        self.get(parent_job_name, _record=False)  # the SDK gets the parent first: ResourceNotFoundError
        return [self.state.trials[name] for name in self.state.children.get(parent_job_name, [])]

    def stream(self, name: str) -> None:
        """Print the log's summary; a failed job raises the SDK's JobException holding Azure's error, as the SDK does."""
        self.cloud.record("jobs.stream", name=name)
        from azure.ai.ml.exceptions import ErrorCategory, ErrorTarget, JobException

        job = self.get(name, _record=False)  # ResourceNotFoundError first, as the SDK's _get_job
        print(f"RunId: {name}\nExecution Summary\n=================\nRunId: {name}", flush=True)
        if job.status == "Failed":
            error = self.state.job_errors.get(name, {"error": {"code": "SystemError", "message": "the job failed"}})
            raise JobException(message="Exception : \n {} ".format(json.dumps(error, indent=4)),
                               target=ErrorTarget.JOB, no_personal_data_message="Exception raised on failed job.",
                               error_category=ErrorCategory.SYSTEM_ERROR)


class ComponentOperations(_Operations):
    def create_or_update(self, component, version: Optional[str] = None, **kwargs):
        """A `@dsl.pipeline` function becomes its component (the SDK's own `_refine_component`), validated, stored."""
        self.cloud.record("components.create_or_update", component=component)
        from azure.ai.ml.operations._component_operations import _refine_component

        if isinstance(component, types.FunctionType):
            component = _refine_component(component)
        if version is not None:
            component.version = version
        component._validate(raise_error=True)  # what the SDK checks before it sends the component
        self.state.components.setdefault(component.name, []).append(component)
        self.cloud.save()
        return component

    def get(self, name: str, version: Optional[str] = None, label: Optional[str] = None):
        self.cloud.record("components.get", name=name, version=version, label=label)
        return one_version(self.state.components.get(name, []), version, label, f"Component {name}")

    def list(self, name: Optional[str] = None, **kwargs):
        """Without a name, one entry per component (the containers); with one, its versions."""
        self.cloud.record("components.list", name=name)
        if name is not None:
            return list(self.state.components.get(name, []))
        return [versions[-1] for versions in self.state.components.values()]


class ScheduleOperations(_Operations):
    def begin_create_or_update(self, schedule, **kwargs):
        self.cloud.record("schedules.begin_create_or_update", schedule=schedule)
        schedule._validate(raise_error=True)
        self.state.schedules[schedule.name] = schedule
        self.cloud.save()
        return Poller(schedule)


class ModelOperations(_Operations):
    def create_or_update(self, model):
        self.cloud.record("models.create_or_update", model=model)
        from azure.ai.ml.entities import Model

        run_id = model.path.split("/jobs/")[1].split("/")[0]
        versions = self.state.models.setdefault(model.name, [])
        registered = Model(name=model.name, version=str(len(versions) + 1), type=model.type, path=model.path,
                           description=model.description, tags=dict(model.tags), job_name=run_id)
        versions.append(registered)
        self.cloud.save()
        return registered

    def get(self, name: str, version: Optional[str] = None, label: Optional[str] = None):
        self.cloud.record("models.get", name=name, version=version, label=label)
        return one_version(self.state.models.get(name, []), version, label, f"Model {name}")

    def list(self, name: Optional[str] = None, **kwargs):
        """Without a name, one entry per model (the containers); with one, its versions."""
        self.cloud.record("models.list", name=name)
        if name is not None:
            return list(self.state.models.get(name, []))
        return [versions[-1] for versions in self.state.models.values()]

    def download(self, name: str, version: str, download_path: str = ".") -> None:
        self.cloud.record("models.download", name=name, version=version)
        model = next(m for m in self.state.models[name] if m.version == version)
        source = self.cloud.root / "storage" / "jobs" / model.job_name / "mlflow-model"
        shutil.copytree(source, Path(download_path) / name / "mlflow-model", dirs_exist_ok=True)


class EndpointAuthKeys:
    def __init__(self, primary_key: str, secondary_key: str):
        self.primary_key, self.secondary_key = primary_key, secondary_key


class OnlineEndpointOperations(_Operations):
    def begin_create_or_update(self, endpoint):
        self.cloud.record("online_endpoints.begin_create_or_update", endpoint=endpoint,
                          traffic=dict(endpoint.traffic or {}))
        from azure.ai.ml.entities import ManagedOnlineEndpoint

        server = self.state.servers.get(endpoint.name)
        stored = ManagedOnlineEndpoint(
            name=endpoint.name, auth_mode=endpoint.auth_mode, description=endpoint.description,
            tags=dict(endpoint.tags or {}), traffic=dict(endpoint.traffic or {}), provisioning_state="Succeeded",
            scoring_uri=f"http://127.0.0.1:{server['port']}/score" if server else
            f"https://{endpoint.name}.westeurope.inference.ml.azure.com/score",
            openapi_uri=f"http://127.0.0.1:{server['port']}/swagger.json" if server else
            f"https://{endpoint.name}.westeurope.inference.ml.azure.com/swagger.json",
        )
        self.state.endpoints[endpoint.name] = stored
        self.cloud.save()
        return Poller(stored)

    def get(self, name: str):
        self.cloud.record("online_endpoints.get", name=name)
        if name not in self.state.endpoints:
            raise not_found("Online endpoint", name)
        return self.state.endpoints[name]

    def list(self, **kwargs):
        self.cloud.record("online_endpoints.list")
        return list(self.state.endpoints.values())

    def get_keys(self, name: str):
        self.cloud.record("online_endpoints.get_keys", name=name)
        keys = self.state.servers.get(name, {}).get("keys") or ("primary-secret", "secondary-secret")
        return EndpointAuthKeys(*keys)

    def begin_delete(self, name: str, **kwargs):
        self.cloud.record("online_endpoints.begin_delete", name=name)
        if name not in self.state.endpoints:
            raise not_found("Online endpoint", name)
        server = self.state.servers.pop(name, None)
        if server:
            _stop(server["pid"])
        del self.state.endpoints[name]
        self.cloud.save()
        return Poller()


class OnlineDeploymentOperations(_Operations):
    def begin_create_or_update(self, deployment):
        self.cloud.record("online_deployments.begin_create_or_update", deployment=deployment)
        self.state.servers[deployment.endpoint_name] = start_server(self.cloud, deployment)
        self.cloud.save()
        return Poller(deployment)

    def get_logs(self, name: str, endpoint_name: str, lines: int, **kwargs) -> str:
        self.cloud.record("online_deployments.get_logs", name=name, endpoint_name=endpoint_name, lines=lines)
        log = self.cloud.root / "servers" / f"{endpoint_name}.log"
        text = log.read_text(errors="replace") if log.exists() else "init() failed: no model found"
        return "\n".join(text.splitlines()[-lines:])


class Workspace:
    def __init__(self, name: str, tracking_uri: str):
        self.name = name
        self.location = "westeurope"
        self.resource_group = "rg"
        self.mlflow_tracking_uri = tracking_uri


class WorkspaceOperations(_Operations):
    def get(self, name: str):
        self.cloud.record("workspaces.get", name=name)
        return Workspace(name, self.cloud.tracking_uri)


class FakeMLClient:
    """`MLClient` with the operation groups the backend uses, on one `Cloud`."""

    cloud: Cloud  # set by `install`

    def __init__(self, cloud: Cloud, workspace_name: str):
        self.workspace_name = workspace_name
        self.compute = ComputeOperations(cloud)
        self.data = DataOperations(cloud)
        self.jobs = JobOperations(cloud)
        self.components = ComponentOperations(cloud)
        self.schedules = ScheduleOperations(cloud)
        self.models = ModelOperations(cloud)
        self.online_endpoints = OnlineEndpointOperations(cloud)
        self.online_deployments = OnlineDeploymentOperations(cloud)
        self.workspaces = WorkspaceOperations(cloud)

    @classmethod
    def from_config(cls, credential, path=None, **kwargs):
        config = json.loads(Path(path).read_text())
        # Which credential class, never its values: fakes keep no secrets either.
        cls.cloud.record("MLClient.from_config", credential=type(credential).__name__, path=path,
                         options=sorted(kwargs))
        return cls(cls.cloud, config["workspace_name"])


def install(cloud: Cloud, sdk_module) -> None:
    """Put the fake `MLClient` on ``cloud`` in place of the SDK's (everything else stays real)."""
    client = type("MLClient", (FakeMLClient,), {"cloud": cloud})
    setattr(sdk_module, "MLClient", client)


def install_from_environment() -> None:
    """In a notebook's kernel (by sitecustomize): the shared cloud in ``$AMLPIPE_FAKE_AZURE``."""
    from amlpipe.backends.azureml_v2 import sdk

    install(Cloud(Path(os.environ[ENV_ROOT]), persistent=True), sdk)


# --- the stand-ins behind the fake: AutoML on MLflow, endpoints on the inference server


def child_job(name: str, display_name: str, status: str, experiment_id: str, started: datetime,
              properties: Optional[Dict[str, str]] = None, tags: Optional[Dict[str, str]] = None,
              seconds: float = 1.0):
    """A child job as `jobs.get`/`jobs.list(parent_job_name=...)` answer one: run history's `Run` read by the
    SDK's own `_BaseJob._load_from_rest`."""
    from azure.ai.ml._restclient.runhistory.models import Run
    from azure.ai.ml.entities._job.base_job import _BaseJob

    return _BaseJob._load_from_rest(Run(
        run_id=name, display_name=display_name, status=status, experiment_id=experiment_id,
        properties=dict(properties or {}), tags=dict(tags or {}), created_utc=started,
        last_modified_utc=started + timedelta(seconds=seconds)))


def run_automl(cloud: Cloud, job) -> str:
    """An AutoML job: `automl_run` on its training data; the job carries the best trial's tag, as Azure's does."""
    from azure.ai.ml.entities import SystemData

    started = datetime.now(timezone.utc)
    parent_id, best = automl_run(cloud, job, job.training_data.path, job.experiment_name, started)
    job.tags = {**(job.tags or {}), "automl_best_child_run_id": best}
    job._creation_context = SystemData(created_at=started, last_modified_at=started + timedelta(seconds=60))
    return parent_id


def automl_run(cloud: Cloud, job, training_data: str, experiment_name: str,
               started: Optional[datetime] = None) -> Tuple[str, str]:
    """A parent MLflow run with two trials; the best holds an MLflow model fitted on the job's training data.

    Returns:
        The parent run id and the best trial's.
    """
    import mlflow.sklearn
    import mltable
    import sklearn
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from amlpipe.backends.azureml_v2.run import v1_metric_name
    from amlpipe.metrics import GREATER_IS_BETTER
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    started = started or datetime.now(timezone.utc)
    name, version = training_data.split(":")[1:]
    asset = next(d for d in cloud.state.data[name] if d.version == version)
    frame = mltable.load(asset.path).to_pandas_dataframe()
    label = job.target_column_name
    features = frame.drop(columns=[label])
    classification = str(getattr(job.task_type, "value", job.task_type)).lower() == "classification"
    final = LogisticRegression(max_iter=1000) if classification else LinearRegression()
    fitted = make_pipeline(StandardScaler(), final).fit(features, frame[label])

    client = MlflowClient(tracking_uri=cloud.tracking_uri)
    experiment = client.get_experiment_by_name(experiment_name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(experiment_name)
    parent = client.create_run(experiment_id, tags={"azureml.runsource": "automl"})
    parent_id = parent.info.run_id
    # Two trials, the best first; their scores in the job's primary metric (lower is better for errors).
    metric = v1_metric_name(job.primary_metric)
    scores = (0.91, 0.88) if metric in GREATER_IS_BETTER and GREATER_IS_BETTER[metric] else (0.08, 0.12)
    trials = [("VotingEnsemble", scores[0]), ("LogisticRegression" if classification else "ElasticNet", scores[1])]
    # Run history's children of an AutoML parent: the setup run, then the trials (runTemplate automl_child).
    setup = f"{parent_id}_setup"
    cloud.state.trials[setup] = child_job(setup, setup, "Completed", experiment_id, started)
    child_ids = [setup]
    for iteration, (algorithm, score) in enumerate(trials):
        child = client.create_run(experiment_id, tags={"mlflow.parentRunId": parent_id, "run_algorithm": algorithm,
                                                       "iteration": str(iteration)})
        client.log_metric(child.info.run_id, metric, score)
        client.set_terminated(child.info.run_id)
        child_ids.append(child.info.run_id)
        cloud.state.trials[child.info.run_id] = child_job(
            child.info.run_id, child.info.run_id, "Completed", experiment_id, started + timedelta(seconds=iteration),
            properties={"runTemplate": "automl_child", "run_algorithm": algorithm, "iteration": str(iteration),
                        "score": str(score)}, seconds=30.0 + iteration)
    cloud.state.children[parent_id] = child_ids
    best = child_ids[1]
    client.log_metric(parent_id, metric, trials[0][1])
    client.set_tag(parent_id, "automl_best_child_run_id", best)
    client.set_terminated(parent_id)

    # The best trial's model as AutoML leaves it: an MLflow model (MLmodel with the input signature, conda.yaml, model.pkl).
    folder = cloud.root / "storage" / "jobs" / best / "mlflow-model"
    folder.parent.mkdir(parents=True, exist_ok=True)
    # The requirements named, as AutoML's conda.yaml names them: inferring them runs a subprocess (5 s).
    mlflow.sklearn.save_model(fitted, str(folder), signature=infer_signature(features, frame[label]),
                              serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE,
                              pip_requirements=[f"mlflow=={mlflow.__version__}",
                                                f"scikit-learn=={sklearn.__version__}"])
    return parent_id, best


def run_pipeline(cloud: Cloud, job) -> Tuple[str, str]:
    """Run the pipeline job's nodes in order as child jobs; returns the job's name and final status.

    The nodes are the job's own (`dsl.pipeline`) or those of the registered pipeline component
    it names (``componentId``). A node is reused when the same node definition ran on the same
    inputs before and the job does not ``force_rerun``; `fail_node` makes that node fail.
    """
    from amlpipe.backends.azureml_v2 import register_step

    body = job._to_rest_object().as_dict()["properties"]  # what the SDK sends
    if body.get("componentId"):
        component_name, version = body["componentId"].split(":")[1:]
        component = one_version(cloud.state.components.get(component_name, []), version, None,
                                f"Component {component_name}")
        nodes, node_bodies = component.jobs, component._to_rest_object().as_dict()["properties"]["componentSpec"]["jobs"]
    else:
        nodes, node_bodies = job.jobs, body["jobs"]
    name = f"pipeline_{len(cloud.state.jobs)}"
    force = bool(body["settings"].get("force_rerun"))
    produced = {"data": body["inputs"]["data"]["uri"]}  # what a node's input binds to -> its reuse key part
    outputs: Dict[str, Dict[str, str]] = {}  # node -> output -> local folder
    cloud.state.children[name] = []
    status = "Completed"
    for node_name, node in nodes.items():
        started = datetime.now(timezone.utc)
        # A node's definition: its REST form, with a command component's command and code (by content).
        node_body = {k: v for k, v in node_bodies[node_name].items() if k not in ("component", "componentId")}
        definition = json.dumps(node_body, sort_keys=True, default=str)
        upstream = [produced[key] for key in produced if key in definition]
        if node.type == "command":
            definition += node.component.command + _folder_hash(Path(node.component.code))
        key = hashlib.sha256((definition + "|".join(upstream)).encode()).hexdigest()
        child = f"{name}_{node_name}"
        earlier = cloud.state.step_runs.get(key)
        if earlier and not force:
            cloud.state.trials[child] = child_job(child, node_name, "Completed", "exp", started, properties={
                "azureml.isreused": "true", "azureml.reusedrunid": earlier["job"]})
            outputs[node_name] = earlier["outputs"]
        elif cloud.state.fail_node == node_name:
            cloud.state.trials[child] = child_job(child, node_name, "Failed", "exp", started)
            cloud.state.children[name].append(child)
            cloud.state.job_errors[name] = {"error": {"code": "UserError", "message": (
                f"Pipeline has failed child jobs. Failed nodes: /{node_name}. For more details and logs, please go "
                f"to the job detail page and check the child jobs.")}}
            status = "Failed"
            break
        elif node.type == "automl":
            parent_id, best = automl_run(cloud, node, body["inputs"]["data"]["uri"], body["experimentName"])
            child = parent_id  # the AutoML node's child job is the AutoML parent run
            cloud.state.trials[child] = child_job(child, node_name, "Completed", "exp", started,
                                                  tags={"automl_best_child_run_id": best}, seconds=60.0)
            outputs[node_name] = {"best_model": str(cloud.root / "storage" / "jobs" / best / "mlflow-model")}
        else:
            tags, outputs[node_name] = _register_node(cloud, node, child, outputs, register_step)
            cloud.state.trials[child] = child_job(child, node_name, "Completed", "exp", started, tags=tags)
        if not (earlier and not force):
            cloud.state.step_runs[key] = {"job": child, "outputs": outputs[node_name]}
        cloud.state.children[name].append(child)
        produced[f"jobs.{node_name}.outputs"] = key
    return name, status


def _folder_hash(folder: Path) -> str:
    """What Azure ML hashes a component's code by: the files' contents."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def _register_node(cloud: Cloud, node, child: str, outputs: Dict[str, Dict[str, str]], register_step):
    """The register node: its command parsed by register_step.py's own parser, the model registered as the script
    does (an MLflow model in the workspace's registry), model.json written, the run tagged."""
    from azure.ai.ml.entities import Model

    upstream = next(iter(outputs.values()))  # the AutoML node's
    folder = cloud.root / "storage" / "jobs" / child
    command = (node.component.command.replace("${{inputs.model}}", upstream["best_model"])
               .replace("${{outputs.registered_model}}", str(folder / "registered_model")))
    script, *argv = shlex.split(command)[1:]
    assert script == Path(register_step.__file__).name, script
    args = register_step.parse_arguments(argv)
    shutil.copytree(args.model, folder / "mlflow-model")
    versions = cloud.state.models.setdefault(args.name, [])
    model = Model(name=args.name, version=str(len(versions) + 1), type="mlflow_model",
                  path=f"azureml://jobs/{child}/outputs/artifacts/paths/{register_step.ARTIFACT_PATH}/",
                  description=args.description, tags=json.loads(args.tags), job_name=child)
    versions.append(model)
    Path(args.registered_model).mkdir(parents=True)
    (Path(args.registered_model) / register_step.REGISTRATION_FILE).write_text(
        json.dumps({"name": model.name, "version": int(model.version)}))
    return {"model_name": model.name, "model_version": model.version}, {"registered_model": args.registered_model}


def start_server(cloud: Cloud, deployment) -> Dict[str, Any]:
    """azureml-inference-server-http running the deployment's code on the model's files, on a free loopback port."""
    from amlpipe.backends.local.deployment import _free_port, _healthy

    name, version = deployment.model.split(":")[1:]
    model = next(m for m in cloud.state.models[name] if m.version == version)
    folder = cloud.root / "servers" / deployment.endpoint_name
    shutil.rmtree(folder, ignore_errors=True)
    code = shutil.copytree(deployment.code_configuration.code, folder / "code")
    model_dir = shutil.copytree(cloud.root / "storage" / "jobs" / model.job_name / "mlflow-model",
                                folder / "model" / "mlflow-model")
    keys = (secrets.token_urlsafe(16), secrets.token_urlsafe(16))
    keys_file = folder / "keys.json"
    keys_file.write_text(json.dumps({"primary_key": keys[0], "secondary_key": keys[1]}))
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if k != ENV_ROOT}  # the server is no client of the fake
    env = {**environ, "AZUREML_MODEL_DIR": str(model_dir.parent), "AML_APP_ROOT": str(code),
           "AMLPIPE_KEYS_FILE": str(keys_file), "WORKER_COUNT": "1", **deployment.environment_variables}
    log = open(cloud.root / "servers" / f"{deployment.endpoint_name}.log", "ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "amlpipe.backends.local.server", "--entry_script",
         str(code / deployment.code_configuration.scoring_script), "--port", str(port)],
        cwd=code, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not _healthy(port, timeout=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            _stop(process.pid)
            raise HttpResponseError(message=f"Deployment {deployment.name} failed: the inference server did not start")
        time.sleep(0.25)
    return {"pid": process.pid, "port": port, "keys": keys}


def _stop(pid: int) -> None:
    import signal

    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.waitpid(pid, os.WNOHANG)
            os.kill(pid, 0)
        except (ChildProcessError, ProcessLookupError):
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
