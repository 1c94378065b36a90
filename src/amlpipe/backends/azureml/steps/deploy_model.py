"""The pipeline's deploy step on Azure ML: deploy the registered model to Container Instances.

Run by a `PythonScriptStep` on the compute cluster. Reads ``model.json`` from the register
step's output, deploys the model with the ``score.py`` beside this script (amlpipe's entry
script, copied here with the modules it imports) in the AutoML curated environment, waits
until the service is healthy, and sets the step run's ``service`` and ``scoring_uri``
properties.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_arguments(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--registered_model", required=True, help="the register step's output")
    parser.add_argument("--service_name", required=True)
    parser.add_argument("--cpu_cores", type=float, default=1)
    parser.add_argument("--memory_gb", type=float, default=1)
    parser.add_argument("--auth_enabled", choices=["true", "false"], default="false")
    parser.add_argument("--environment", default="AzureML-AutoML", help="the curated environment to serve in")
    parser.add_argument("--service", required=True, help="output folder: service.json goes there")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    from azureml.core import Environment, Run
    from azureml.core.model import InferenceConfig, Model
    from azureml.core.webservice import AciWebservice

    args = parse_arguments(argv)
    run = Run.get_context()
    workspace = run.experiment.workspace
    with open(os.path.join(args.registered_model, "model.json")) as fh:
        registered = json.load(fh)
    model = Model(workspace, name=registered["name"], version=registered["version"])
    inference_config = InferenceConfig(entry_script="score.py", source_directory=HERE,
                                       environment=Environment.get(workspace, args.environment))
    deployment_config = AciWebservice.deploy_configuration(cpu_cores=args.cpu_cores, memory_gb=args.memory_gb,
                                                           auth_enabled=args.auth_enabled == "true")
    service = Model.deploy(workspace, args.service_name, [model], inference_config, deployment_config, overwrite=True)
    service.wait_for_deployment(show_output=True)
    if service.state != "Healthy":
        raise RuntimeError(f"service {service.name} is {service.state}:\n{service.get_logs()}")
    os.makedirs(args.service, exist_ok=True)
    with open(os.path.join(args.service, "service.json"), "w") as fh:
        json.dump({"service": service.name, "scoring_uri": service.scoring_uri, "model": f"{model.name}:{model.version}"}, fh)
    run.add_properties({"service": service.name, "scoring_uri": service.scoring_uri})


if __name__ == "__main__":
    main()
