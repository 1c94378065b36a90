"""Endpoint latency and throughput on loopback: amlpipe's score.py serving the model's ONNX export
through ONNX Runtime, the same script serving model.pkl (the pickled pipeline itself,
`amlpipe.serving.Predictor`, as for a model that does not convert), and an AutoML-v1-style script.

All serve the same registered model on the same server (azureml-inference-server-http, one
worker), deployed by the local backend, one after the other in one run (--rounds times, to see
how much other processes on the machine move the figures):

- single-record latency, p50 and p99 over --requests sequential requests (keep-alive);
- requests/s with --clients concurrent clients;
- the time for one --batch-rows-row batch (median of 5), as rows/s;
- whether the answers equal the pipeline's own predictions on the real data.

    python benchmarks/endpoint.py --workspace .amlpipe   # after `make run` registered a model
    python benchmarks/endpoint.py --workspace .amlpipe --rounds 3 --skip-automl-style
    # another dataset (text categories, say): the model trained on it, its CSV and label column;
    # the single record is the data's first; the AutoML-v1-style script (the lesson's schema) is left out
    python benchmarks/endpoint.py --workspace DIR --model-name penguins --data penguins.csv --label species
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

import pandas as pd
import requests

import amlpipe
from amlpipe import InferenceSettings, ServiceSettings, contract
from amlpipe.data import LABEL, read_csv, resolve_source

HERE = Path(__file__).resolve().parent
LESSON_RECORD = {
    "age": "60", "anaemia": "false", "creatinine_phosphokinase": "500", "diabetes": "false",
    "ejection_fraction": "38", "high_blood_pressure": "false", "platelets": "260000",
    "serum_creatinine": "1.40", "serum_sodium": "137", "sex": "false", "smoking": "false", "time": "130",
}


def numeric_record(record):
    """The lesson's record with numbers, which the AutoML-style script's pandas schema needs."""
    return {k: (1 if v == "true" else 0 if v == "false" else float(v)) for k, v in record.items()}


def sequential(uri, body, n):
    session = requests.Session()
    data = json.dumps(body)
    headers = {"Content-Type": "application/json"}
    session.post(uri, data=data, headers=headers)  # warm-up
    latencies = []
    for _ in range(n):
        started = time.perf_counter()
        response = session.post(uri, data=data, headers=headers)
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
    latencies.sort()
    return latencies[len(latencies) // 2] * 1000, latencies[int(len(latencies) * 0.99) - 1] * 1000


def concurrent(uri, body, clients, per_client):
    data = json.dumps(body)
    errors = []

    def work():
        session = requests.Session()
        for _ in range(per_client):
            if session.post(uri, data=data, headers={"Content-Type": "application/json"}).status_code != 200:
                errors.append(1)

    threads = [threading.Thread(target=work) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    return clients * per_client / elapsed, len(errors)


def batch(uri, body, repeats=5):
    data = json.dumps(body)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = requests.post(uri, data=data, headers={"Content-Type": "application/json"})
        times.append(time.perf_counter() - started)
        response.raise_for_status()
    return statistics.median(times)


def records_of(frame):
    """The rows as JSON records, null where a value is missing."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def answers(uri, frame, style):
    response = requests.post(uri, json={"data": records_of(frame)}).json()
    if style == "automl":
        return [bool(v) for v in json.loads(response)["result"]]
    return response["result"]


def without_onnx(model, folder: Path):
    """A copy of the registered model without its ONNX export: score.py then serves model.pkl."""
    copy = folder / "model-pkl-only"
    shutil.copytree(model.path, copy)
    metadata = json.loads((copy / "metadata.json").read_text())
    (copy / "metadata.json").write_text(json.dumps({**metadata, "onnx_file": None}))
    (copy / "model.onnx").unlink(missing_ok=True)
    return dataclasses.replace(model, path=copy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", default=".amlpipe")
    parser.add_argument("--model-name", default="heart-failure-automl")
    parser.add_argument("--data", default=os.environ.get("AMLPIPE_DATA"))
    parser.add_argument("--label", default=LABEL, help="the label column of --data (dropped from the records)")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--per-client", type=int, default=200)
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=1, help="measure every script this many times, in turn")
    parser.add_argument("--skip-automl-style", action="store_true", help="only amlpipe's two serving paths")
    args = parser.parse_args()

    ws = amlpipe.connect(backend="local", workspace_dir=args.workspace)
    model = ws.get_model(args.model_name)
    frame = read_csv(resolve_source(args.data)).drop(columns=[args.label])
    classes = model.properties["classes"]
    written = contract.label_values(classes)  # how score.py writes each class
    expected = [written[classes.index(v)] for v in model.load().predict(frame).tolist()]
    lesson = args.label == LABEL
    record = LESSON_RECORD if lesson else records_of(frame.head(1))[0]
    big = pd.concat([frame] * (args.batch_rows // len(frame) + 1)).head(args.batch_rows)
    print(f"model {model.name}:{model.version} ({model.properties['algorithm']}, "
          f"ONNX export: {model.properties.get('onnx_file') or 'none'}), {os.cpu_count()} CPUs, "
          f"one server worker each, load average before: {os.getloadavg()[0]:.1f}\n")
    scratch = Path(tempfile.mkdtemp(prefix="amlpipe-bench-"))
    pkl_only = without_onnx(model, scratch)
    scripts = {
        "amlpipe score.py, ONNX Runtime": (model, None, "amlpipe"),
        "amlpipe score.py, pickled pipeline (model.pkl)": (pkl_only, None, "amlpipe"),
    }
    if lesson and not args.skip_automl_style:
        scripts["AutoML v1 style"] = (model, str(HERE / "automl_v1_style_score.py"), "automl")
    print(f"| round | script | p50 ms | p99 ms | req/s ({args.clients} clients) | {args.batch_rows:,}-row batch s | rows/s "
          "| answers equal the pipeline's | load avg |")
    print("|---|---|---|---|---|---|---|---|---|")
    try:
        for round_ in range(1, args.rounds + 1):
            for name, (served, script, style) in scripts.items():
                service = ws.deploy(served, ServiceSettings(name=f"bench-{style}"), InferenceSettings(entry_script=script))
                try:
                    service.wait_for_deployment()
                    one = record if style == "amlpipe" else numeric_record(LESSON_RECORD)
                    p50, p99 = sequential(service.scoring_uri, {"data": [one]}, args.requests)
                    rate, errors = concurrent(service.scoring_uri, {"data": [one]}, args.clients, args.per_client)
                    rows = records_of(big)
                    seconds = batch(service.scoring_uri, {"data": rows})
                    equal = answers(service.scoring_uri, frame, style) == expected
                    print(f"| {round_} | {name} | {p50:.2f} | {p99:.2f} | "
                          f"{rate:.0f}{' (' + str(errors) + ' errors)' if errors else ''} "
                          f"| {seconds:.3f} | {len(rows) / seconds:,.0f} | {equal} | {os.getloadavg()[0]:.1f} |", flush=True)
                finally:
                    service.delete()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
