"""The `amlpipe` command line.

User errors (bad config, bad data, a missing resource) print one line and exit 1; they
never show a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import List, Optional

from . import __version__
from ._log import show_progress_logs
from .errors import AmlpipeError, ConfigError

EPILOG_RUN = """examples:
  amlpipe run --budget-minutes 1                  # local backend, the whole pipeline in a few minutes
  amlpipe run --data heart.csv --output runs/try1 --cleanup
  amlpipe run --backend azureml --config config.json
"""
EPILOG_SCORE = """examples:
  amlpipe score --file request.json
  echo '[{"age": 60, "anaemia": false, ...}]' | amlpipe score --method predict_proba
"""
EPILOG_TRAIN = """examples:
  amlpipe train                                   # local backend, the lesson's settings
  amlpipe train --budget-minutes 1 --data heart_failure_clinical_records_dataset.csv
  AMLPIPE_BACKEND=azureml amlpipe train           # on the Azure ML workspace of config.json
"""


def _add_workspace_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--backend", choices=["local", "azureml"],
                        help="default: AMLPIPE_BACKEND, then config.json, then local")
    parser.add_argument("--config", metavar="PATH", help="config.json or a folder holding it (default: searched upwards)")
    parser.add_argument("--workspace", metavar="DIR", help="local backend's workspace folder (default: .amlpipe)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amlpipe",
        description="The Azure ML SDK v1 AutoML workflow (heart-failure survival), on Azure ML or on this machine.",
    )
    parser.add_argument("--version", action="version", version=f"amlpipe {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = commands.add_parser(
        "train",
        help="register the dataset, run AutoML, register the best model",
        description="Register the dataset, run AutoML on it and register the best model; prints the model's name and version.",
        epilog=EPILOG_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_workspace_options(train)
    train.add_argument("--data", metavar="PATH_OR_URL",
                       help="CSV to train on (default: AMLPIPE_DATA, the cache, or a download of the UCI dataset)")
    train.add_argument("--budget-minutes", type=float, metavar="X",
                       help="experiment_timeout_minutes (default 20; fractions allowed locally)")
    train.add_argument("--experiment", metavar="NAME", help="experiment name (default aml-experiment)")
    train.add_argument("--model-name", metavar="NAME", help="registered model name (default heart-failure-automl)")
    train.add_argument("--progress", choices=["auto", "bar", "lines", "none"], default="auto",
                       help="how to show AutoML progress (default: a bar on a terminal, lines otherwise)")
    train.set_defaults(handler=_train)

    run = commands.add_parser(
        "run",
        help="run the step notebooks 01-06 (07 with --cleanup) with papermill",
        description="Execute the step notebooks in order with papermill: setup, data, train, register, deploy, "
                    "consume (and cleanup with --cleanup). Prints a line per notebook and stops at the first "
                    "failure, naming the notebook, the cell and the error. Without --cleanup the service stays "
                    "up, so you can call it with `amlpipe score`.",
        epilog=EPILOG_RUN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_workspace_options(run)
    run.add_argument("--data", metavar="PATH_OR_URL", help="CSV to train on (default: AMLPIPE_DATA, the cache, or a download)")
    run.add_argument("--budget-minutes", type=float, metavar="X", help="AutoML experiment_timeout_minutes (default 20)")
    run.add_argument("--output", metavar="DIR", help="where executed notebooks go (default runs/<timestamp>/)")
    run.add_argument("--cleanup", action="store_true", help="run 07_cleanup at the end (deletes the service)")
    run.set_defaults(handler=_run)

    status = commands.add_parser(
        "status",
        help="show the workspace, the latest AutoML run, registered models and services",
        description="Show the workspace and backend, the latest AutoML run with its best metric, the registered "
                    "models with their versions and the services with their state and scoring URI.",
        epilog="examples:\n  amlpipe status\n  amlpipe status --json | jq .services",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_workspace_options(status)
    status.add_argument("--experiment", metavar="NAME", default="aml-experiment", help="experiment (default aml-experiment)")
    status.add_argument("--json", action="store_true", help="print JSON instead of text")
    status.set_defaults(handler=_status)

    score = commands.add_parser(
        "score",
        help="send records to a service and print its answer",
        description="Post records to a deployed service and print the JSON answer. The input is a whole request "
                    '({"data": [...], "method": ...}), a list of records or one record, from --file or stdin.',
        epilog=EPILOG_SCORE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_workspace_options(score)
    score.add_argument("--service", metavar="NAME", default="automl-hf-sdk", help="service (default automl-hf-sdk)")
    score.add_argument("--file", metavar="JSON", help="read the request from this file (default: stdin)")
    score.add_argument("--method", choices=["predict", "predict_proba"], help="override the request's method")
    score.set_defaults(handler=_score)

    down = commands.add_parser(
        "down",
        help="delete a service, or all of them",
        description="Delete the named service (stops its server and frees its port), or every service.",
        epilog="examples:\n  amlpipe down                      # every service\n  amlpipe down --service automl-hf-sdk",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_workspace_options(down)
    down.add_argument("--service", metavar="NAME", help="the service to delete (default: all)")
    down.set_defaults(handler=_down)

    doctor = commands.add_parser(
        "doctor",
        help="check versions, config, credentials and the workspace before spending money",
        description="A preflight: Python and package versions, the config.json found, which credential the azureml "
                    "backend would use (never a secret), Azure's budget floor, the compute and service names, and "
                    "whether the workspace answers (or that this machine is offline).",
        epilog="examples:\n  amlpipe doctor\n  amlpipe doctor --backend azureml --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    doctor.add_argument("--backend", choices=["local", "azureml"],
                        help="default: AMLPIPE_BACKEND, then config.json, then local")
    doctor.add_argument("--config", metavar="PATH", help="config.json or a folder holding it (default: searched upwards)")
    doctor.add_argument("--json", action="store_true", help="print JSON instead of text")
    doctor.set_defaults(handler=_doctor)
    return parser


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import collect, render

    info = collect(args.backend, args.config)
    print(json.dumps(info, indent=2) if args.json else render(info))
    return 0


def _run(args: argparse.Namespace) -> int:
    from .config import load_config
    from .notebook_runner import run_pipeline, default_output_dir

    backend = load_config(args.config, args.backend).backend  # fail fast on a bad config
    parameters = {"BACKEND": backend, "PROGRESS": "lines"}
    if backend == "azureml":  # Azure's rules before any notebook or credential
        parameters["BUDGET_MINUTES"] = _azureml_automl_settings(args.budget_minutes).experiment_timeout_minutes
    if args.config:
        parameters["CONFIG_PATH"] = str(Path(args.config).resolve())
    if args.workspace:
        parameters["WORKSPACE_DIR"] = str(Path(args.workspace).resolve())
    if args.data:
        parameters["DATA"] = args.data if "://" in args.data else str(Path(args.data).resolve())
    if args.budget_minutes is not None:
        parameters["BUDGET_MINUTES"] = args.budget_minutes
    output = Path(args.output) if args.output else default_output_dir()
    print(f"running the notebooks on the {backend} backend; executed notebooks in {output}/", flush=True)
    started = time.monotonic()
    results = run_pipeline(parameters, output, cleanup=args.cleanup, on_step=lambda line: print(line, flush=True))
    print(f"done in {time.monotonic() - started:.1f} s", flush=True)
    deployed = next((r.records for r in results if r.name == "05_deploy"), {})
    if deployed and not args.cleanup:
        print(f"service {deployed.get('service')} is up at {deployed.get('scoring_uri')} "
              "(try: amlpipe score < request.json; stop it with: amlpipe down)")
    return 0


def _status(args: argparse.Namespace) -> int:
    from .status import collect, render

    info = collect(args.backend, args.config, args.workspace, args.experiment)
    print(json.dumps(info, indent=2, default=str) if args.json else render(info))
    return 0


def _score(args: argparse.Namespace) -> int:
    from .workspace import connect

    text = Path(args.file).read_text() if args.file else sys.stdin.read()
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{args.file or 'stdin'}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if isinstance(payload, list):
        payload = {"data": payload}
    elif isinstance(payload, dict) and "data" not in payload:
        payload = {"data": [payload]}
    if args.method:
        payload["method"] = args.method
    service = connect(args.backend, args.config, args.workspace).get_service(args.service)
    print(json.dumps(service.run(payload)))
    return 0


def _down(args: argparse.Namespace) -> int:
    from .workspace import connect

    ws = connect(args.backend, args.config, args.workspace)
    services = [ws.get_service(args.service)] if args.service else ws.list_services()
    for service in services:
        service.delete()
        print(f"deleted service {service.name}")
    if not services:
        print("no services")
    return 0


def _azureml_automl_settings(budget_minutes: Optional[float]):
    """The AutoML settings the azureml backend would submit, checked against Azure's rules (no credential needed)."""
    from .backends.azureml.limits import check_settings
    from .settings import AutoMLSettings

    settings = AutoMLSettings() if budget_minutes is None else AutoMLSettings(experiment_timeout_minutes=budget_minutes)
    check_settings(settings)
    return settings


def _train(args: argparse.Namespace) -> int:
    from .config import load_config
    from .settings import Settings
    from .workspace import connect

    overrides = {}
    if args.budget_minutes is not None:
        overrides["automl.experiment_timeout_minutes"] = args.budget_minutes
    if args.experiment:
        overrides["experiment_name"] = args.experiment
    if args.model_name:
        overrides["model.model_name"] = args.model_name
    settings = Settings().override(overrides)
    if load_config(args.config, args.backend).backend == "azureml":
        _azureml_automl_settings(args.budget_minutes)  # Azure's rules before any credential
    ws = connect(args.backend, args.config, args.workspace)
    experiment = ws.get_or_create_experiment(settings.experiment_name)
    compute = ws.get_or_create_compute(settings.compute)
    dataset = ws.register_dataset(args.data, settings.dataset)
    run = experiment.submit(settings.automl, dataset, compute, show_output=True, progress=args.progress)
    run.wait_for_completion(show_output=args.progress != "none")  # raises unless the run completed
    model = run.register_model(settings.model.model_name, settings.model.description, dict(settings.model.tags))
    print(f"registered model {model.name} version {model.version}: {_model_summary(model, run)} from run {run.id}")
    return 0


def _model_summary(model, run) -> str:
    """The algorithm and score of the registered model: from its properties (local), else from the best run (Azure)."""
    props = model.properties
    if "algorithm" in props:
        return f"{props['algorithm']}, {props['primary_metric']} {props['score']:.4f} ({props['validation']})"
    best_run, _ = run.get_output()
    metric = run.properties.get("primary_metric", "AUC_weighted")
    score = best_run.get_metrics().get(metric)
    algorithm = best_run.properties.get("run_algorithm", "unknown algorithm")
    return f"{algorithm}, {metric} {score:.4f}" if score is not None else algorithm


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.handler in (_train, _run):  # long commands say what they are doing
        show_progress_logs()
    try:
        return args.handler(args)
    except AmlpipeError as exc:
        print(f"amlpipe: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("amlpipe: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
