"""Where one large request goes inside score.py, in-process: JSON decoding, the contract's checks,
the model (ONNX Runtime or the pickled pipeline), and the whole `score.run` on a werkzeug request.

    python benchmarks/score_request.py --workspace .amlpipe   # after `make run` registered a model
    python benchmarks/score_request.py --workspace DIR --model-name penguins --data penguins.csv --label species
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

import amlpipe
from amlpipe import contract
from amlpipe.data import LABEL, read_csv, resolve_source


def best_ms(function, repeats: int) -> float:
    """The fastest of ``repeats`` calls after one warm-up call, in ms."""
    function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return 1000 * min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", default=".amlpipe")
    parser.add_argument("--model-name", default="heart-failure-automl")
    parser.add_argument("--data", default=os.environ.get("AMLPIPE_DATA"))
    parser.add_argument("--label", default=LABEL, help="the label column of --data (dropped from the records)")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    model = amlpipe.connect(backend="local", workspace_dir=args.workspace).get_model(args.model_name)
    os.environ["AZUREML_MODEL_DIR"] = str(model.path)
    sys.path.insert(0, str(Path(amlpipe.__file__).resolve().parents[2] / "inference"))
    import score

    score.init()
    frame = read_csv(resolve_source(args.data)).drop(columns=[args.label])
    rows = pd.concat([frame] * (args.rows // len(frame) + 1)).head(args.rows)
    body = json.dumps({"data": json.loads(rows.to_json(orient="records"))}).encode()
    payload = contract.parse_body(body, "application/json")
    parsed = contract.check_request(payload, score.schema, args.rows)

    def whole_request():
        request = Request(EnvironBuilder(method="POST", data=body, content_type="application/json").get_environ())
        return score.run(request)

    print(f"{args.rows:,} records, {len(body) / 1e6:.1f} MB, model served by {score.serving.describe(score.predictor)}")
    for part, function in [("JSON decoding", lambda: contract.parse_body(body, "application/json")),
                           ("the contract's checks", lambda: contract.check_request(payload, score.schema, args.rows)),
                           ("the model", lambda: score.predict(parsed)),
                           ("score.run, the whole request", whole_request)]:
        print(f"{part:32s} {best_ms(function, args.repeats):8.1f} ms")


if __name__ == "__main__":
    main()
