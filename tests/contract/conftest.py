"""One world per registered backend, built the same way, for the contract tests.

A world is a workspace holding: an experiment with two AutoML runs (``first``: classification
on AUC_weighted, then ``latest``: regression on normalized_root_mean_squared_error), a model
registered twice from ``first``, the heart-failure dataset, and a service serving the model.
The local world is real (AutoML on the real rows, MLflow, a server on loopback); the azureml
world runs on the recording fakes of the SDK (tests/azureml/fake_sdk.py), the azureml-v2 world
on the recording fake of `MLClient` (tests/azureml_v2/fake_cloud.py).

A new backend joins the registry in `amlpipe.backends` and adds its builder to `BUILDERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

import amlpipe
from amlpipe import backends
from amlpipe.protocols import AutoMLRun, Service, Workspace

from ..azureml.conftest import azure_config, cloud, scoring_uri, tabular_dataset  # noqa: F401 (the azureml world's fixtures)
from ..azureml_v2.conftest import fake_azure

AZURE_MIN_BUDGET_MINUTES = 15
MODEL = "contract-model"
EXPERIMENT = "contract"
# Four trials, so that the leaderboard has an order to check, in seconds (holdout validation).
CLASSIFICATION = {"automl.experiment_timeout_minutes": 0.5, "automl.iterations": 4}
REGRESSION = {
    **CLASSIFICATION,
    "automl.task": "regression",
    "automl.primary_metric": "normalized_root_mean_squared_error",
    "automl.label_column_name": "serum_creatinine",
}


@dataclass
class World:
    """What every backend's world holds (see the module's docstring)."""

    ws: Workspace
    first: AutoMLRun
    latest: AutoMLRun
    dataset: Any
    compute: Any
    service: Service
    cv_run: Callable[[], AutoMLRun]  # a run validated by cross-validation (built on demand: it takes long)
    keeps_oof: bool  # whether the backend hands out the out-of-fold predictions of `cv_run`
    csv: Path

    @property
    def experiment(self):
        return self.ws.get_experiment(EXPERIMENT)


def _settings(root: Path, overrides) -> amlpipe.Settings:
    return amlpipe.Settings().override({**overrides, "automl.path": str(root)})


def _register_and_deploy(ws, run, service_name: str, wait: dict):
    run.register_model(MODEL)
    model = run.register_model(MODEL)
    service = ws.deploy(model, amlpipe.ServiceSettings(name=service_name))
    service.wait_for_deployment(**wait)
    return service


@pytest.fixture(scope="session")
def local_world(request, heart_csv, tmp_path_factory):
    """Holdout validation keeps the runs to seconds; the session's `trained` run is the cross-validated one."""
    root = tmp_path_factory.mktemp("contract-local")
    ws = amlpipe.connect(backend="local", workspace_dir=root / "ws")
    dataset = ws.register_dataset(heart_csv)
    compute = ws.get_or_create_compute(amlpipe.ComputeSettings())
    frame = dataset.to_pandas_dataframe()
    train, holdout = frame.iloc[:200], frame.iloc[200:]
    experiment = ws.get_or_create_experiment(EXPERIMENT)
    first = experiment.submit(_settings(root, CLASSIFICATION).automl, train, compute, validation_data=holdout)
    latest = experiment.submit(_settings(root, REGRESSION).automl, train, compute, validation_data=holdout)
    service = _register_and_deploy(ws, first, "contract-service", {"timeout_seconds": 120})
    cv_run = lambda: request.getfixturevalue("trained")["run"]  # noqa: E731
    yield World(ws, first, latest, dataset, compute, service, cv_run, True, heart_csv)
    for svc in ws.list_services():
        svc.delete()


def azureml_world(request) -> World:
    request.getfixturevalue("cloud")
    root = request.getfixturevalue("tmp_path")
    ws = amlpipe.connect(backend="azureml", config_path=request.getfixturevalue("azure_config"))
    heart_csv = request.getfixturevalue("heart_csv")
    dataset = ws.register_dataset(heart_csv)
    compute = ws.get_or_create_compute(amlpipe.ComputeSettings())
    experiment = ws.get_or_create_experiment(EXPERIMENT)
    azure_budget = {"automl.experiment_timeout_minutes": AZURE_MIN_BUDGET_MINUTES}  # Azure refuses less
    first = experiment.submit(_settings(root, {**CLASSIFICATION, **azure_budget}).automl, dataset, compute)
    latest = experiment.submit(_settings(root, {**REGRESSION, **azure_budget}).automl, dataset, compute)
    for run in (first, latest):
        run.wait_for_completion()  # a run gives a model once it has completed
    service = _register_and_deploy(ws, first, "contract-service", {})
    return World(ws, first, latest, dataset, compute, service, lambda: first, False, heart_csv)


# Azure ML SDK v2 refuses budgets under 15 whole minutes and a project path; the fake runs at once all the same.
V2_CLASSIFICATION = {"automl.experiment_timeout_minutes": AZURE_MIN_BUDGET_MINUTES, "automl.iterations": 4}
V2_REGRESSION = {**REGRESSION, **V2_CLASSIFICATION}


@pytest.fixture(scope="module")
def azureml_v2_world(heart_csv, tmp_path_factory):
    """The azureml-v2 world on the recording fake of `MLClient` (tests/azureml_v2/fake_cloud.py): AutoML runs in
    a real MLflow store, the endpoint a real server process. Built once per module, as the local world is."""
    with fake_azure(tmp_path_factory.mktemp("contract-v2")) as (_, config):
        ws = amlpipe.connect(backend="azureml-v2", config_path=config)
        dataset = ws.register_dataset(heart_csv)
        compute = ws.get_or_create_compute(amlpipe.ComputeSettings())
        experiment = ws.get_or_create_experiment(EXPERIMENT)
        first = experiment.submit(amlpipe.Settings().override(V2_CLASSIFICATION).automl, dataset, compute)
        latest = experiment.submit(amlpipe.Settings().override(V2_REGRESSION).automl, dataset, compute)
        service = _register_and_deploy(ws, first, "contract-service", {})
        yield World(ws, first, latest, dataset, compute, service, lambda: first, False, heart_csv)


# backend name -> how to build its world from the test's request
BUILDERS = {
    "local": lambda request: request.getfixturevalue("local_world"),
    "azureml": azureml_world,
    "azureml-v2": lambda request: request.getfixturevalue("azureml_v2_world"),
}


@pytest.fixture(params=sorted(backends.REGISTRY))
def world(request) -> World:
    name = request.param
    if name not in BUILDERS:
        pytest.fail(f"backend '{name}' has no world in tests/contract/conftest.py: add its builder to BUILDERS")
    built = BUILDERS[name](request)
    assert built.ws.backend == name, f"the '{name}' entry of the registry opened a '{built.ws.backend}' workspace"
    return built


@pytest.fixture
def backend(world) -> backends.Backend:
    return backends.get(world.ws.backend)

