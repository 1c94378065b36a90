"""Hardening figures: a long endpoint fuzz, load with and without slow clients, faults during `amlpipe train`.

    python -m benchmarks.hardening fuzz --workspace .amlpipe --examples 3000
    python -m benchmarks.hardening load --workspace .amlpipe --clients 8 --seconds 20
    python -m benchmarks.hardening faults --folder /tmp/faults

`fuzz` and `load` serve the latest registered model of the workspace (a new service, deleted
at the end); everything is on loopback. `faults` trains in a workspace of its own: a first
run registers a model, then `amlpipe train` is killed (SIGKILL, SIGTERM) at several moments,
and after each kill it checks that `status` works, that SQLite's `PRAGMA integrity_check` is
ok, that no run is left Running, that no earlier run or model is lost and that no scratch
folder is left; at the end `train` and `down` must work.
Run from the repository root (the fuzz strategies are the test suite's).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

import amlpipe
from amlpipe import ServiceSettings

LESSON_RECORD = {
    "age": "60", "anaemia": "false", "creatinine_phosphokinase": "500", "diabetes": "false",
    "ejection_fraction": "38", "high_blood_pressure": "false", "platelets": "260000",
    "serum_creatinine": "1.40", "serum_sodium": "137", "sex": "false", "smoking": "false", "time": "130",
}


def deploy(workspace: str, name: str):
    ws = amlpipe.connect(backend="local", workspace_dir=workspace)
    model = max(ws.list_models(), key=lambda m: m.version)
    service = ws.deploy(model, ServiceSettings(name=name))
    service.wait_for_deployment()
    return service


def fuzz(args) -> None:
    from hypothesis import HealthCheck, given, settings, strategies as st

    from tests.local.test_endpoint_hardening import requests_

    service = deploy(args.workspace, "fuzz-bench")
    counts: collections.Counter = collections.Counter()
    contract_bodies = [0]
    session = requests.Session()

    @settings(max_examples=args.examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(payload=requests_, as_bytes=st.binary(max_size=200), raw_body=st.booleans(),
           content_type=st.sampled_from(["application/json", "application/json; charset=utf-16", "text/plain", None]))
    def one(payload, as_bytes, raw_body, content_type):
        data = as_bytes if raw_body else json.dumps(payload).encode()
        headers = {"Content-Type": content_type} if content_type else {}
        response = session.post(service.scoring_uri, data=data, headers=headers, timeout=30)
        counts[response.status_code] += 1
        body = response.json()
        ok = "result" in body if response.status_code == 200 else set(body) == {"error"}
        contract_bodies[0] += ok

    started = time.monotonic()
    try:
        one()
    finally:
        service.delete()
    total = sum(counts.values())
    print(f"fuzz: {total} requests in {time.monotonic() - started:.0f} s; status codes "
          f"{dict(sorted(counts.items()))}; 5xx: {sum(v for k, v in counts.items() if k >= 500)}; "
          f"answers in the contract's shape: {contract_bodies[0]} of {total}")


def _load(uri: str, clients: int, seconds: float):
    body = json.dumps({"data": [LESSON_RECORD]})
    latencies, errors = [], collections.Counter()
    stop = time.monotonic() + seconds

    def client():
        session = requests.Session()
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                status = session.post(uri, data=body, headers={"Content-Type": "application/json"}, timeout=30).status_code
                if status != 200:
                    errors[status] += 1
            except requests.RequestException as exc:
                errors[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    return len(latencies) / seconds, statistics.median(latencies) * 1000, p99 * 1000, dict(errors) or 0, len(latencies)


def _hold_slow_clients(port: int, n: int):
    held = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"")
        held.append(s)
    return held


def load(args) -> None:
    service = deploy(args.workspace, "load-bench")
    try:
        rate, p50, p99, errors, n = _load(service.scoring_uri, args.clients, args.seconds)
        print(f"load: {args.clients} clients, {args.seconds:.0f} s: {n} requests, {rate:.0f} requests/s, "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} errors")
        slow = _hold_slow_clients(service.port, args.slow_clients)
        started = time.perf_counter()
        health = requests.get(f"http://127.0.0.1:{service.port}/", timeout=60).status_code
        health_ms = (time.perf_counter() - started) * 1000
        rate, p50, p99, errors, n = _load(service.scoring_uri, args.clients, args.seconds)
        answers = []
        for s in slow:
            s.settimeout(60)
            answers.append(s.recv(100).split(b"\r\n")[0].decode())
            s.close()
        print(f"with {args.slow_clients} slow clients holding a 100-byte body after 2 bytes: health check "
              f"{health} in {health_ms:.1f} ms; {args.clients} clients: {n} requests, {rate:.0f} requests/s, "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, {errors} errors; the slow clients got "
              f"{collections.Counter(answers)}")
    finally:
        service.delete()


def _amlpipe(*argv, cwd, timeout=600):
    return subprocess.run([sys.executable, "-m", "amlpipe", *argv], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout)


def _store_state(ws: Path):
    db = sqlite3.connect(ws / "mlflow.db")
    try:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        runs = dict(db.execute("SELECT run_uuid, status FROM runs").fetchall())
        models = db.execute("SELECT name, version FROM model_versions").fetchall()
    finally:
        db.close()
    return integrity, runs, sorted(models)


# When train is signalled: seconds after its run started searching (None: 1 s after the command started;
# negative: that many seconds after the search's budget ran out, while the model is recorded and registered).
MOMENTS = {"starting": None, "search +5 s": 5, "after the search": -2}


def faults(args) -> None:
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    ws = folder / "ws"
    common = ["--workspace", str(ws), "--progress", "none"]
    if args.data:
        common += ["--data", args.data]
    first = _amlpipe("train", "--budget-minutes", "0.1", *common, cwd=folder)
    assert first.returncode == 0, first.stderr
    rows = []
    budget_s = 18
    for signum in (signal.SIGKILL, signal.SIGTERM):
        for moment, after_search_s in MOMENTS.items():
            _, runs_before, models_before = _store_state(ws)
            process = subprocess.Popen(
                [sys.executable, "-m", "amlpipe", "train", "--budget-minutes", str(budget_s / 60), *common],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=folder)
            if after_search_s is None:
                time.sleep(1)
            else:
                while not any((ws / "tmp").glob("*")) and process.poll() is None:
                    time.sleep(0.1)
                time.sleep(after_search_s if after_search_s >= 0 else budget_s - after_search_s)
            searching = any((ws / "tmp").glob("*"))
            process.send_signal(signum)
            _, err = process.communicate(timeout=300)
            status = _amlpipe("status", "--workspace", str(ws), cwd=folder)
            integrity, runs_after, models_after = _store_state(ws)
            lost_runs = [r for r, s in runs_before.items() if runs_after.get(r) != s]
            rows.append({
                "signal": signal.Signals(signum).name, "moment": moment, "scratch_at_kill": searching,
                "exit": process.returncode, "status_exit": status.returncode, "integrity": integrity,
                "running_left": sum(s == "RUNNING" for s in runs_after.values()),
                "runs_changed": len(lost_runs), "models_lost": len(set(models_before) - set(models_after)),
                "scratch_left": len(list((ws / "tmp").glob("*"))), "traceback": "Traceback" in err + status.stderr,
            })
            print(json.dumps(rows[-1]), flush=True)
    again = _amlpipe("train", "--budget-minutes", "0.1", *common, cwd=folder)
    deployed = _amlpipe("status", "--workspace", str(ws), cwd=folder)
    down = _amlpipe("down", "--workspace", str(ws), cwd=folder)
    print(f"afterwards: train exit {again.returncode}, status exit {deployed.returncode}, down exit {down.returncode}; "
          f"integrity {_store_state(ws)[0]}")
    locked = sqlite3.connect(ws / "mlflow.db", isolation_level=None)
    locked.execute("BEGIN EXCLUSIVE")
    started = time.monotonic()
    held = _amlpipe("status", "--workspace", str(ws), cwd=folder)
    locked.execute("ROLLBACK")
    print(f"store held locked by another connection: status exit {held.returncode} after "
          f"{time.monotonic() - started:.0f} s: {held.stderr.strip().splitlines()[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    f = commands.add_parser("fuzz")
    f.add_argument("--workspace", default=".amlpipe")
    f.add_argument("--examples", type=int, default=3000)
    f.set_defaults(handler=fuzz)
    ld = commands.add_parser("load")
    ld.add_argument("--workspace", default=".amlpipe")
    ld.add_argument("--clients", type=int, default=8)
    ld.add_argument("--slow-clients", type=int, default=4)
    ld.add_argument("--seconds", type=float, default=20)
    ld.set_defaults(handler=load)
    fa = commands.add_parser("faults")
    fa.add_argument("--folder", default="/tmp/amlpipe-faults")
    fa.add_argument("--data", default=os.environ.get("AMLPIPE_DATA"))
    fa.set_defaults(handler=faults)
    args = parser.parse_args()
    args.handler(args)


if __name__ == "__main__":
    main()
