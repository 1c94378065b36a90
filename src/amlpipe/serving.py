"""The endpoint's two ways of answering: the model's ONNX export through ONNX Runtime
(`OnnxPredictor`), which score.py takes when the model has one, and the fast path over the
pickled pipeline (`Predictor`), for models that do not convert and hosts without ONNX Runtime.
The fast path stays beside ONNX Runtime: on 10,000 rows ONNX Runtime's forests take more CPU
than scikit-learn's compiled trees (figures in benchmarks/RESULTS.md).

A scikit-learn pipeline pays a fixed price per call (DataFrame handling in the column
transformer, input validation, a thread pool per forest) that dwarfs the arithmetic for
one record. `Predictor` keeps the model's own numbers and decisions but evaluates them
directly:

- the featurizer's imputation and scaling become two numpy operations per column kind,
  with the fitted statistics (``statistics_``, ``mean_``, ``scale_``) of the pipeline;
- random and extremely randomized forests become one flat array of nodes, traversed for
  all trees at once for small batches (the same float32 comparisons as scikit-learn's
  trees); for large batches each tree's compiled `apply` finds the leaves and their
  values are added up, the trees shared among the CPUs;
- LightGBM models are called through their booster, and boosted stumps (trees of one split)
  are summed into one step function per feature;
- voting ensembles average their members with the pipeline's weights; any other member
  or model is called as it is.

Anything the fast path does not recognise is served by the pipeline itself, so the answer is
always the pipeline's (tests check equality on the real data). Standard library, numpy,
scikit-learn and (imported when a model.onnx is served) onnxruntime only: this module is
deployed beside score.py where amlpipe is not installed.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

# How a missing category value reaches model.onnx, whose string inputs have no null (the contract
# reads an empty text in a category field as missing too, so no request value stands for itself here).
MISSING_TEXT = ""

# Up to this many rows a request is small: forests are traversed as one flat array and LightGBM
# runs on one thread; beyond, each tree's compiled loop and every CPU win.
SMALL_BATCH_ROWS = 64


class Predictor:
    """Class probabilities (or regression values) for checked request columns."""

    def __init__(self, model: Any, schema: Optional[Dict[str, str]]):
        self.model = model
        self.schema = schema
        single_threaded(model)
        self.threshold = getattr(model, "threshold", None) if type(model).__name__ == "FixedThresholdClassifier" else None
        inner = model.estimator_ if self.threshold is not None else model
        self.classes = list(model.classes_) if hasattr(model, "classes_") else None
        self._featurize = None
        self._estimator = None
        steps = getattr(inner, "named_steps", None)
        if steps is not None and schema is not None and list(steps) == ["featurize", "model"]:
            self._featurize = _Featurizer.build(steps["featurize"], list(schema))
            if self._featurize is not None:
                self._estimator = _compile(steps["model"])

    @property
    def fast(self) -> bool:
        """Whether requests skip the pipeline (False: every call goes to the pipeline itself)."""
        return self._featurize is not None

    def predict_proba(self, columns: Dict[str, List[Any]]) -> np.ndarray:
        if not self.fast:
            return self.model.predict_proba(_frame(columns))
        X = self._featurize(columns)
        return self._estimator(X)

    def predict(self, columns: Dict[str, List[Any]]) -> np.ndarray:
        """Regression values."""
        if not self.fast:
            return self.model.predict(_frame(columns))
        return self._estimator(self._featurize(columns))

    def classify(self, columns: Dict[str, List[Any]]) -> Tuple[np.ndarray, np.ndarray]:
        """Class indices as the model's ``predict`` decides them (its threshold for two classes), and
        the class probabilities."""
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

    fast = True

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


class _Featurizer:
    """The fitted ColumnTransformer's numeric work, as numpy: impute, then scale."""

    def __init__(self, order: List[str], fill: np.ndarray, mean: np.ndarray, scale: np.ndarray):
        self.order = order
        self.fill = fill
        self.mean = mean
        self.scale = scale

    @classmethod
    def build(cls, transformer: Any, fields: List[str]) -> Optional["_Featurizer"]:
        """None unless every part is one this class reproduces exactly."""
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        if type(transformer).__name__ != "ColumnTransformer" or getattr(transformer, "remainder", "drop") != "drop":
            return None
        order: List[str] = []
        fill: List[float] = []
        mean: List[float] = []
        scale: List[float] = []
        for name, part, cols in transformer.transformers_:
            if name == "remainder" and part == "drop":
                continue
            steps = part.steps if isinstance(part, Pipeline) else [(None, part)]
            imputer = steps[0][1]
            scaler = steps[1][1] if len(steps) > 1 else None
            if type(imputer) is not SimpleImputer or len(steps) > 2:
                return None
            if getattr(imputer, "add_indicator", False) or imputer.statistics_.dtype.kind not in "fiu":
                return None
            if scaler is not None and (type(scaler) is not StandardScaler or not (scaler.with_mean and scaler.with_std)):
                return None
            n = len(cols)
            order.extend(cols)
            fill.extend(imputer.statistics_.astype(float))
            mean.extend(scaler.mean_ if scaler is not None else np.zeros(n))
            scale.extend(scaler.scale_ if scaler is not None else np.ones(n))
        if sorted(order) != sorted(fields):
            return None
        return cls(order, np.array(fill), np.array(mean), np.array(scale))

    def __call__(self, columns: Dict[str, List[Any]]) -> np.ndarray:
        X = np.array([columns[name] for name in self.order], dtype=float).T
        missing = np.isnan(X)
        if missing.any():
            X = np.where(missing, self.fill, X)
        # StandardScaler.transform does exactly this: X -= mean_; X /= scale_
        X -= self.mean
        X /= self.scale
        return X


def _compile(estimator: Any):
    """A function X -> probabilities (or values) for ``estimator``, fast where we know how."""
    kind = type(estimator).__name__
    if kind in ("RandomForestClassifier", "ExtraTreesClassifier"):
        return _Forest(estimator)
    if kind == "VotingClassifier" and estimator.voting == "soft":
        members = [_compile(m) for m in estimator.estimators_]
        weights = None if estimator.weights is None else np.asarray(
            [w for w in estimator.weights if w is not None], dtype=float)

        def vote(X: np.ndarray) -> np.ndarray:
            # VotingClassifier.predict_proba: np.average over the members' probabilities
            return np.average(np.asarray([member(X) for member in members]), axis=0, weights=weights)

        return vote
    if kind in ("LGBMClassifier", "LGBMRegressor"):
        # The booster itself: the scikit-learn wrapper's checks cost 0.4 ms a call, ten times
        # the trees' work for one record. Its binary answer is P(second class), which the
        # wrapper stacks after its complement; that is done here the same way.
        booster = estimator.booster_
        binary = kind == "LGBMClassifier" and estimator.n_classes_ == 2
        additive = _Stumps.build(booster)

        def boosted(X: np.ndarray) -> np.ndarray:
            if additive is not None and not np.isnan(X).any():
                values = additive(X)
            else:
                # One thread for a few records (starting threads costs more than it saves); every
                # CPU for big batches, where LightGBM shares the rows among them (same numbers).
                values = booster.predict(X, num_threads=_CPUS if len(X) > SMALL_BATCH_ROWS else 1)
            return np.vstack((1.0 - values, values)).transpose() if binary else values

        return boosted
    if hasattr(estimator, "predict_proba"):
        return estimator.predict_proba
    return estimator.predict


class _Forest:
    """A fitted forest's trees as one flat node array, traversed for all trees at once."""

    def __init__(self, forest: Any):
        self.forest = forest
        trees = [t.tree_ for t in forest.estimators_]
        offsets = np.cumsum([0] + [t.node_count for t in trees])[:-1]
        self.roots = offsets.astype(np.intp)
        feature, threshold, left, right, values = [], [], [], [], []
        for offset, tree in zip(offsets, trees):
            leaf = tree.children_left == -1
            index = np.arange(tree.node_count) + offset
            feature.append(np.where(leaf, 0, tree.feature))
            # a leaf points to itself and always "goes left", so deeper steps keep it in place
            threshold.append(np.where(leaf, np.inf, tree.threshold))
            left.append(np.where(leaf, index, tree.children_left + offset))
            right.append(np.where(leaf, index, tree.children_right + offset))
            value = tree.value[:, 0, :].astype(float)
            total = value.sum(axis=1, keepdims=True)
            total[total == 0.0] = 1.0
            values.append(value / total)  # DecisionTreeClassifier.predict_proba normalises the same way
        self.feature = np.concatenate(feature).astype(np.intp)
        self.threshold = np.concatenate(threshold)
        self.left = np.concatenate(left).astype(np.intp)
        self.right = np.concatenate(right).astype(np.intp)
        self.values = np.concatenate(values)
        self.trees = trees
        self.depth = max(t.max_depth for t in trees)
        self.n_trees = len(trees)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        if np.isnan(X).any():
            return self.forest.predict_proba(X)
        if len(X) > SMALL_BATCH_ROWS:
            return self._by_tree(X)
        # Trees compare float32 features with float64 thresholds, as scikit-learn's do.
        X32 = X.astype(np.float32).astype(np.float64)
        rows = np.arange(len(X))[None, :]
        node = np.repeat(self.roots[:, None], len(X), axis=1)
        for _ in range(self.depth):
            go_left = X32[rows, self.feature[node]] <= self.threshold[node]
            node = np.where(go_left, self.left[node], self.right[node])
        # The forest adds the trees' probabilities one after another, then divides; numpy's sum
        # over the first axis adds in that same order (pairwise summation is for the last axis).
        return self.values[node].sum(axis=0) / self.n_trees

    def _by_tree(self, X: np.ndarray) -> np.ndarray:
        """Many rows: each tree's compiled `apply` finds the leaves, their values are added up.

        The compiled traversal releases the GIL, so the trees are split into one contiguous
        share per CPU, each summed in tree order; the shares are then added in order.
        """
        X32 = np.ascontiguousarray(X, dtype=np.float32)

        def share(trees: range) -> np.ndarray:
            total = np.zeros((len(X), self.values.shape[1]))
            for i in trees:
                total += self.values[self.roots[i] + self.trees[i].apply(X32)]
            return total

        bounds = np.linspace(0, self.n_trees, _CPUS + 1).astype(int)
        shares = [range(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        partials = list(_pool().map(share, shares)) if len(shares) > 1 else [share(shares[0])]
        total = partials[0]
        for partial in partials[1:]:
            total += partial
        return total / self.n_trees


class _Stumps:
    """A LightGBM model whose trees split at most once: an additive model. Its hundreds of trees
    add up to one step function per feature, evaluated with one binary search per feature
    instead of a walk through every tree (800 trees: 48 ms for 10,000 rows in LightGBM)."""

    LINKS = {"binary sigmoid:1": "sigmoid", "regression": "identity"}

    def __init__(self, bias: float, steps: list, link: str):
        self.bias, self.steps, self.link = bias, steps, link

    @classmethod
    def build(cls, booster: Any) -> Optional["_Stumps"]:
        """None unless every tree is a leaf or one plain ``<=`` split on a feature with no missing values."""
        model = booster.dump_model()
        link = cls.LINKS.get(model.get("objective"))
        if link is None or model.get("num_tree_per_iteration", 1) != 1 or model.get("average_output"):
            return None
        bias = 0.0
        splits: Dict[int, list] = {}
        for tree in model["tree_info"]:
            node = tree["tree_structure"]
            if "leaf_value" in node:
                bias += node["leaf_value"]
                continue
            left, right = node["left_child"], node["right_child"]
            if (node["decision_type"] != "<=" or node["missing_type"] != "None"
                    or "leaf_value" not in left or "leaf_value" not in right):
                return None
            splits.setdefault(node["split_feature"], []).append((node["threshold"], left["leaf_value"], right["leaf_value"]))
        steps = []
        for feature, trees in sorted(splits.items()):
            threshold, left, right = (np.asarray(column, dtype=float) for column in zip(*trees))
            order = np.argsort(threshold, kind="stable")
            # Every tree gives its right leaf, plus (left - right) where x <= threshold: for the
            # thresholds sorted, those trees are the ones from the first threshold >= x on.
            extra = (left - right)[order]
            from_here = np.concatenate([np.cumsum(extra[::-1])[::-1], [0.0]])
            bias += right.sum()
            steps.append((feature, threshold[order], from_here))
        return cls(bias, steps, link)

    def __call__(self, X: np.ndarray) -> np.ndarray:
        raw = np.full(len(X), self.bias)
        for feature, thresholds, from_here in self.steps:
            raw += from_here[np.searchsorted(thresholds, X[:, feature], side="left")]
        return 1.0 / (1.0 + np.exp(-raw)) if self.link == "sigmoid" else raw


_CPUS = os.cpu_count() or 1
_POOL = None


def _pool():
    """One thread pool per process, made on first use (after the server forks its workers)."""
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=_CPUS, thread_name_prefix="amlpipe-trees")
    return _POOL


def describe(predictor: Any) -> str:
    """A line for the server log: which path requests take."""
    if isinstance(predictor, OnnxPredictor):
        return "ONNX Runtime"
    return "fast path" if predictor.fast else "pipeline path"




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


__all__: Sequence[str] = ["MISSING_TEXT", "OnnxPredictor", "onnx_inputs", "Predictor", "describe", "explanations", "single_threaded"]
