"""The live view: refreshed in place in a person's notebook, from the run's children, until the run ends."""

import pytest

import amlpipe
from amlpipe import environment, live

from .conftest import execute

BOARD = """
import pandas as pd
from amlpipe.live import LiveView
board = pd.DataFrame({"iteration": [1, 0], "algorithm": ["XGBoostClassifier", "LightGBM"], "AUC_weighted": [0.90, 0.88],
                      "duration_s": [30.0, 31.0], "elapsed_s": [90.0, 31.0], "run_id": ["r_1", "r_0"],
                      "status": ["Completed", "Completed"]})
view = LiveView("AutoML_1", "AUC_weighted", True)
"""


def test_the_outputs_are_replaced_in_place_in_a_real_kernel(kernel):
    execute(kernel, BOARD, allow_stdin=True)
    first = execute(kernel, "view.update(board, 'Running')", allow_stdin=True)
    second = execute(kernel, "view.update(board, 'Completed')", allow_stdin=True)
    shown = [m for m in first if m["msg_type"] == "display_data"]
    assert [sorted(m["content"]["data"]) for m in shown] == [
        ["text/markdown", "text/plain"], ["text/html", "text/plain"], ["image/png", "text/plain"]]
    ids = [m["content"]["transient"]["display_id"] for m in shown]
    updates = [m for m in second if m["msg_type"] in ("display_data", "update_display_data")]
    assert [m["msg_type"] for m in updates] == ["update_display_data"] * 3  # nothing new below, the same outputs change
    assert [m["content"]["transient"]["display_id"] for m in updates] == ids
    assert "AutoML run AutoML_1: Completed, 2 child runs, best AUC_weighted 0.9000 (XGBoostClassifier)" in \
        updates[0]["content"]["data"]["text/markdown"]


def test_wait_shows_the_live_view_in_a_persons_notebook_until_the_run_ends(cloud, azure_config, heart_csv, monkeypatch):
    seen = []
    monkeypatch.setattr(live.LiveView, "update", lambda self, board, status: seen.append((status, list(board.columns), len(board))))
    monkeypatch.setattr(environment, "interactive_notebook", lambda: True)
    cloud.add_cluster("heart-f-cluster")
    cloud.polls_until_done = 3
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    run = ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(), ws.register_dataset(heart_csv), None,
                                                  show_output=True)
    run.watch(refresh_seconds=0)  # what wait_for_completion(show_output=True) does here, without the 20 s pauses
    assert [s for s, _, _ in seen] == ["Running", "Running", "Completed"]
    assert seen[-1][1] == ["iteration", "algorithm", "AUC_weighted", "duration_s", "elapsed_s", "run_id", "status"]
    assert seen[-1][2] == 4
    assert "RunDetails.show" in cloud.names()  # kept for the classic notebook, where it renders


def test_wait_in_a_persons_notebook_uses_the_live_view_not_the_sdks_text(cloud, azure_config, heart_csv, monkeypatch):
    from amlpipe.backends.azureml import run as run_module

    monkeypatch.setattr(run_module, "LIVE_REFRESH_SECONDS", 0)
    monkeypatch.setattr(live.LiveView, "update", lambda self, board, status: None)
    monkeypatch.setattr(environment, "interactive_notebook", lambda: True)
    cloud.add_cluster("heart-f-cluster")
    cloud.polls_until_done = 2
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    run = ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(), ws.register_dataset(heart_csv), None)
    run.wait_for_completion(show_output=True)
    waits = [args["show_output"] for name, args in cloud.calls if name == "Run.wait_for_completion"]
    assert waits == [False]  # the quiet wait to the end; no streamed text under the live view


def test_summary_line_before_any_child():
    import pandas as pd

    line = live.summary_line("A", "Running", pd.DataFrame(columns=["algorithm", "AUC_weighted"]), "AUC_weighted")
    assert line == "AutoML run A: Running, 0 child runs, no score yet"


def test_refreshes_ask_finished_children_once(cloud, azure_config, heart_csv, monkeypatch):
    from . import fake_sdk

    asked = []
    original = fake_sdk.Run.get_details
    monkeypatch.setattr(fake_sdk.Run, "get_details", lambda self: asked.append(self.id) or original(self))
    cloud.add_cluster("heart-f-cluster")
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    run = ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(), ws.register_dataset(heart_csv), None)
    run.get_leaderboard()
    run.get_leaderboard()
    assert sorted(i for i in asked if i != run.id) == sorted(f"{run.id}_{n}" for n in range(4))


def test_a_network_blip_does_not_end_the_watch_but_a_lasting_failure_does(cloud, azure_config, heart_csv, monkeypatch):
    import requests

    from . import fake_sdk

    monkeypatch.setattr(live.LiveView, "update", lambda self, board, status: None)
    cloud.add_cluster("heart-f-cluster")
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    run = ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(), ws.register_dataset(heart_csv), None)
    original, blips = fake_sdk.Run.get_metrics, iter([True, False])

    def flaky(self, *args, **kwargs):
        if next(blips, False):
            raise requests.ConnectionError("Connection reset by peer")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(fake_sdk.Run, "get_metrics", flaky)
    cloud.polls_until_done = 3
    run.watch(refresh_seconds=0)
    assert run.status == "Completed"
    cloud.runs[run.id].status = "Running"
    cloud.polls_until_done = None
    blips = iter([True] * 10)
    with pytest.raises(amlpipe.ResourceError, match="cannot reach Azure"):
        run.watch(refresh_seconds=0)
