"""The model's work per request in-process, for each serving path of score.py: ONNX Runtime on
model.onnx against the hand-written fast path on model.pkl (`amlpipe.serving.Predictor`).

CPU seconds of this process (one thread for each path, so that CPU time is the work done) are
measured beside wall-clock seconds: on a machine shared with other work, the wall clock moves
with the load and CPU time much less. Answers are compared on the real rows.

    python benchmarks/serving_paths.py --workspace .amlpipe   # after `make run` registered a model
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

import amlpipe
from amlpipe import serving
from amlpipe.data import LABEL, load_heart_failure


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
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import onnxruntime

    model = amlpipe.connect(backend="local", workspace_dir=args.workspace).get_model(args.model_name)
    metadata = model.properties
    schema = metadata["input_schema"]
    frame = load_heart_failure(args.data).drop(columns=[LABEL])
    big = pd.concat([frame] * (args.batch_rows // len(frame) + 1)).head(args.batch_rows)
    onnx_path = serving.OnnxPredictor(model.path / metadata["onnx_file"], schema, metadata["classes"])
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    onnx_path.session = onnxruntime.InferenceSession(str(model.path / metadata["onnx_file"]), options,
                                                     providers=["CPUExecutionProvider"])
    serving._CPUS = 1  # the fast path's forests and LightGBM on one thread too
    fast_path = serving.Predictor(model.load(), schema)
    paths = {"ONNX Runtime": onnx_path, "fast path": fast_path}

    def columns(rows):
        return {c: rows[c].astype(float).tolist() for c in schema}

    index, proba = onnx_path.classify(columns(frame))
    fast_index, fast_proba = fast_path.classify(columns(frame))
    print(f"model {model.name}:{model.version} ({metadata['algorithm']}), load average {os.getloadavg()[0]:.1f}; "
          f"labels equal: {np.array_equal(index, fast_index)}, largest probability gap {np.abs(proba - fast_proba).max():.1e}\n")
    print("| path | 1 record CPU ms | 1 record wall ms | 10k rows CPU ms | 10k rows wall ms |")
    print("|---|---|---|---|---|")
    one, many = columns(frame.head(1)), columns(big)
    for name, predictor in paths.items():
        single = measure(lambda: predictor.classify(one), args.repeats * 20)
        batch = measure(lambda: predictor.classify(many), args.repeats)
        print(f"| {name} | {single[0]:.3f} | {single[1]:.3f} | {batch[0]:.1f} | {batch[1]:.1f} |", flush=True)


if __name__ == "__main__":
    main()
