"""A recording fake of `MLClient` for the azureml-v2 backend: only the Azure cloud is faked.

Every operation the backend calls lands in `Cloud.calls` as (``"group.method"``, arguments),
and raises azure-core's real exception classes (`ResourceNotFoundError`, `HttpResponseError`)
where Azure would. What the fake hands back are the SDK's real entities (`AmlCompute`,
`Data`, `Model`, `ManagedOnlineEndpoint`, the AutoML job). Behind it, real local stand-ins:

- data assets: the uploaded MLTable folder is copied into the cloud's folder and read back with `mltable`;
- AutoML: a job makes a parent MLflow run and two trials in a real MLflow store on SQLite (the
  workspace's tracking URI), the best trial holding an MLflow model fitted on the uploaded data;
- managed online endpoints: a deployment starts azureml-inference-server-http running the
  deployment's own code (amlpipe's score.py) on the model's files, bound to loopback, with keys.

With ``root`` the state is kept in ``root/state.pkl`` so that separate processes (the notebooks'
kernels) share one cloud; `install` puts the fake in place of `sdk.MLClient`.
"""

from __future__ import annotations

import json
import os
import pickle
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

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
        self.trials: Dict[str, Any] = {}  # AutoML's child jobs: found by jobs.get, not listed by jobs.list
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
        name = f"pipeline_{len(self.state.jobs)}" if job.type == "pipeline" else run_automl(self.cloud, job)
        job.name = name
        self.state.jobs[name] = (job, self.state.job_status)
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
        job._status = status  # the SDK's entities keep the service's status here
        return job

    def list(self, **kwargs):
        self.cloud.record("jobs.list")
        return [self.get(name, _record=False) for name in reversed(list(self.state.jobs))]

    def stream(self, name: str) -> None:
        self.cloud.record("jobs.stream", name=name)
        print(f"RunId: {name}\nExecution Summary\n=================\nRunId: {name}", flush=True)


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


def run_automl(cloud: Cloud, job) -> str:
    """A parent MLflow run with two trials; the best holds an MLflow model fitted on the job's training data."""
    import mlflow.sklearn
    import mltable
    from mlflow.models import infer_signature
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from amlpipe.backends.azureml_v2.run import v1_metric_name
    from amlpipe.metrics import GREATER_IS_BETTER
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    name, version = job.training_data.path.split(":")[1:]
    asset = next(d for d in cloud.state.data[name] if d.version == version)
    frame = mltable.load(asset.path).to_pandas_dataframe()
    label = job.target_column_name
    features = frame.drop(columns=[label])
    classification = str(getattr(job.task_type, "value", job.task_type)).lower() == "classification"
    final = LogisticRegression(max_iter=1000) if classification else LinearRegression()
    fitted = make_pipeline(StandardScaler(), final).fit(features, frame[label])

    client = MlflowClient(tracking_uri=cloud.tracking_uri)
    experiment = client.get_experiment_by_name(job.experiment_name)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(job.experiment_name)
    parent = client.create_run(experiment_id, tags={"azureml.runsource": "automl"})
    parent_id = parent.info.run_id
    # Two trials, the best first; their scores in the job's primary metric (lower is better for errors).
    metric = v1_metric_name(job.primary_metric)
    scores = (0.91, 0.88) if metric in GREATER_IS_BETTER and GREATER_IS_BETTER[metric] else (0.08, 0.12)
    trials = [("VotingEnsemble", scores[0]), ("LogisticRegression" if classification else "ElasticNet", scores[1])]
    child_ids = []
    for iteration, (algorithm, score) in enumerate(trials):
        child = client.create_run(experiment_id, tags={"mlflow.parentRunId": parent_id, "run_algorithm": algorithm,
                                                       "iteration": str(iteration)})
        client.log_metric(child.info.run_id, metric, score)
        client.set_terminated(child.info.run_id)
        child_ids.append(child.info.run_id)
        cloud.state.trials[child.info.run_id] = SimpleNamespace(
            name=child.info.run_id, status="Completed", experiment_name=job.experiment_name, type="automl_trial")
    client.log_metric(parent_id, metric, trials[0][1])
    client.set_tag(parent_id, "automl_best_child_run_id", child_ids[0])
    client.set_terminated(parent_id)

    # The best trial's model as AutoML leaves it: an MLflow model (MLmodel with the input signature, conda.yaml, model.pkl).
    folder = cloud.root / "storage" / "jobs" / child_ids[0] / "mlflow-model"
    folder.parent.mkdir(parents=True, exist_ok=True)
    mlflow.sklearn.save_model(fitted, str(folder), signature=infer_signature(features, frame[label]),
                              serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_PICKLE)
    return parent_id


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
