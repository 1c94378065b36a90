"""The live view on azureml-v2: in a person's notebook the wait refreshes it from the job and its child jobs
(`jobs.get`, `jobs.list(parent_job_name=...)`) until the job ends; headless it streams (`jobs.stream`)."""

import pytest

import amlpipe
from amlpipe import environment, live
from amlpipe.backends.azureml_v2 import run as run_module
from amlpipe.backends.azureml_v2.experiment import AzureV2Experiment

SETTINGS = amlpipe.Settings().override({"automl.experiment_timeout_minutes": 15})


@pytest.fixture
def submitted(cloud, azure_config, heart_csv):
    """An AutoML job submitted without touching the workspace's MLflow (the live view needs none)."""
    ws = amlpipe.connect(backend="azureml-v2", config_path=azure_config)
    compute = ws.get_or_create_compute(SETTINGS.compute)
    run = AzureV2Experiment(ws, "e").submit(SETTINGS.automl, ws.register_dataset(heart_csv), compute)
    return cloud, run


def test_watch_refreshes_the_view_from_the_child_jobs_until_the_job_ends(submitted, monkeypatch):
    cloud, run = submitted
    seen = []
    monkeypatch.setattr(live.LiveView, "update", lambda self, board, status: seen.append((status, board.copy())))
    cloud.state.polls_until_done = 3
    since = len(cloud.calls)
    run.watch(refresh_seconds=0)
    assert [status for status, _ in seen] == ["Running", "Running", "Completed"]
    board = seen[-1][1]
    assert list(board.columns) == ["iteration", "algorithm", "AUC_weighted", "duration_s", "elapsed_s", "run_id", "status"]
    assert board.to_dict("list") | {"run_id": None} == {  # the setup run is no trial: left out
        "iteration": [0, 1], "algorithm": ["VotingEnsemble", "LogisticRegression"], "AUC_weighted": [0.91, 0.88],
        "duration_s": [30.0, 31.0], "elapsed_s": [30.0, 32.0], "run_id": None, "status": ["Completed", "Completed"]}
    assert cloud.calls[since:] == [("jobs.get", {"name": run.id}), ("jobs.list", {"parent_job_name": run.id})] * 3
    assert "workspaces.get" not in cloud.names()  # no MLflow: nothing needs azureml-mlflow


def test_wait_in_a_persons_notebook_shows_the_live_view_not_the_stream(submitted, monkeypatch):
    cloud, run = submitted
    updates = []
    monkeypatch.setattr(run_module, "LIVE_REFRESH_SECONDS", 0)
    monkeypatch.setattr(live.LiveView, "update", lambda self, board, status: updates.append(status))
    monkeypatch.setattr(environment, "interactive_notebook", lambda: True)
    cloud.state.polls_until_done = 2
    assert run.wait_for_completion(show_output=True)["status"] == "Completed"
    assert updates == ["Running", "Completed"]
    assert "jobs.stream" not in cloud.names()


def test_headless_the_wait_streams_and_shows_no_view(submitted, monkeypatch):
    cloud, run = submitted
    monkeypatch.setattr(live.LiveView, "update", lambda self, board, status: pytest.fail("no live view headless"))
    monkeypatch.setattr(environment, "interactive_notebook", lambda: False)
    run.wait_for_completion(show_output=True)
    assert [n for n in cloud.names() if n.startswith("jobs.")][-2:] == ["jobs.stream", "jobs.get"]
    assert ("jobs.list", {"parent_job_name": run.id}) not in cloud.calls


def test_a_failed_job_in_the_live_view_raises_with_azures_status(submitted, monkeypatch):
    cloud, run = submitted
    monkeypatch.setattr(run_module, "LIVE_REFRESH_SECONDS", 0)
    monkeypatch.setattr(live.LiveView, "update", lambda self, board, status: None)
    monkeypatch.setattr(environment, "interactive_notebook", lambda: True)
    job, _ = cloud.state.jobs[run.id]
    cloud.state.jobs[run.id] = (job, "Failed")
    with pytest.raises(amlpipe.ResourceError, match=f"AutoML job '{run.id}' ended Failed"):
        run.wait_for_completion(show_output=True)


def test_a_network_blip_does_not_end_the_watch_but_a_lasting_failure_does(submitted, monkeypatch):
    from azure.core.exceptions import ServiceRequestError

    from . import fake_cloud

    cloud, run = submitted
    monkeypatch.setattr(live.LiveView, "update", lambda self, board, status: None)
    original, blips = fake_cloud.JobOperations.list, iter([True, False])

    def flaky(self, **kwargs):
        if next(blips, False):
            raise ServiceRequestError("HTTPSConnection(host='westeurope.api.azureml.ms', port=443): Failed to resolve")
        return original(self, **kwargs)

    monkeypatch.setattr(fake_cloud.JobOperations, "list", flaky)
    cloud.state.polls_until_done = 3
    run.watch(refresh_seconds=0)
    assert run.sdk_job.status == "Completed"
    blips = iter([True] * 10)
    cloud.state.polls_until_done = 100
    with pytest.raises(amlpipe.ResourceError, match="cannot reach westeurope.api.azureml.ms"):
        run.watch(refresh_seconds=0)
