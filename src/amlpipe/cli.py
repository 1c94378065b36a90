"""The `amlpipe` command line.

User errors (bad config, bad data, a missing resource, an unreadable file) print one line
and exit 1; bad usage exits 2 (argparse). Neither shows a traceback. SIGTERM (what CI and
`timeout` send) stops a command like Ctrl-C does: the run is marked Canceled, scratch files
are removed, and the exit code is 143 (130 for Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from . import __version__
from ._log import show_progress_logs
from .errors import AmlpipeError, ConfigError
from .settings import Settings

EPILOG_RUN = """examples:
  amlpipe run --budget-minutes 1                  # local backend, the whole pipeline in a few minutes
  amlpipe run --data heart.csv --output runs/try1 --cleanup
  amlpipe run --set automl.allowed_models='["LightGBM"]' --set automl.n_cross_validations=5
  amlpipe run --settings my-settings.yaml         # e.g. automl: {iterations: 20, blocked_models: [XGBoost]}
  amlpipe run --notebooks my-project              # the notebooks `amlpipe init my-project` copied
  amlpipe run --backend azureml --config config.json
  amlpipe run --backend azureml-v2 --config config.json --budget-minutes 15   # Azure ML SDK v2, managed online endpoint
"""
EPILOG_INIT = """examples:
  amlpipe init my-project                         # then open my-project/01_setup.ipynb in Jupyter
  cd my-project && amlpipe run --notebooks . --budget-minutes 1
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
    parser.add_argument("--backend", choices=["local", "azureml", "azureml-v2"],
                        help="default: AMLPIPE_BACKEND, then config.json, then local")
    parser.add_argument("--config", metavar="PATH", help="config.json or a folder holding it (default: searched upwards)")
    parser.add_argument("--workspace", metavar="DIR", help="local backend's workspace folder (default: .amlpipe)")


def _add_settings_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--settings", metavar="FILE",
                        help='settings file (.json, .yaml) with groups or dotted keys, e.g. {"automl": {"iterations": 20}}')
    parser.add_argument("--set", metavar="KEY=VALUE", action="append", default=[], dest="assignments",
                        help="change one setting, e.g. automl.n_cross_validations=5 (the value is read as JSON "
                             "when it is JSON); repeatable; wins over --settings")


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    """What `amlpipe run` and `amlpipe pipeline run` share: workspace, settings, data and budget."""
    _add_workspace_options(parser)
    _add_settings_options(parser)
    parser.add_argument("--data", metavar="PATH_OR_URL",
                        help="CSV to train on (default: AMLPIPE_DATA, the cache, or a download)")
    parser.add_argument("--budget-minutes", type=float, metavar="X",
                        help=f"AutoML experiment_timeout_minutes (default {Settings().automl.experiment_timeout_minutes:g})")


def _settings(args: argparse.Namespace, **options: Any) -> Tuple[Settings, Dict[str, Any]]:
    """The settings a command runs with, and the dotted overrides that made them.

    ``options`` are the command's own shortcuts (dotted key -> value or None); they win over
    ``--set``, which wins over ``--settings``.
    """
    from .overrides import gather, load_settings

    overrides = gather([args.settings] if args.settings else [], args.assignments, options)
    return load_settings(overrides), overrides


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="amlpipe",
        description="The Azure ML SDK v1 AutoML workflow (heart-failure survival), on Azure ML or on this machine.",
    )
    parser.add_argument("--version", action="version", version=f"amlpipe {__version__}")
    defaults = Settings()
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    train = commands.add_parser(
        "train",
        help="register the dataset, run AutoML, register the best model",
        description="Register the dataset, run AutoML on it and register the best model; prints the model's name and version.",
        epilog=EPILOG_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_workspace_options(train)
    _add_settings_options(train)
    train.add_argument("--data", metavar="PATH_OR_URL",
                       help="CSV to train on (default: AMLPIPE_DATA, the cache, or a download of the UCI dataset)")
    train.add_argument("--budget-minutes", type=float, metavar="X",
                       help=f"experiment_timeout_minutes (default {defaults.automl.experiment_timeout_minutes:g}; "
                            "fractions allowed locally)")
    train.add_argument("--experiment", metavar="NAME", help=f"experiment name (default {defaults.experiment_name})")
    train.add_argument("--model-name", metavar="NAME",
                       help=f"registered model name (default {defaults.model.model_name})")
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
    _add_run_options(run)
    run.add_argument("--notebooks", metavar="DIR", help="run the notebooks in DIR (default: those that came with amlpipe)")
    run.add_argument("--output", metavar="DIR", help="where executed notebooks go (default runs/<timestamp>/)")
    run.add_argument("--cleanup", action="store_true", help="run 07_cleanup at the end (deletes the service)")
    run.add_argument("--pipeline", action="store_true",
                     help="train, register and deploy with 08_pipeline (the challenge) in place of 03-05")
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
    _add_settings_options(status)
    status.add_argument("--experiment", metavar="NAME", help=f"experiment (default {defaults.experiment_name})")
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
    _add_settings_options(score)
    score.add_argument("--service", metavar="NAME", help=f"service (default {defaults.service.name})")
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

    init = commands.add_parser(
        "init",
        help="copy the step notebooks and config.json.example into a folder",
        description="Copy the step notebooks that came with amlpipe, and config.json.example, into DIR "
                    "(created if needed) to edit and run there. Refuses to overwrite files unless --force.",
        epilog=EPILOG_INIT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument("folder", metavar="DIR", nargs="?", default=".", help="where to copy them (default: here)")
    init.add_argument("--force", action="store_true", help="overwrite files that exist")
    init.set_defaults(handler=_init)

    doctor = commands.add_parser(
        "doctor",
        help="check versions, config, credentials and the workspace before spending money",
        description="A preflight: Python and package versions, the config.json found, which credential the azureml "
                    "backend would use (never a secret), Azure's budget floor, the compute and service names, and "
                    "whether the workspace answers (or that this machine is offline).",
        epilog="examples:\n  amlpipe doctor\n  amlpipe doctor --backend azureml --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    doctor.add_argument("--backend", choices=["local", "azureml", "azureml-v2"],
                        help="default: AMLPIPE_BACKEND, then config.json, then local")
    doctor.add_argument("--config", metavar="PATH", help="config.json or a folder holding it (default: searched upwards)")
    doctor.add_argument("--json", action="store_true", help="print JSON instead of text")
    doctor.set_defaults(handler=_doctor)

    register = commands.add_parser(
        "register",
        help="register the best model of a completed AutoML run",
        description="Register the best model of a completed AutoML run (the latest, or --run ID) as a new version; "
                    "for a run whose command was stopped after the search finished.",
        epilog="examples:\n  amlpipe register\n  amlpipe register --run 08891dc6d58046f4aac74456fc352f42",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_workspace_options(register)
    _add_settings_options(register)
    register.add_argument("--run", metavar="ID", help="the AutoML run (default: the latest of the experiment)")
    register.add_argument("--experiment", metavar="NAME", help=f"experiment name (default {defaults.experiment_name})")
    register.add_argument("--model-name", metavar="NAME",
                          help=f"registered model name (default {defaults.model.model_name})")
    register.set_defaults(handler=_register)
    _add_pipeline_commands(commands)
    return parser


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import collect, render

    info = collect(args.backend, args.config)
    print(json.dumps(info, indent=2) if args.json else render(info))
    return 0


def _run(args: argparse.Namespace) -> int:
    from . import backends
    from .config import load_config
    from .notebook_runner import run_pipeline, default_output_dir
    from .overrides import PARAMETER

    config = load_config(args.config, args.backend)
    backend = backends.get(config.backend, config.backend_source).name  # fail fast on a bad config
    settings, overrides = _settings(args, **{"automl.experiment_timeout_minutes": args.budget_minutes})  # and on bad settings
    if backend == "azureml":  # Azure's rules too, before any notebook or credential
        _check_for_azureml(settings)
    parameters = {"BACKEND": backend, "PROGRESS": "lines", PARAMETER: overrides}
    if args.config:
        parameters["CONFIG_PATH"] = str(Path(args.config).resolve())
    if args.workspace:
        parameters["WORKSPACE_DIR"] = str(Path(args.workspace).resolve())
    if args.data:
        parameters["DATA"] = args.data if "://" in args.data else str(Path(args.data).resolve())
    output = Path(args.output) if args.output else default_output_dir()
    print(f"running the notebooks on the {backend} backend; executed notebooks in {output}/", flush=True)
    if overrides:
        print("settings changed: " + ", ".join(f"{key}={json.dumps(value)}" for key, value in overrides.items()), flush=True)
    started = time.monotonic()
    if args.pipeline:
        parameters["DEPLOY"] = True  # 06_consume calls the service the pipeline deploys
    results = run_pipeline(parameters, output, cleanup=args.cleanup, notebook_dir=args.notebooks,
                           on_step=lambda line: print(line, flush=True), pipeline=args.pipeline)
    print(f"done in {time.monotonic() - started:.1f} s", flush=True)
    deployed = next((r.records for r in results if r.records.get("scoring_uri")), {})
    if deployed and not args.cleanup:
        print(f"service {deployed.get('service')} is up at {deployed.get('scoring_uri')} "
              "(try: amlpipe score < request.json; stop it with: amlpipe down)")
    return 0


def _status(args: argparse.Namespace) -> int:
    from .status import collect, render

    settings, _ = _settings(args, experiment_name=args.experiment)
    info = collect(args.backend, args.config, args.workspace, settings.experiment_name)
    print(json.dumps(info, indent=2, default=str) if args.json else render(info))
    return 0


def _read_request(path: Optional[str]):
    source = path or "stdin"
    try:
        text = Path(path).read_text(encoding="utf-8") if path else sys.stdin.read()
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file; give the request with --file PATH or on stdin") from None
    except IsADirectoryError:
        raise ConfigError(f"{source}: is a folder; give a JSON file with --file PATH") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text; save the request as UTF-8 JSON") from None
    except OSError as exc:
        raise ConfigError(f"{source}: cannot be read ({exc.strerror})") from None
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise ConfigError(f"{source}: nested too deeply to be a request") from None
    if isinstance(payload, list):
        return {"data": payload}
    if isinstance(payload, dict):
        return payload if "data" in payload else {"data": [payload]}
    raise ConfigError(
        f"{source}: a request is a JSON object ({{\"data\": [...]}} or one record) or a list of records, "
        f"not {type(payload).__name__}"
    )


def _score(args: argparse.Namespace) -> int:
    from .workspace import connect

    payload = _read_request(args.file)
    if args.method:
        payload["method"] = args.method
    settings, _ = _settings(args, **{"service.name": args.service})
    service = connect(args.backend, args.config, args.workspace).get_service(settings.service.name)
    print(json.dumps(service.run(payload)))
    return 0


def _down(args: argparse.Namespace) -> int:
    from .workspace import connect

    ws = connect(args.backend, args.config, args.workspace)
    services = [ws.get_service(args.service)] if args.service is not None else ws.list_services()
    for service in services:
        service.delete()
        print(f"deleted service {service.name}")
    if not services:
        print("no services")
    return 0


def _check_for_azureml(settings: Settings) -> None:
    """Azure AutoML's rules on the settings the azureml backend would submit (no credential needed)."""
    from .backends.azureml.limits import check_settings

    check_settings(settings.automl)


def _train(args: argparse.Namespace) -> int:
    from .config import load_config
    from .workspace import connect

    settings, _ = _settings(args, **{
        "automl.experiment_timeout_minutes": args.budget_minutes,
        "experiment_name": args.experiment,
        "model.model_name": args.model_name,
    })
    if load_config(args.config, args.backend).backend == "azureml":
        _check_for_azureml(settings)  # before any credential
    ws = connect(args.backend, args.config, args.workspace)
    experiment = ws.get_or_create_experiment(settings.experiment_name)
    compute = ws.get_or_create_compute(settings.compute)
    dataset = ws.register_dataset(args.data, settings.dataset)
    run = experiment.submit(settings.automl, dataset, compute, show_output=True, progress=args.progress)
    run.wait_for_completion(show_output=args.progress != "none")  # raises unless the run completed
    _register_and_print(run, settings)
    return 0


def _register(args: argparse.Namespace) -> int:
    from .errors import ResourceError
    from .workspace import connect

    settings, _ = _settings(args, **{"experiment_name": args.experiment, "model.model_name": args.model_name})
    run = connect(args.backend, args.config, args.workspace).get_experiment(settings.experiment_name).get_run(args.run)
    if run.status != "Completed":
        raise ResourceError(f"run {run.id} is {run.status}: only a completed AutoML run has a model to register")
    _register_and_print(run, settings)
    return 0


def _register_and_print(run, settings) -> None:
    model = run.register_model(settings.model.model_name, settings.model.description, dict(settings.model.tags))
    print(f"registered model {model.name} version {model.version}: {_model_summary(model, run)} from run {run.id}")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where Ctrl-C's KeyboardInterrupt would be, so that runs and files are cleaned up alike."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def _model_summary(model, run) -> str:
    """The algorithm and score of the registered model: from its properties (local), else from the best run (Azure)."""
    props = model.properties
    if "algorithm" in props:
        return f"{props['algorithm']}, {props['primary_metric']} {props['score']:.4f} ({props['validation']})"
    best_run, _ = run.get_output()
    metric = run.primary_metric
    score = best_run.get_metrics().get(metric)
    algorithm = best_run.properties.get("run_algorithm", "unknown algorithm")
    return f"{algorithm}, {metric} {score:.4f}" if score is not None else algorithm


def _init(args: argparse.Namespace) -> int:
    from .resources import copy_starter_files

    written = copy_starter_files(args.folder, force=args.force)
    folder = Path(args.folder)
    print(f"copied {', '.join(p.name for p in written)} into {folder}/")
    print(f"next: open {folder / written[0].name} in Jupyter, or run them all: amlpipe run --notebooks {folder}")
    return 0


# `amlpipe pipeline run|list|submit`: the lesson's challenge, the workflow as a pipeline.

EPILOG_PIPELINE = """examples:
  amlpipe pipeline run --budget-minutes 1        # AutoML -> register on the local backend; unchanged steps reused
  amlpipe pipeline run --no-reuse --deploy --json
  amlpipe pipeline run --set automl.n_cross_validations=5
  amlpipe pipeline run --publish heart-failure-training
  amlpipe pipeline list
  amlpipe pipeline submit heart-failure-training
"""


def _add_pipeline_commands(commands) -> None:
    pipeline = commands.add_parser(
        "pipeline",
        help="the workflow as a pipeline: AutoML -> register (-> deploy), with reuse of unchanged steps",
        description="Run the training pipeline (AutoML step -> register step -> optional deploy step), publish "
                    "it, list and submit published pipelines. A step whose inputs, settings and code are unchanged "
                    "is reused, as allow_reuse=True does on Azure ML.",
        epilog=EPILOG_PIPELINE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = pipeline.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="run the pipeline and wait; a line per step",
                             description="Register the data (a new version only when it changed), run the "
                                         "pipeline's steps and wait. Prints a line per step ('reused' or its "
                                         "duration); exits 1 naming the step that failed.")
    _add_run_options(run)
    _add_pipeline_run_flags(run)
    run.add_argument("--deploy", action="store_true", help="add the deploy step (the service stays up)")
    run.add_argument("--publish", metavar="NAME", help="publish the pipeline under NAME (a new version) after the run")
    run.set_defaults(handler=_pipeline_run)
    listing = actions.add_parser("list", help="list the published pipelines",
                                 description="Every published version of every pipeline.")
    _add_workspace_options(listing)
    listing.add_argument("--json", action="store_true", help="print JSON instead of text")
    listing.set_defaults(handler=_pipeline_list)
    submit = actions.add_parser("submit", help="submit a published pipeline by name",
                                description="Run a published pipeline (its latest version unless --version) on "
                                            "the latest version of its dataset, as `amlpipe pipeline run` does.")
    _add_workspace_options(submit)
    submit.add_argument("name", metavar="NAME", help="the published pipeline")
    submit.add_argument("--version", default="latest", help="its version (default: latest)")
    _add_pipeline_run_flags(submit)
    submit.set_defaults(handler=_pipeline_submit)


def _add_pipeline_run_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-reuse", action="store_true", help="rerun every step (allow_reuse=False)")
    parser.add_argument("--json", action="store_true", help="last line: the run as JSON (run id, status, steps)")


def _report_pipeline_run(args: argparse.Namespace, start, after=lambda result: None) -> int:
    """Run ``start(on_step)``, then ``after(result)``; print the step lines, and last the JSON line with
    --json, also on failure."""
    from .pipeline import StepFailed

    started = time.monotonic()
    try:
        result = start(lambda line: print(line, flush=True))
    except StepFailed as exc:
        if args.json:
            print(json.dumps(exc.run.to_json()), flush=True)
        raise
    print(f"pipeline run {result.id}: {result.status} in {time.monotonic() - started:.1f} s", flush=True)
    after(result)
    if args.json:
        print(json.dumps(result.to_json()), flush=True)
    return 0


def _pipeline_run(args: argparse.Namespace) -> int:
    from . import pipeline
    from .workspace import connect

    settings, _ = _settings(args, **{"automl.experiment_timeout_minutes": args.budget_minutes})
    definition = pipeline.build(settings, deploy=args.deploy, name=args.publish or pipeline.DEFAULT_NAME)
    ws = connect(args.backend, args.config, args.workspace)
    dataset = ws.register_dataset(args.data, definition.settings.dataset)
    print(f"pipeline {definition.name} on the {ws.backend} backend: {' -> '.join(s.name for s in definition.steps)}, "
          f"dataset {dataset.name}:{dataset.version}", flush=True)

    def publish(result) -> None:
        if args.publish:
            published = pipeline.publish(ws, definition)
            print(f"published pipeline {published.name} version {published.version}", flush=True)

    return _report_pipeline_run(args, lambda on_step: pipeline.submit(
        ws, definition, dataset, allow_reuse=not args.no_reuse, on_step=on_step), publish)


def _pipeline_list(args: argparse.Namespace) -> int:
    from . import pipeline
    from .workspace import connect

    found = pipeline.list_published(connect(args.backend, args.config, args.workspace))
    if args.json:
        print(json.dumps([{"name": p.name, "version": p.version, "id": p.id, "description": p.description} for p in found]))
    for published in [] if args.json else found:
        print(f"{published.name} version {published.version} ({published.id}) {published.description}".rstrip())
    if not found and not args.json:
        print("no published pipelines")
    return 0


def _pipeline_submit(args: argparse.Namespace) -> int:
    from . import pipeline
    from .workspace import connect

    ws = connect(args.backend, args.config, args.workspace)
    return _report_pipeline_run(args, lambda on_step: pipeline.submit_published(
        ws, args.name, args.version, allow_reuse=not args.no_reuse, on_step=on_step))


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.handler in (_train, _run):  # long commands say what they are doing
        show_progress_logs()
    in_main_thread = threading.current_thread() is threading.main_thread()  # only there can signals be handled
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        return args.handler(args)
    except AmlpipeError as exc:
        print(f"amlpipe: error: {exc}", file=sys.stderr)
        return 1
    except Terminated:
        print("amlpipe: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("amlpipe: interrupted", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
