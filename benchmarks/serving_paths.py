"""The model's work per request in-process, for each serving path of score.py: ONNX Runtime on
model.onnx against the pickled pipeline itself (`amlpipe.serving.Predictor`, what serves a model
that does not convert); then what score.py does before the model on a large request (JSON
decoding, the contract's checks).

CPU seconds of this process (one thread for each path, so that CPU time is the work done) are
measured beside wall-clock seconds: on a machine shared with other work, the wall clock moves
with the load and CPU time much less. Answers are compared on the real rows.

    python benchmarks/serving_paths.py --workspace .amlpipe   # after `make run` registered a model
    python benchmarks/serving_paths.py --workspace DIR --model-name penguins --data penguins.csv --label species
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
import pandas as pd

import amlpipe
from amlpipe import contract, serving
from amlpipe.data import LABEL, read_csv, resolve_source


def measure(function, repeats):
    """(min CPU ms, min wall ms) over ``repeats`` calls, after one warm-up call."""
    function()
    cpu, wall = [], []
    for _ in range(repeats):
        c, w = time.process_time(), time.perf_counter()
        function()
        cpu.append(time.process_time() - c)
        wall.append(time.perf_counter() - w)
    return 1000 * min(cpu), 1000 * min(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", default=".amlpipe")
    parser.add_argument("--model-name", default="heart-failure-automl")
    parser.add_argument("--data", default=os.environ.get("AMLPIPE_DATA"))
    parser.add_argument("--label", default=LABEL, help="the label column of --data (dropped from the records)")
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import onnxruntime

    model = amlpipe.connect(backend="local", workspace_dir=args.workspace).get_model(args.model_name)
    metadata = model.properties
    schema = metadata["input_schema"]
    frame = read_csv(resolve_source(args.data)).drop(columns=[args.label])
    big = pd.concat([frame] * (args.batch_rows // len(frame) + 1)).head(args.batch_rows)
    onnx_path = serving.OnnxPredictor(model.path / metadata["onnx_file"], schema, metadata["classes"])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    onnx_path.session = onnxruntime.InferenceSession(str(model.path / metadata["onnx_file"]), options,
                                                     providers=["CPUExecutionProvider"])
    pipeline_path = serving.Predictor(model.load())  # n_jobs=1 on every part, as score.py loads it
    paths = {"ONNX Runtime": onnx_path, "pickled pipeline": pipeline_path}

    def columns(rows):
        """The rows as score.py's predictor gets them: checked by the contract."""
        records = rows.astype(object).where(rows.notna(), None).to_dict("records")
        return contract.check_request({"data": records}, schema, max_rows=len(records)).columns

    index, proba = onnx_path.classify(columns(frame))
    pipeline_index, pipeline_proba = pipeline_path.classify(columns(frame))
    print(f"model {model.name}:{model.version} ({metadata['algorithm']}), load average {os.getloadavg()[0]:.1f}; "
          f"labels equal: {np.array_equal(index, pipeline_index)}, "
          f"largest probability gap {np.abs(proba - pipeline_proba).max():.1e}\n")
    print("| path | 1 record CPU ms | 1 record wall ms | 10k rows CPU ms | 10k rows wall ms |")
    print("|---|---|---|---|---|")
    one, many = columns(frame.head(1)), columns(big)
    for name, predictor in paths.items():
        single = measure(lambda: predictor.classify(one), args.repeats * 20)
        batch = measure(lambda: predictor.classify(many), args.repeats)
        print(f"| {name} | {single[0]:.3f} | {single[1]:.3f} | {batch[0]:.1f} | {batch[1]:.1f} |", flush=True)
    # What score.py does before the model, on the same rows as one request's body
    records = big.astype(object).where(big.notna(), None).to_dict("records")
    body = json.dumps({"data": records}).encode()
    payload = contract.parse_body(body, "application/json")
    for name, step in [("JSON decoding", lambda: contract.parse_body(body, "application/json")),
                       ("the contract's checks", lambda: contract.check_request(payload, schema, len(records)))]:
        cpu, wall = measure(step, args.repeats)
        print(f"| {name} (the {len(records):,}-row request, {len(body) / 1e6:.1f} MB) | | | {cpu:.1f} | {wall:.1f} |",
              flush=True)


if __name__ == "__main__":
    main()
