"""The challenge pipeline's register step: runs inside an Azure ML job, not in amlpipe.

Logs the AutoML node's best model (an MLflow model folder, the step's input) to the job's own
MLflow run and registers it under the given name in the workspace's model registry. Writes
``model.json`` (name, version) into ``--registered_model`` (the step's output) and tags the
job's run with ``model_name`` and ``model_version``, which amlpipe reads back from the child
job. Inside an Azure ML job MLflow is already pointed at the workspace and at the job's run;
elsewhere set ``MLFLOW_TRACKING_URI`` (and ``MLFLOW_RUN_ID``).

    python register_step.py --model <folder> --name heart-failure-automl [--description ...] \
        [--tags JSON] [--registered_model <folder>]
"""

import argparse
import json
import os
import sys

ARTIFACT_PATH = "model"
REGISTRATION_FILE = "model.json"


def parse_arguments(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the MLflow model folder (the AutoML node's best_model)")
    parser.add_argument("--name", required=True, help="the registered model's name")
    parser.add_argument("--description", default="")
    parser.add_argument("--tags", default="{}", help="JSON object of tags")
    parser.add_argument("--registered_model", help="output folder: model.json (name, version) goes there")
    return parser.parse_args(argv)


def register(model_folder: str, name: str, description: str = "", tags=None):
    """Log ``model_folder`` as an artifact of the active run and register it as ``name``; returns the new version."""
    import mlflow

    with mlflow.start_run() as run:
        mlflow.log_artifacts(model_folder, ARTIFACT_PATH)
        version = mlflow.register_model(f"runs:/{run.info.run_id}/{ARTIFACT_PATH}", name, tags=tags or None)
        mlflow.set_tags({"model_name": version.name, "model_version": str(version.version)})
    if description:
        mlflow.MlflowClient().update_model_version(name, version.version, description=description)
    return version


def main(argv=None) -> int:
    args = parse_arguments(argv)
    version = register(args.model, args.name, args.description, json.loads(args.tags))
    if args.registered_model:
        os.makedirs(args.registered_model, exist_ok=True)
        with open(os.path.join(args.registered_model, REGISTRATION_FILE), "w") as fh:
            json.dump({"name": version.name, "version": int(version.version)}, fh)
    print(f"registered model {version.name} version {version.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
