"""Experiments and AutoML submission on the local backend.

`submit` runs the search in this process (like the SDK's local AutoML runs) and tracks
it in MLflow: a parent run for the AutoML run, a child run per trial, logged as each
trial finishes (a thread tails FLAML's trial log), and one per ensemble. The best child
run holds `outputs/model.pkl`, its ONNX export `model.onnx` when it converts,
`requirements.txt`, `metadata.json` and the out-of-fold predictions.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from dataclasses import asdict
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional

import pandas as pd

from ... import metrics, names, onnx_export
from ...data import check_training_data
from ...errors import DataError
from ...settings import AutoMLSettings
from ..base import BaseExperiment
from .automl import AutoMLResult, run_search
from .budget import Budget
from .search import Trial, choose_validation, parse_trial, worker_count
from .progress import SearchProgress
from .run import KIND_TAG, LocalAutoMLRun
from .records import owner_tags

if TYPE_CHECKING:
    from .workspace import LocalWorkspace

logger = logging.getLogger(__name__)

MAX_PARAM_LENGTH = 500
POLL_SECONDS = 0.2


class LocalExperiment(BaseExperiment):
    """An MLflow experiment; `submit` starts AutoML runs in it."""

    def __init__(self, ws: LocalWorkspace, name: str, experiment_id: str):
        self.workspace = ws
        self.name = name
        self.id = experiment_id

    def __repr__(self) -> str:
        return f"LocalExperiment(name={self.name!r}, id={self.id!r})"

    def submit(
        self,
        config: AutoMLSettings,
        training_data,
        compute_target=None,
        validation_data=None,
        show_output: bool = False,
        progress: str = "auto",
        test_data=None,
    ) -> LocalAutoMLRun:
        """Run AutoML on ``training_data`` (a registered dataset or a DataFrame) and track it.

        Args:
            config: The AutoMLConfig settings.
            training_data: A `LocalDataset` or a pandas DataFrame holding the label column.
            compute_target: A `LocalCompute`; its ``max_nodes`` bounds the worker processes.
            validation_data: A holdout dataset or DataFrame, instead of cross-validation.
            test_data: A dataset or DataFrame the final model is scored on once, as Azure's test
                run (instead of ``config.test_size``); its metrics are logged as ``test_<metric>``.
            show_output: Show progress while the search runs.
            progress: ``auto``, ``bar``, ``lines`` or ``none`` (see `SearchProgress`).

        Returns:
            The finished parent run.

        Raises:
            DataError: the training data cannot be trained on.
            ConfigError: a setting cannot be honoured locally.
        """
        budget = Budget(config.experiment_timeout_minutes * 60)
        frame, data_tags = _as_frame(training_data)
        holdout = None if validation_data is None else _as_frame(validation_data)[0]
        label, weight = config.label_column_name, config.weight_column_name
        _, folds, _ = choose_validation(config, len(frame), holdout is not None)
        check_training_data(frame, label, config.task, n_folds=folds, weight=weight, origin=data_tags["dataset"])
        # Without a compute target only max_concurrent_iterations and the CPUs bound the workers.
        max_nodes = compute_target.max_workers if compute_target is not None else config.max_concurrent_iterations
        workers = worker_count(config, max_nodes)
        not_features = [c for c in (label, weight) if c]

        client = self.workspace.client
        started = datetime.now(timezone.utc)
        parent = client.create_run(
            self.id,
            run_name=f"AutoML_{started:%Y%m%d_%H%M%S}",
            tags={
                KIND_TAG: "automl",
                "compute": getattr(compute_target, "name", "local"),
                **data_tags,
                **owner_tags(),
            },
        )
        run_id = parent.info.run_id
        run = LocalAutoMLRun(self.workspace, run_id)
        params = {k: v for k, v in asdict(config).items() if v is not None}
        params.update(workers=workers, greater_is_better=metrics.GREATER_IS_BETTER[config.primary_metric])
        _log(client, run_id, params=params)
        scratch = self.workspace.folder("tmp", run_id)
        trial_log = scratch / "trials.jsonl"
        debug_handler = _DebugLog(Path(config.path) / config.debug_log)
        display = SearchProgress(
            config.experiment_timeout_minutes * 60,
            config.primary_metric,
            metrics.GREATER_IS_BETTER[config.primary_metric],
            mode=progress if show_output else "none",
        )
        outcome = "Failed."
        watcher = _TrialWatcher(
            trial_log, config.primary_metric, lambda t: self._on_trial(run_id, t, display, config.primary_metric)
        )
        try:
            watcher.start()
            try:
                result = run_search(
                    frame.drop(columns=not_features),
                    frame[label],
                    config,
                    workers,
                    trial_log,
                    weight=frame[weight] if weight else None,
                    validation=None if holdout is None else (holdout.drop(columns=not_features), holdout[label]),
                    on_stage=display.stage,
                    budget=budget,
                    test=None if test_data is None else _features_and_label(_as_frame(test_data)[0], config, "test data"),
                )
            finally:
                watcher.stop()
            self._record_result(run_id, result, watcher.run_ids, trial_log, config, scratch, data_tags,
                                frame.drop(columns=not_features))
            outcome = f"Best model: {result.algorithm}, {config.primary_metric} {result.score:.4f} ({result.validation})."
        except BaseException as exc:
            client.set_tag(run_id, "amlpipe.error", f"{type(exc).__name__}: {exc}"[:5000])
            client.set_terminated(run_id, "KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
            raise
        finally:
            display.close(outcome)
            debug_handler.close()
            shutil.rmtree(scratch, ignore_errors=True)  # everything worth keeping is in the run's artifacts
        client.set_terminated(run_id, "FINISHED")
        return run

    def _on_trial(self, parent_id: str, trial: Trial, display: SearchProgress, primary: str) -> str:
        display.trial(trial.score, trial.algorithm)
        return _log_child(
            self.workspace.client, self.id, parent_id, trial.number, trial.algorithm,
            params={"learner": trial.learner, **trial.config},
            scores={primary: trial.score,
                    "duration_seconds": trial.duration_seconds, "elapsed_seconds": trial.wall_clock_seconds},
        )

    def _record_result(self, run_id: str, result: AutoMLResult, trial_runs: Dict[int, str], trial_log: Path,
                       config: AutoMLSettings, scratch: Path, data_tags: Dict[str, str], features: pd.DataFrame) -> None:
        client = self.workspace.client
        primary = config.primary_metric
        sign = 1 if metrics.GREATER_IS_BETTER[primary] else -1
        # The ensembles and the fixed configurations were not trials of the search: each gets a child run of its own.
        searched = {t.algorithm for t in result.trials}
        extra_runs = {}
        ensembles = ("VotingEnsemble", "StackEnsemble")
        singles = [c.name for c in result.candidates if c.name not in ensembles]
        extra = [c for c in result.candidates if c.name not in searched]
        for offset, candidate in enumerate(extra):
            if candidate.name in ensembles:
                params = {"members": json.dumps(candidate.members or singles)}
            else:
                params = {"estimator": repr(candidate.estimator)}
            extra_runs[candidate.name] = _log_child(
                client, self.id, run_id, len(result.trials) + offset, candidate.name, params=params,
                scores={primary: candidate.score},
            )
        if result.algorithm in extra_runs:
            best_run_id = extra_runs[result.algorithm]
        else:
            same = [t for t in result.trials if t.algorithm == result.algorithm]
            best_run_id = trial_runs[max(same, key=lambda t: sign * t.score).number]
        outputs = scratch / "outputs"
        write_model_outputs(outputs, result, config, data_tags, features)
        client.log_artifacts(best_run_id, str(outputs), "outputs")
        test_scores = {f"test_{name}": value for name, value in result.test_metrics.items()}
        _log(client, best_run_id, scores={**result.metrics, **test_scores})
        client.set_tag(best_run_id, "amlpipe.best", "true")
        client.log_artifact(run_id, str(trial_log))
        _log(client, run_id, scores={**result.metrics, **test_scores, "trials": len(result.trials)})
        if result.cuts:
            client.set_tag(run_id, "amlpipe.budget_cuts", "; ".join(result.cuts)[:5000])
        client.set_tag(run_id, "amlpipe.best_run_id", best_run_id)
        client.set_tag(run_id, "amlpipe.best_algorithm", result.algorithm)
        client.set_tag(run_id, "amlpipe.validation", result.validation)

    def get_runs(self) -> List[LocalAutoMLRun]:
        """AutoML runs of this experiment, newest first."""
        runs = self.workspace.client.search_runs(
            [self.id], filter_string=f"tags.`{KIND_TAG}` = 'automl'", order_by=["attributes.start_time DESC"]
        )
        return [LocalAutoMLRun(self.workspace, r.info.run_id) for r in runs]

    def _find_run(self, run_id: str) -> Optional[LocalAutoMLRun]:
        from mlflow.exceptions import MlflowException

        try:
            found = self.workspace.client.get_run(run_id)
        except MlflowException:
            return None
        if found.info.experiment_id != self.id or found.data.tags.get(KIND_TAG) != "automl":
            return None
        return LocalAutoMLRun(self.workspace, run_id)


ONNX_CHECK_ROWS = 5000  # training rows the ONNX export is checked on


def write_model_outputs(folder: Path, result: AutoMLResult, config: AutoMLSettings, data_tags: Dict[str, str],
                        features: pd.DataFrame) -> None:
    """model.pkl, model.onnx when the model converts (checked on ``features``, the training
    records, at most `ONNX_CHECK_ROWS` of them), requirements.txt, metadata.json and the out-of-fold predictions."""
    import joblib

    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(result.model, folder / "model.pkl")
    if len(features) > ONNX_CHECK_ROWS:  # a bounded check on big data
        features = features.sample(n=ONNX_CHECK_ROWS, random_state=0)
    onnx_file = onnx_export.export(result.model, result.schema, features, folder)
    requirements = model_requirements(folder / "model.pkl") + (onnx_export.runtime_requirements() if onnx_file else [])
    (folder / "requirements.txt").write_text("\n".join(requirements) + "\n")
    meta = {
        "algorithm": result.algorithm,
        "task": config.task,
        "primary_metric": config.primary_metric,
        "score": result.score,
        "metrics": result.metrics,
        "validation": result.validation,
        "label_column_name": config.label_column_name,
        "classes": result.classes,
        "input_schema": result.schema,
        "ensemble_weights": result.ensemble_weights,
        "threshold": result.threshold,
        "test_metrics": result.test_metrics,
        "budget_cuts": result.cuts,
        "onnx_file": onnx_file.name if onnx_file else None,
        "dataset": data_tags.get("dataset"),
        "dataset_sha256": data_tags.get("dataset_sha256"),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    (folder / "metadata.json").write_text(json.dumps(meta, indent=2, default=str))
    if not result.oof.empty:
        result.oof.to_csv(folder / "oof_predictions.csv", index=False)
    if result.importance is not None:
        result.importance.to_csv(folder / "feature_importance.csv", index=False)


def model_requirements(model_file: Path) -> List[str]:
    """Pinned packages needed to unpickle the model: those whose modules the pickle names."""
    content = model_file.read_bytes()
    needed = ["scikit-learn", "numpy", "scipy", "pandas", "joblib"]
    for module, package in (("lightgbm", "lightgbm"), ("xgboost", "xgboost")):
        if module.encode() in content:
            needed.append(package)
    return [f"{p}=={importlib_metadata.version(p)}" for p in needed]


def _features_and_label(frame: pd.DataFrame, config: AutoMLSettings, origin: str):
    """(features, label) of a frame holding the label column (the weight column, if any, dropped)."""
    label = config.label_column_name
    if label not in frame.columns:
        raise DataError(f"{origin}: label column '{label}' is missing")
    return frame.drop(columns=[c for c in (label, config.weight_column_name) if c in frame.columns]), frame[label]


def _as_frame(data) -> tuple:
    if isinstance(data, pd.DataFrame):
        return data, {"dataset": "dataframe"}
    frame = data.to_pandas_dataframe()
    return frame, {
        "dataset": f"{data.name}:{data.version}",
        "dataset_sha256": getattr(data, "sha256", ""),
    }


def _log(client, run_id: str, params: Optional[Dict[str, Any]] = None, scores: Optional[Dict[str, float]] = None) -> None:
    from mlflow.entities import Metric, Param

    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in (scores or {}).items() if v is not None],
        params=[Param(k, str(v)[:MAX_PARAM_LENGTH]) for k, v in (params or {}).items()],
    )


def _log_child(client, experiment_id: str, parent_id: str, iteration: int, algorithm: str,
               params: Dict[str, Any], scores: Dict[str, float]) -> str:
    child = client.create_run(
        experiment_id,
        run_name=f"{algorithm}_{iteration}",
        tags={"mlflow.parentRunId": parent_id, "amlpipe.iteration": str(iteration), "amlpipe.algorithm": algorithm},
    )
    _log(client, child.info.run_id, params=params, scores=scores)
    client.set_terminated(child.info.run_id, "FINISHED")
    return child.info.run_id


class _DebugLog(logging.FileHandler):
    """AutoMLConfig's debug_log: amlpipe's and FLAML's log lines during one run, in a file."""

    LOGGERS = ("amlpipe", "flaml")

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        super().__init__(path, encoding="utf-8")
        self.setLevel(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        self._levels = {}
        for name in self.LOGGERS:
            log = logging.getLogger(name)
            self._levels[name] = log.level
            if log.getEffectiveLevel() > logging.DEBUG and name == "amlpipe":
                log.setLevel(logging.DEBUG)
            log.addHandler(self)

    def close(self) -> None:
        for name, level in self._levels.items():
            log = logging.getLogger(name)
            log.removeHandler(self)
            log.setLevel(level)
        self._levels = {}
        super().close()


class _TrialWatcher:
    """Tails FLAML's JSON-lines trial log in a thread and reports each new trial."""

    def __init__(self, path: Path, primary: str, on_trial: Callable[[Trial], str]):
        self.path = path
        self.primary = primary
        self.on_trial = on_trial
        self.run_ids: Dict[int, str] = {}
        self._offset = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="amlpipe-trials", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._drain()  # whatever the thread had not read yet

    def _loop(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            self._drain()

    def _drain(self) -> None:
        from mlflow.exceptions import MlflowException

        if not self.path.exists():
            return
        with self.path.open() as fh:
            fh.seek(self._offset)
            while True:
                line = fh.readline()
                if not line.endswith("\n"):  # a line FLAML is still writing
                    break
                self._offset = fh.tell()
                trial = parse_trial(line, self.primary)
                if trial is not None and trial.number not in self.run_ids:
                    try:
                        self.run_ids[trial.number] = self.on_trial(trial)
                    except (MlflowException, OSError):  # tracking must never kill the search
                        logger.exception("could not record trial %d", trial.number)


def get_or_create(ws: LocalWorkspace, name: str) -> LocalExperiment:
    """The experiment called ``name``, created if missing, with its artifacts in the workspace.

    Raises:
        ConfigError: ``name`` is not a valid experiment name.
    """
    names.check("experiment", name)
    client = ws.client
    found = client.get_experiment_by_name(name)
    if found is not None:
        return LocalExperiment(ws, name, found.experiment_id)
    location = ws.folder("artifacts", name).as_uri()
    experiment_id = client.create_experiment(name, artifact_location=location)
    logger.info("created experiment %s", name)
    return LocalExperiment(ws, name, experiment_id)


def get(ws: LocalWorkspace, name: str) -> Optional[LocalExperiment]:
    """The experiment called ``name``, or None."""
    found = ws.client.get_experiment_by_name(names.check("experiment", name))
    return None if found is None else LocalExperiment(ws, name, found.experiment_id)

