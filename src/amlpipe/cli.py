"""The `amlpipe` command line.

User errors (bad config, bad data, a missing resource) print one line and exit 1; they
never show a traceback.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from . import __version__
from ._log import show_progress_logs
from .errors import AmlpipeError

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
    return parser


def _train(args: argparse.Namespace) -> int:
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
    ws = connect(args.backend, args.config, args.workspace)
    experiment = ws.get_or_create_experiment(settings.experiment_name)
    compute = ws.get_or_create_compute(settings.compute)
    dataset = ws.register_dataset(args.data, settings.dataset)
    run = experiment.submit(settings.automl, dataset, compute, show_output=True, progress=args.progress)
    model = run.register_model(settings.model.model_name, settings.model.description, dict(settings.model.tags))
    props = model.properties
    print(
        f"registered model {model.name} version {model.version}: {props['algorithm']}, "
        f"{props['primary_metric']} {props['score']:.4f} ({props['validation']}) from run {run.id}"
    )
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
