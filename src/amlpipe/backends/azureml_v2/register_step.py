"""The challenge pipeline's register step: runs inside an Azure ML job, not in amlpipe.

Logs the AutoML node's best model (an MLflow model folder, the step's input) to the job's own
MLflow run and registers it under the given name in the workspace's model registry. Inside an
Azure ML job MLflow is already pointed at the workspace; elsewhere set ``MLFLOW_TRACKING_URI``.

    python register_step.py --model <folder> --name heart-failure-automl [--description ...]
"""

import argparse
import json
import sys

import mlflow

ARTIFACT_PATH = "model"


def register(model_folder: str, name: str, description: str = "", tags=None):
    """Log ``model_folder`` as an artifact of the active run and register it as ``name``; returns the new version."""
    with mlflow.start_run() as run:
        mlflow.log_artifacts(model_folder, ARTIFACT_PATH)
        version = mlflow.register_model(f"runs:/{run.info.run_id}/{ARTIFACT_PATH}", name, tags=tags or None)
    if description:
        mlflow.MlflowClient().update_model_version(name, version.version, description=description)
    return version


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="the MLflow model folder (the AutoML node's best_model)")
    parser.add_argument("--name", required=True, help="the registered model's name")
    parser.add_argument("--description", default="")
    parser.add_argument("--tags", default="{}", help="JSON object of tags")
    args = parser.parse_args(argv)
    version = register(args.model, args.name, args.description, json.loads(args.tags))
    print(f"registered model {version.name} version {version.version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
