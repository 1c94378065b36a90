"""The endpoint's two ways of answering: the model's ONNX export through ONNX Runtime
(`OnnxPredictor`), which score.py takes when the model has one, and the pickled pipeline
itself (`Predictor`), for models that do not convert (KNN, for one) and hosts without ONNX
Runtime: the same answers, slower (figures in benchmarks/RESULTS.md).

Both take a request's columns as `amlpipe.contract` checks them: numbers and booleans as
floats, category fields as texts, NaN where a value is missing. Standard library, numpy,
scikit-learn, pandas and (imported when a model.onnx is served) onnxruntime only: this module
is deployed beside score.py where amlpipe is not installed.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

# How a missing category value reaches model.onnx, whose string inputs have no null (the contract
# reads an empty text in a category field as missing too, so no request value stands for itself here).
MISSING_TEXT = ""


class Predictor:
    """The pickled pipeline's class probabilities (or regression values) for checked request columns."""

    def __init__(self, model: Any):
        self.model = model
        single_threaded(model)
        self.threshold = getattr(model, "threshold", None) if type(model).__name__ == "FixedThresholdClassifier" else None
        self.classes = list(model.classes_) if hasattr(model, "classes_") else None

    def predict_proba(self, columns: Dict[str, List[Any]]) -> np.ndarray:
        return self.model.predict_proba(_frame(columns))

    def predict(self, columns: Dict[str, List[Any]]) -> np.ndarray:
        """Regression values."""
        return self.model.predict(_frame(columns))

    def classify(self, columns: Dict[str, List[Any]]) -> Tuple[np.ndarray, np.ndarray]:
        """Class indices as the model's ``predict`` decides them (its threshold for two classes), and
        the class probabilities: one pass through the pipeline for both."""
        proba = self.predict_proba(columns)
        if self.threshold is not None and proba.shape[1] == 2:
            return (proba[:, 1] >= self.threshold).astype(int), proba
        return np.argmax(proba, axis=1), proba


class OnnxPredictor:
    """The model's ONNX export run by ONNX Runtime, with the `Predictor`'s calls.

    The export (`amlpipe.onnx_export`) takes one ``[N, 1]`` input per field (`onnx_inputs`) and
    returns the labels (the original class values) and the class probabilities, or the regression
    values; it was checked against the pipeline when it was written.
    """

    def __init__(self, path: Any, schema: Dict[str, str], classes: Optional[Sequence[Any]]):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # Idle threads wait passively: spinning ones take the CPUs the next request (or process) needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.schema = dict(schema)
        self.classes = None if classes is None else list(classes)
        self._index = None if classes is None else {c: i for i, c in enumerate(self.classes)}

    def _run(self, columns: Dict[str, List[Any]]) -> list:
        return self.session.run(None, onnx_inputs(columns, self.schema))

    def classify(self, columns: Dict[str, List[Any]]) -> Tuple[np.ndarray, np.ndarray]:
        """Class indices (of the model's labels) and the class probabilities."""
        label, proba = self._run(columns)[:2]
        return np.array([self._index[c] for c in label.tolist()], dtype=int), proba

    def predict_proba(self, columns: Dict[str, List[Any]]) -> np.ndarray:
        return self._run(columns)[1]

    def predict(self, columns: Dict[str, List[Any]]) -> np.ndarray:
        """Regression values."""
        return self._run(columns)[0].ravel()


def onnx_inputs(columns: Dict[str, List[Any]], schema: Dict[str, str]) -> Dict[str, np.ndarray]:
    """model.onnx's inputs for checked request columns: a ``[N, 1]`` double array per number or
    boolean field (NaN where missing), a ``[N, 1]`` string array per category field (`MISSING_TEXT`
    where missing)."""
    inputs = {}
    for name, kind in schema.items():
        if kind == "category":
            values = np.array([v if isinstance(v, str) else MISSING_TEXT for v in columns[name]], dtype=object)
        else:
            values = np.asarray(columns[name], dtype=np.float64)
        inputs[name] = values.reshape(-1, 1)
    return inputs


def _frame(columns: Dict[str, List[Any]]):
    import pandas as pd

    return pd.DataFrame(columns)


def single_threaded(model: Any) -> None:
    """n_jobs=1 on every fitted part: a thread pool per call costs more than one record's work.

    Predictions do not change: it is how the work is scheduled, not what is computed.
    """
    seen = set()

    def visit(obj: Any) -> None:
        if id(obj) in seen or obj is None:
            return
        seen.add(id(obj))
        if isinstance(obj, (list, tuple)):
            for item in obj:
                visit(item)
            return
        if not hasattr(obj, "get_params"):
            return
        if hasattr(obj, "n_jobs"):
            obj.n_jobs = 1
        for value in vars(obj).values():
            if isinstance(value, (list, tuple)) or hasattr(value, "get_params"):
                visit(value)

    visit(model)


def describe(predictor: Any) -> str:
    """A line for the server log: which path requests take."""
    return "ONNX Runtime" if isinstance(predictor, OnnxPredictor) else "the pickled pipeline"


def explanations(predictor: Any, columns: Dict[str, List[Any]], top: int = 5,
                 chosen: Optional[np.ndarray] = None) -> List[List[Dict[str, Any]]]:
    """For each record, the ``top`` fields that move its answer most, with their contributions.

    A field's contribution is how much the answer (the probability of the predicted class, or
    the predicted value) drops when that field is taken away, that is, sent as missing and so
    replaced by what the model imputes (the training median, or the most frequent value): one
    extra prediction per field, all in one batch. Positive contributions push towards the answer.
    ``chosen``: the records' predicted class indices when the caller has them already.
    """
    names = list(columns)
    n = len(columns[names[0]])
    batch = {name: list(values) * (len(names) + 1) for name, values in columns.items()}
    for j, name in enumerate(names):
        batch[name][(j + 1) * n:(j + 2) * n] = [float("nan")] * n
    if predictor.classes is None:
        answers = np.asarray(predictor.predict(batch), dtype=float).reshape(len(names) + 1, n)
    else:
        if chosen is None:
            chosen, _ = predictor.classify(columns)
        proba = predictor.predict_proba(batch)
        answers = proba[np.arange(len(proba)), np.tile(chosen, len(names) + 1)].reshape(len(names) + 1, n)
    contributions = answers[0] - answers[1:]  # fields x records
    result = []
    for i in range(n):
        order = np.argsort(-np.abs(contributions[:, i]), kind="stable")[:top]
        result.append([{"field": names[j], "contribution": round(float(contributions[j, i]), 6)} for j in order])
    return result


__all__: Sequence[str] = ["MISSING_TEXT", "OnnxPredictor", "Predictor", "describe", "explanations", "onnx_inputs",
                         "single_threaded"]
