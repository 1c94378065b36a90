"""The pipeline's register step on Azure ML: register the AutoML step's best model.

Run by a `PythonScriptStep` on the compute cluster, with the AutoML step's model output
(`TrainingOutput(type="Model")`: the best model's file) as ``--model_data``. Writes
``model.json`` (name, version) into ``--registered_model`` for the next step and sets the
step run's ``model_name`` and ``model_version`` properties, which amlpipe reads back.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import List, Optional


def parse_arguments(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model_data", required=True, help="the AutoML step's model output")
    parser.add_argument("--model_name", required=True, help="the registered model's name")
    parser.add_argument("--description", default="", help="the registered model's description")
    parser.add_argument("--tags", default="{}", help="the registered model's tags, as JSON")
    parser.add_argument("--registered_model", required=True, help="output folder: model.json goes there")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    from azureml.core import Run
    from azureml.core.model import Model

    args = parse_arguments(argv)
    run = Run.get_context()
    model = Model.register(workspace=run.experiment.workspace, model_path=args.model_data, model_name=args.model_name,
                           description=args.description, tags=json.loads(args.tags))
    os.makedirs(args.registered_model, exist_ok=True)
    with open(os.path.join(args.registered_model, "model.json"), "w") as fh:
        json.dump({"name": model.name, "version": model.version}, fh)
    run.add_properties({"model_name": model.name, "model_version": str(model.version)})
    print(f"registered model {model.name} version {model.version}")


if __name__ == "__main__":
    main()
