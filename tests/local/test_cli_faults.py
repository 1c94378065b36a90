"""The CLI under bad input and faults: one line and exit 1 (2 for usage), nothing lost, nothing outside the workspace."""

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from amlpipe import cli
from amlpipe import errors as amlpipe_errors

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _remove_progress_log_handlers():
    """`train` in this process sends log lines to the stderr capsys replaces; later tests must not write there."""
    import logging

    yield
    logger = logging.getLogger("amlpipe")
    for handler in [h for h in logger.handlers if getattr(h, "_amlpipe", False)]:
        logger.removeHandler(handler)


def amlpipe(*args, cwd, timeout=300):
    return subprocess.run([sys.executable, "-m", "amlpipe", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def one_line_error(capsys, argv, says, code=1):
    assert cli.main(argv) == code
    err = capsys.readouterr().err
    assert err.startswith("amlpipe: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert re.search(says, err), err
    return err


@pytest.mark.parametrize("make, says", [
    (lambda d: d / "missing.json", r"missing\.json: no such file"),
    (lambda d: d, r": is a folder"),
    (lambda d: (d / "latin1.json").write_bytes(b'{"age": "\xe9"}') and d / "latin1.json", r"latin1\.json: not UTF-8"),
    (lambda d: (d / "deep.json").write_text("[" * 100_000) and d / "deep.json", r"deep\.json: "),
])
def test_score_with_an_unreadable_file_is_one_line(capsys, tmp_path, make, says):
    one_line_error(capsys, ["score", "--file", str(make(tmp_path)), "--workspace", str(tmp_path / "ws")], says)


def test_score_with_a_number_on_stdin_is_one_line(capsys, tmp_path, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("5\n"))
    one_line_error(capsys, ["score", "--workspace", str(tmp_path / "ws")], r"stdin: a request is a JSON object .* not int")


def test_a_non_utf8_config_is_one_line(capsys, tmp_path):
    (tmp_path / "config.json").write_bytes(b'{"backend": "local", "x": "\xff"}')
    one_line_error(capsys, ["status", "--config", str(tmp_path / "config.json")], r"config\.json: not UTF-8")


def test_a_truncated_store_is_one_line_naming_it(capsys, tmp_path):
    ws = tmp_path / "ws"
    assert cli.main(["status", "--workspace", str(ws)]) == 0
    store = ws / "mlflow.db"
    store.write_bytes(store.read_bytes()[:1000])
    capsys.readouterr()
    one_line_error(capsys, ["status", "--workspace", str(ws)], r"mlflow\.db is not a readable MLflow store")


def test_a_busy_store_is_retried_then_reported_in_one_line(tmp_path, monkeypatch):
    """With the real exception SQLite raises; a store really held locked is in benchmarks/faults.py (MLflow itself
    waits 20 s per query before raising it)."""
    from amlpipe.backends.local import workspace

    attempts = []

    def busy_twice():
        attempts.append(time.monotonic())
        if len(attempts) <= 2:
            raise sqlite3.OperationalError("database is locked")
        return "answer"

    assert workspace.call_store(busy_twice, tmp_path / "mlflow.db") == "answer" and len(attempts) == 3
    monkeypatch.setattr(workspace, "BUSY_SECONDS", 0.3)

    def always_busy():
        raise sqlite3.OperationalError("database is locked")

    started = time.monotonic()
    with pytest.raises(amlpipe_errors.ResourceError, match=r"mlflow\.db stayed locked for 0\.3 s"):
        workspace.call_store(always_busy, tmp_path / "mlflow.db")
    assert time.monotonic() - started < 3
    with pytest.raises(sqlite3.OperationalError, match="syntax error"):  # any other error passes through
        workspace.call_store(lambda: (_ for _ in ()).throw(sqlite3.OperationalError("syntax error")), tmp_path)


@pytest.mark.parametrize("argv, says", [
    (["down", "--service", ".."], r"service name = '\.\.' is not a valid service name"),
    (["down", "--service", ""], r"service name = '' is not a valid service name"),
    (["down", "--service", "../../x"], r"not a valid service name"),
    (["score", "--service", "team/svc"], r"not a valid service name"),
    (["train", "--model-name", "team/model"], r"setting 'model\.model_name' = 'team/model'"),
    (["train", "--model-name", "it's"], r"setting 'model\.model_name'"),
    (["train", "--experiment", "../../escape"], r"setting 'experiment_name' = '\.\./\.\./escape'"),
    (["register", "--experiment", "../../escape"], r"setting 'experiment_name'"),
    (["status", "--experiment", "../../escape"], r"not a valid experiment name"),
])
def test_bad_names_are_refused_before_any_work_and_nothing_is_touched(capsys, tmp_path, argv, says):
    ws = tmp_path / "a" / "b" / "ws"
    assert cli.main(["status", "--workspace", str(ws)]) == 0
    capsys.readouterr()
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.name != ".lock")
    stdin = "{}" if argv[0] == "score" else None
    if stdin:
        import io

        sys.stdin = io.StringIO(stdin)
    try:
        one_line_error(capsys, [*argv, "--workspace", str(ws)], says)
    finally:
        sys.stdin = sys.__stdin__
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.name != ".lock")
    assert after == before  # no dataset version, no experiment folder, nothing deleted, nothing outside


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["score", "--method", "bogus"])
    assert info.value.code == 2


def test_first_commands_on_a_new_workspace_do_not_race(tmp_path):
    """Three processes open a new workspace at the same moment (MLflow creates and migrates its tables then)."""
    go = tmp_path / "go"
    script = (
        "import os, sys, time\n"
        "from amlpipe import cli\n"
        "import mlflow.store.tracking.sqlalchemy_store\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
        f"sys.exit(cli.main(['status', '--workspace', {str(tmp_path / 'ws')!r}]))\n"
    )
    processes = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, cwd=tmp_path) for _ in range(3)]
    time.sleep(5)  # let every process import amlpipe and MLflow
    go.touch()
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err
        assert "Traceback" not in err


def _train_until_searching(tmp_path, heart_csv, budget="0.5"):
    """Start `amlpipe train` and return it once its run is searching (its scratch folder exists)."""
    ws = tmp_path / "ws"
    process = subprocess.Popen(
        [sys.executable, "-m", "amlpipe", "train", "--budget-minutes", budget, "--data", str(heart_csv),
         "--workspace", str(ws), "--progress", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    deadline = time.monotonic() + 240
    while not any((ws / "tmp").glob("*")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    time.sleep(1)
    assert process.poll() is None, process.communicate()
    return process, ws


def test_sigterm_during_train_cancels_the_run_and_cleans_up(tmp_path, heart_csv):
    process, ws = _train_until_searching(tmp_path, heart_csv)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "amlpipe: terminated" in err and "Traceback" not in err
    assert not any((ws / "tmp").glob("*"))
    status = amlpipe("status", "--workspace", str(ws), cwd=tmp_path)
    assert re.search(r"latest run \w+ in aml-experiment: Canceled", status.stdout), status.stdout


def test_kill_9_during_train_is_marked_failed_on_the_next_command(tmp_path, heart_csv):
    process, ws = _train_until_searching(tmp_path, heart_csv)
    run_id = next((ws / "tmp").glob("*")).name
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=60)
    status = amlpipe("status", "--workspace", str(ws), cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert f"latest run {run_id} in aml-experiment: Failed" in status.stdout
    assert "was left Running by process" in status.stderr
    assert not (ws / "tmp" / run_id).exists()
    refused = amlpipe("register", "--workspace", str(ws), cwd=tmp_path)
    assert refused.returncode == 1 and f"run {run_id} is Failed" in refused.stderr
    assert sqlite3.connect(ws / "mlflow.db").execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_register_a_completed_run_from_the_command_line(trained, tmp_path):
    out = amlpipe("register", "--workspace", str(trained["ws"].root), "--model-name", "registered-again", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"registered model registered-again version 1: {trained['model'].properties['algorithm']}" in out.stdout
    assert f"from run {trained['run'].id}" in out.stdout


def test_a_copied_workspace_serves_and_writes_its_own_files(trained, tmp_path):
    import shutil

    import amlpipe

    copy = tmp_path / "copy"
    shutil.copytree(trained["ws"].root, copy, ignore=shutil.ignore_patterns("services"))
    ws = amlpipe.connect(backend="local", workspace_dir=copy)
    model = ws.get_model(trained["model"].name)
    assert model.path.is_relative_to(copy) and (model.path / "model.pkl").is_file()
    assert ws.get_experiment("aml-experiment").get_run().outputs_dir.parent.is_relative_to(copy)
    assert ws.summary()["moved_from"] == str(trained["ws"].root)
    experiment = ws.get_or_create_experiment("aml-experiment")
    assert ws.client.get_experiment(experiment.id).artifact_location.startswith(copy.as_uri() + "/")
    original = amlpipe.connect(backend="local", workspace_dir=trained["ws"].root)  # the original is untouched
    assert original.get_model(trained["model"].name).path == trained["model"].path
    assert "moved_from" not in original.summary()
