"""The final model as ONNX, for ONNX Runtime to serve (Azure AutoML's ONNX-compatible models).

`skl2onnx` converts scikit-learn's parts (the featurizer's scalers and one-hot encoder, forests,
linear models) and `onnxmltools` XGBoost. Converters written here cover what they lack or
get wrong for amlpipe's final models:

- `FixedThresholdClassifier` (the out-of-fold threshold of binary models): skl2onnx knows only
  `TunedThresholdClassifierCV`, and predicts labels without its threshold;
- soft voting with the weights as a list (skl2onnx's converter needs an array);
- LightGBM as a double-precision tree ensemble: LightGBM compares the double features with
  double thresholds, and `onnxmltools`' float tree sends the values beside a threshold (for
  example the hundreds of boosted stumps') to the wrong leaf;
- scikit-learn forests and XGBoost behind a cast to float: both compare float32 features,
  while the featurizer's output is double, as in the pipeline;
- `SimpleImputer` replacing NaN (numbers) or a missing text (categories): skl2onnx's holds
  float32 fill values, and takes missing text only as a string the pipeline would see as a value;
- the one-hot encoder answering double, as scikit-learn's does (skl2onnx's answers float).

The graph has one ``[N, 1]`` input per request field: double for number and boolean fields
(NaN where missing), string for category fields (`MISSING_TEXT` where missing; a text the
encoder did not see in training encodes as all zeros, as `handle_unknown="ignore"` does). It
returns the labels (the original class values) and the class probabilities, or the regression
values. The export is checked against the pipeline on the training rows before it is written;
a model that does not convert, or does not answer as the pipeline does, keeps model.pkl alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from .serving import MISSING_TEXT, onnx_inputs

logger = logging.getLogger(__name__)

ONNX_FILE = "model.onnx"
# Probabilities (and regression values, relative) may differ from the pipeline's by this much:
# ONNX tree ensembles return float32.
TOLERANCE = 1e-5
OPSET = {"": 17, "ai.onnx.ml": 3}
# FLAML learners whose fitted models this module converts and checks (enable_onnx_compatible_models).
# Not KNN (with distance weights a record at distance 0 answers alone in scikit-learn, not in the export),
# HistGradientBoosting or LinearSVC (no converter that gives the same answers).
CONVERTIBLE_LEARNERS = ("lgbm", "rf", "extra_tree", "xgboost", "xgb_limitdepth", "lrl1", "lrl2", "sgd", "enet", "lassolars")


class NotConvertible(ValueError):
    """The model holds a part, or a setting of a part, that has no exact ONNX form here."""


def to_onnx(model: Any, schema: Mapping[str, str]):
    """The fitted ``model`` (raw records in) as an ONNX ModelProto with one input per field
    (double for numbers and booleans, string for categories).

    Raises:
        NotConvertible: a part has no converter, or one that would change the answers.
    """
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import DoubleTensorType, StringTensorType

    unknown = sorted(kind for kind in set(schema.values()) if kind not in ("number", "boolean", "category"))
    if unknown:
        raise NotConvertible(f"fields of kind {unknown[0]!r}")
    _register()
    inputs = [(name, StringTensorType([None, 1]) if kind == "category" else DoubleTensorType([None, 1]))
              for name, kind in schema.items()]
    options = {id(part): {"zipmap": False} for part in _classifiers(model)}
    try:
        return convert_sklearn(model, initial_types=inputs, target_opset=OPSET, options=options)
    except NotConvertible:
        raise
    except (RuntimeError, NotImplementedError, TypeError, ValueError, KeyError, AttributeError, NameError) as exc:
        # skl2onnx raises these for a model type or option it has no converter for
        raise NotConvertible(f"{type(exc).__name__}: {exc}") from None


def export(model: Any, schema: Mapping[str, str], features: pd.DataFrame, folder: Path) -> Optional[Path]:
    """Write ``folder/model.onnx`` if the model converts and answers as the pipeline on ``features``.

    Returns:
        The file written, or None (the reason is logged).
    """
    try:
        proto = to_onnx(model, schema)
        mismatch = compare(model, proto.SerializeToString(), schema, features)
    except NotConvertible as exc:
        logger.warning("no %s: the model does not convert (%s); it is served from model.pkl", ONNX_FILE, exc)
        return None
    if mismatch:
        logger.warning("no %s: %s; the model is served from model.pkl", ONNX_FILE, mismatch)
        return None
    path = Path(folder) / ONNX_FILE
    path.write_bytes(proto.SerializeToString())
    logger.info("wrote %s (%d KiB)", path, path.stat().st_size // 1024)
    return path


def runtime_requirements() -> List[str]:
    """Pinned packages that serving model.onnx needs."""
    from importlib import metadata

    return [f"onnxruntime=={metadata.version('onnxruntime')}"]


def compare(model: Any, onnx_bytes: bytes, schema: Mapping[str, str], features: pd.DataFrame) -> str:
    """How ONNX Runtime's answers differ from ``model``'s on ``features`` ('' when they agree).

    Raises:
        NotConvertible: ONNX Runtime cannot load or run the export.
    """
    import onnxruntime
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    try:
        session = onnxruntime.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
        outputs = session.run(None, feeds(features, schema))
    except (state.Fail, state.NotImplemented, state.InvalidGraph, state.InvalidArgument, state.RuntimeException) as exc:
        raise NotConvertible(f"ONNX Runtime cannot run the export: {exc}") from None
    if hasattr(model, "predict_proba"):
        labels, got = np.asarray(outputs[0]).ravel(), np.asarray(outputs[1], dtype=float)
        wrong = int(np.sum(labels != np.asarray(model.predict(features))))
        if wrong:
            return f"{wrong} of {len(features)} labels differ from the pipeline's"
        expected = model.predict_proba(features)
    else:  # regression: the gap relative to the values' size
        expected = np.asarray(model.predict(features), dtype=float)
        scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
        expected, got = expected / scale, np.asarray(outputs[0], dtype=float).reshape(expected.shape) / scale
    gap = float(np.abs(got - expected).max(initial=0.0))
    return "" if gap <= TOLERANCE else f"answers differ from the pipeline's by up to {gap:.2g} (> {TOLERANCE:g})"


def feeds(features: pd.DataFrame, schema: Mapping[str, str]) -> Dict[str, np.ndarray]:
    """The ONNX inputs for a frame of raw records, as the endpoint sends them (`serving.onnx_inputs`)."""
    return onnx_inputs({name: features[name].tolist() for name in schema}, schema)


def _classifiers(model: Any) -> list:
    """The parts whose outputs skl2onnx would turn into a list of dicts (ZipMap) unless told not to."""
    found = []
    if type(model).__name__ == "FixedThresholdClassifier":
        model = model.estimator_
    steps = getattr(model, "steps", None)
    last = steps[-1][1] if steps else model
    if hasattr(last, "predict_proba"):
        found.append(last)
    return found


_REGISTERED = False


def _register() -> None:
    """Add amlpipe's converters to skl2onnx's registry (once per process)."""
    global _REGISTERED
    if _REGISTERED:
        return
    from lightgbm import LGBMClassifier, LGBMRegressor
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common._registration import get_converter, register_converter, register_shape_calculator
    from skl2onnx.common.shape_calculator import (calculate_linear_classifier_output_shapes,
                                                  calculate_linear_regressor_output_shapes)
    from sklearn.ensemble import (ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier,
                                  RandomForestRegressor, VotingClassifier, VotingRegressor)
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import FixedThresholdClassifier
    from sklearn.preprocessing import OneHotEncoder
    from xgboost import XGBClassifier, XGBRegressor

    classifier_options = {"zipmap": [True, False, "columns"], "nocl": [True, False],
                          "output_class_labels": [False, True]}
    register_converter("AmlpipeXGBoost", convert_xgboost)
    register_shape_calculator("AmlpipeXGBoost", _no_shapes)
    float32_members = {
        RandomForestClassifier: "SklearnRandomForestClassifier",
        ExtraTreesClassifier: "SklearnExtraTreesClassifier",
        RandomForestRegressor: "SklearnRandomForestRegressor",
        ExtraTreesRegressor: "SklearnExtraTreesRegressor",
        XGBClassifier: "AmlpipeXGBoost",
        XGBRegressor: "AmlpipeXGBoost",
    }
    for cls, inner in float32_members.items():
        classifier = hasattr(cls, "predict_proba")
        # the library converter reads its options from the model's class, which now names the wrapper
        options = {**(classifier_options if classifier else {}), **(get_converter(inner).get_allowed_options() or {})}
        update_registered_converter(
            cls, f"AmlpipeFloat32{cls.__name__}",
            calculate_linear_classifier_output_shapes if classifier else calculate_linear_regressor_output_shapes,
            _in_float32(inner, classifier), options=options or None,
        )
    update_registered_converter(LGBMClassifier, "AmlpipeLGBMClassifier", calculate_linear_classifier_output_shapes,
                                _convert_lightgbm, options=classifier_options)
    update_registered_converter(LGBMRegressor, "AmlpipeLGBMRegressor", calculate_linear_regressor_output_shapes,
                                _convert_lightgbm)
    update_registered_converter(VotingClassifier, "AmlpipeVotingClassifier", calculate_linear_classifier_output_shapes,
                                _convert_voting, options=classifier_options)
    update_registered_converter(VotingRegressor, "AmlpipeVotingRegressor", calculate_linear_regressor_output_shapes,
                                _convert_voting)
    update_registered_converter(SimpleImputer, "AmlpipeSimpleImputer", _same_shape, _convert_imputer)
    update_registered_converter(OneHotEncoder, "AmlpipeOneHotEncoder", _one_hot_shape, _convert_one_hot)
    update_registered_converter(FixedThresholdClassifier, "AmlpipeFixedThresholdClassifier", _no_shapes,
                                _convert_fixed_threshold, parser=_parse_fixed_threshold)
    _REGISTERED = True


def _no_shapes(operator) -> None:
    """The outputs were given their types where the operator was declared."""


def _same_shape(operator) -> None:
    """The inputs' columns side by side, of the inputs' type (double, or string for categories)."""
    columns = sum(v.type.shape[1] or 0 for v in operator.inputs) if all(v.type.shape for v in operator.inputs) else None
    operator.outputs[0].type = operator.inputs[0].type.__class__([None, columns])


def _one_hot_shape(operator) -> None:
    from skl2onnx.common.data_types import DoubleTensorType

    columns = sum(len(c) for c in operator.raw_operator.categories_)
    operator.outputs[0].type = DoubleTensorType([None, columns])


# -- helpers shared by the converters -------------------------------------------------------------


def _label_type(classes: Sequence[Any]):
    from skl2onnx.common.data_types import Int64TensorType, StringTensorType

    return StringTensorType() if any(isinstance(c, str) for c in classes) else Int64TensorType()


def _labels_from_probabilities(scope, container, classes: Sequence[Any], probabilities: str, output: str) -> None:
    """``output`` = classes[argmax(probabilities)], the original class values (numpy's argmax: first of ties)."""
    from onnx import TensorProto

    strings = any(isinstance(c, str) for c in classes)
    table = scope.get_unique_variable_name("classes")
    if strings:
        container.add_initializer(table, TensorProto.STRING, [len(classes)], [str(c).encode() for c in classes])
    else:
        container.add_initializer(table, TensorProto.INT64, [len(classes)], [int(c) for c in classes])
    index = scope.get_unique_variable_name("argmax")
    container.add_node("ArgMax", [probabilities], [index], axis=1, keepdims=0,
                       name=scope.get_unique_operator_name("ArgMax"))
    container.add_node("Gather", [table, index], [output], axis=0, name=scope.get_unique_operator_name("Gather"))


def _constant(scope, container, name: str, values, dtype) -> str:
    from onnx import TensorProto

    onnx_type = {np.float64: TensorProto.DOUBLE, np.int64: TensorProto.INT64}[dtype]
    values = np.asarray(values, dtype=dtype)
    variable = scope.get_unique_variable_name(name)
    container.add_initializer(variable, onnx_type, list(values.shape), values.ravel().tolist())
    return variable


def _cast(scope, container, source: str, to: int, name: str) -> str:
    target = scope.get_unique_variable_name(name)
    container.add_node("Cast", [source], [target], to=to, name=scope.get_unique_operator_name("Cast"))
    return target


def _in_float32(inner_alias: str, classifier: bool):
    """A converter that casts the double features to float32, runs ``inner_alias``'s converter,
    and casts its answer back to double: as scikit-learn's trees and XGBoost do with their input."""

    def convert(scope, operator, container) -> None:
        from onnx import TensorProto
        from skl2onnx.common.data_types import FloatTensorType, guess_proto_type

        features = scope.declare_local_variable("features_float", FloatTensorType())
        container.add_node("Cast", [operator.inputs[0].full_name], [features.onnx_name], to=TensorProto.FLOAT,
                           name=scope.get_unique_operator_name("Cast"))
        inner = scope.declare_local_operator(inner_alias, operator.raw_operator)
        inner.inputs = [features]
        if classifier:
            label = scope.declare_local_variable("label", _label_type(operator.raw_operator.classes_))
            proba = scope.declare_local_variable("probabilities_float", FloatTensorType())
            inner.outputs = [label, proba]
            container.add_node("Identity", [label.onnx_name], [operator.outputs[0].full_name],
                               name=scope.get_unique_operator_name("Identity"))
            # double, unless skl2onnx declared this model's probabilities float (it does for a random forest)
            container.add_node("Cast", [proba.onnx_name], [operator.outputs[1].full_name],
                               to=guess_proto_type(operator.outputs[1].type), name=scope.get_unique_operator_name("Cast"))
        else:
            value = scope.declare_local_variable("value_float", FloatTensorType())
            inner.outputs = [value]
            container.add_node("Cast", [value.onnx_name], [operator.outputs[0].full_name], to=TensorProto.DOUBLE,
                               name=scope.get_unique_operator_name("Cast"))

    return convert


# -- SimpleImputer -------------------------------------------------------------------------------


def _convert_imputer(scope, operator, container) -> None:
    """Missing values replaced by the fitted statistics: NaN in double columns (ONNX's Imputer holds
    float32 fill values and has no double kernel in ONNX Runtime), `MISSING_TEXT` in string columns
    (the pipeline's imputer sees NaN there; the export's string inputs carry missing as that text)."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import DoubleTensorType, StringTensorType

    model = operator.raw_operator
    statistics = np.asarray(model.statistics_)
    kind = operator.inputs[0].type.__class__
    if (model.add_indicator or not (isinstance(model.missing_values, float) and np.isnan(model.missing_values))
            or any(v.type.__class__ is not kind for v in operator.inputs) or kind not in (DoubleTensorType, StringTensorType)):
        raise NotConvertible("SimpleImputer: only NaN replaced, in double or string columns, without indicator columns")
    if len(operator.inputs) > 1:
        features = scope.get_unique_variable_name("imputer_input")
        container.add_node("Concat", [v.full_name for v in operator.inputs], [features], axis=1,
                           name=scope.get_unique_operator_name("Concat"))
    else:
        features = operator.inputs[0].full_name
    missing = scope.get_unique_variable_name("missing")
    if kind is DoubleTensorType:
        if statistics.dtype.kind not in "fiu" or np.isnan(statistics.astype(float)).any():
            raise NotConvertible("SimpleImputer: numeric columns need numeric statistics")
        container.add_node("IsNaN", [features], [missing], name=scope.get_unique_operator_name("IsNaN"))
        fill = _constant(scope, container, "fill", statistics.astype(float).reshape(1, -1), np.float64)
    else:
        if not all(isinstance(value, str) and value != MISSING_TEXT for value in statistics):
            raise NotConvertible(f"SimpleImputer: category statistics must be texts other than {MISSING_TEXT!r}")
        # ai.onnx Equal takes strings only from opset 19: LabelEncoder marks the missing text instead
        marked = scope.get_unique_variable_name("missing_marked")
        container.add_node("LabelEncoder", [features], [marked], op_domain="ai.onnx.ml", op_version=2,
                           keys_strings=[MISSING_TEXT], values_int64s=[1], default_int64=0,
                           name=scope.get_unique_operator_name("LabelEncoder"))
        container.add_node("Cast", [marked], [missing], to=TensorProto.BOOL, name=scope.get_unique_operator_name("Cast"))
        fill = scope.get_unique_variable_name("fill")
        container.add_initializer(fill, TensorProto.STRING, [1, len(statistics)], [v.encode() for v in statistics])
    container.add_node("Where", [missing, fill, features], [operator.outputs[0].full_name],
                       name=scope.get_unique_operator_name("Where"))


# -- OneHotEncoder ------------------------------------------------------------------------------


def _convert_one_hot(scope, operator, container) -> None:
    """skl2onnx's encoder (unknown texts: all zeros), its float answer cast to the pipeline's double."""
    from onnx import TensorProto
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType

    model = operator.raw_operator
    if operator.inputs[0].type.__class__ is not StringTensorType or model.drop is not None \
            or model.handle_unknown != "ignore" or model._infrequent_enabled:
        raise NotConvertible("OneHotEncoder: only text categories, unknown ones ignored, none dropped or grouped")
    if any(MISSING_TEXT in map(str, categories) for categories in model.categories_):
        raise NotConvertible(f"OneHotEncoder: {MISSING_TEXT!r} is a category, but the export reads it as missing")
    inner = scope.declare_local_operator("SklearnOneHotEncoder", model)
    inner.inputs = operator.inputs
    encoded = scope.declare_local_variable("one_hot_float", FloatTensorType())
    inner.outputs = [encoded]
    container.add_node("Cast", [encoded.onnx_name], [operator.outputs[0].full_name], to=TensorProto.DOUBLE,
                       name=scope.get_unique_operator_name("Cast"))


# -- FixedThresholdClassifier -----------------------------------------------------------------------


def _parse_fixed_threshold(scope, model, inputs, custom_parsers=None):
    """The wrapped estimator's outputs, then the threshold's operator on its probabilities."""
    from skl2onnx._parse import _parse_sklearn

    if model.response_method not in ("predict_proba", "auto") or len(model.classes_) != 2:
        raise NotConvertible("FixedThresholdClassifier: only predict_proba thresholds of two classes")
    inner = _parse_sklearn(scope, model.estimator_, inputs, custom_parsers=custom_parsers)
    operator = scope.declare_local_operator("AmlpipeFixedThresholdClassifier", model)
    operator.inputs = [inner[1]]
    label = scope.declare_local_variable("label", _label_type(model.classes_))
    probabilities = scope.declare_local_variable("probabilities", inner[1].type.__class__())
    operator.outputs = [label, probabilities]
    return operator.outputs


def _convert_fixed_threshold(scope, operator, container) -> None:
    """label = classes[1] where P(classes[1]) >= threshold, else classes[0]; probabilities unchanged."""
    from onnx import TensorProto

    model = operator.raw_operator
    proba = operator.inputs[0].full_name
    column = _constant(scope, container, "positive_column", [1], np.int64)
    positive = scope.get_unique_variable_name("positive")
    container.add_node("Gather", [proba, column], [positive], axis=1, name=scope.get_unique_operator_name("Gather"))
    threshold = _constant(scope, container, "threshold", [model.threshold], np.float64)
    if operator.inputs[0].type.__class__.__name__ != "DoubleTensorType":
        threshold = _cast(scope, container, threshold, TensorProto.FLOAT, "threshold_float")
    chosen = scope.get_unique_variable_name("at_or_above")
    container.add_node("GreaterOrEqual", [positive, threshold], [chosen], name=scope.get_unique_operator_name("GE"))
    index = _cast(scope, container, chosen, TensorProto.INT64, "class_index")
    flat = scope.get_unique_variable_name("class_index_flat")
    container.add_node("Reshape", [index, _constant(scope, container, "flat", [-1], np.int64)], [flat],
                       name=scope.get_unique_operator_name("Reshape"))
    table = scope.get_unique_variable_name("classes")
    if any(isinstance(c, str) for c in model.classes_):
        container.add_initializer(table, TensorProto.STRING, [2], [str(c).encode() for c in model.classes_])
    else:
        container.add_initializer(table, TensorProto.INT64, [2], [int(c) for c in model.classes_])
    container.add_node("Gather", [table, flat], [operator.outputs[0].full_name], axis=0,
                       name=scope.get_unique_operator_name("Gather"))
    container.add_node("Identity", [proba], [operator.outputs[1].full_name],
                       name=scope.get_unique_operator_name("Identity"))


# -- voting ensembles -----------------------------------------------------------------------------


def _convert_voting(scope, operator, container) -> None:
    """np.average of the members' probabilities (or values) with the ensemble's weights."""
    from skl2onnx._supported_operators import sklearn_operator_name_map
    from skl2onnx.common.data_types import DoubleTensorType

    model = operator.raw_operator
    classifier = hasattr(model, "predict_proba")
    if classifier and model.voting != "soft":
        raise NotConvertible("VotingClassifier: only soft voting")
    members = [m for m in model.estimators_ if m is not None]
    weights = np.ones(len(members)) if model.weights is None else np.asarray(
        [w for w in model.weights if w is not None], dtype=float)
    if operator.inputs[0].type.__class__ is not DoubleTensorType:
        raise NotConvertible("voting ensembles are exported with double features only")
    weighted = []
    for i, (member, weight) in enumerate(zip(members, weights)):
        sub = scope.declare_local_operator(sklearn_operator_name_map[type(member)], member)
        sub.inputs = operator.inputs
        if classifier:
            label = scope.declare_local_variable(f"member_label_{i}", _label_type(member.classes_))
            answer = scope.declare_local_variable(f"member_proba_{i}", DoubleTensorType())
            sub.outputs = [label, answer]
        else:
            answer = scope.declare_local_variable(f"member_value_{i}", DoubleTensorType())
            sub.outputs = [answer]
        product = scope.get_unique_variable_name(f"weighted_{i}")
        container.add_node("Mul", [answer.onnx_name, _constant(scope, container, "weight", [weight], np.float64)],
                           [product], name=scope.get_unique_operator_name("Mul"))
        weighted.append(product)
    total = scope.get_unique_variable_name("weighted_sum")
    container.add_node("Sum", weighted, [total], name=scope.get_unique_operator_name("Sum"))
    average = operator.outputs[1 if classifier else 0].full_name
    container.add_node("Div", [total, _constant(scope, container, "weight_sum", [weights.sum()], np.float64)],
                       [average], name=scope.get_unique_operator_name("Div"))
    if classifier:
        _labels_from_probabilities(scope, container, model.classes_, average, operator.outputs[0].full_name)


# -- LightGBM -------------------------------------------------------------------------------------


class _TreeTable:
    """Nodes and leaf weights in the attribute layout of ONNX's ``TreeEnsembleRegressor``."""

    def __init__(self):
        self.nodes = {k: [] for k in ("treeids", "nodeids", "featureids", "modes", "values", "truenodeids",
                                      "falsenodeids", "missing_value_tracks_true")}
        self.targets = {k: [] for k in ("treeids", "nodeids", "ids", "weights")}

    def _node(self, **values) -> None:
        for key, value in values.items():
            self.nodes[key].append(value)

    def leaf(self, tree: int, node: int, target: int, weight: float) -> None:
        self._node(treeids=tree, nodeids=node, featureids=0, modes="LEAF", values=0.0, truenodeids=0,
                   falsenodeids=0, missing_value_tracks_true=0)
        for key, value in (("treeids", tree), ("nodeids", node), ("ids", target), ("weights", float(weight))):
            self.targets[key].append(value)

    def split(self, tree: int, node: int, feature: int, threshold: float, left: int, right: int,
              missing_left: bool) -> None:
        """``x <= threshold`` goes to ``left``; a missing value to ``left`` if ``missing_left``."""
        self._node(treeids=tree, nodeids=node, featureids=int(feature), modes="BRANCH_LEQ", values=float(threshold),
                   truenodeids=left, falsenodeids=right, missing_value_tracks_true=int(bool(missing_left)))


def lightgbm_trees(booster) -> Dict[str, Any]:
    """The booster's trees as a `_TreeTable` in double precision, with the link that turns their
    sum into the model's answer.

    LightGBM sends a value ``x`` left when ``x <= threshold``; a missing value follows the
    split's default side (``missing_type`` NaN), or counts as 0 (``None``). (It also reads
    values within 1e-35 of zero as 0.0: `_convert_lightgbm` does that before the trees.) Boosted stumps
    (every tree one split or a leaf) become one tree per feature instead: the sum of a
    feature's stumps is a step function, here a balanced tree over its sorted thresholds
    whose leaves hold the sums, so a row takes a few comparisons per feature instead of one
    per stump (800 stumps: 12 trees of depth 7 or less).

    Raises:
        NotConvertible: categorical splits, zero-as-missing, linear trees, averaged (rf) output,
            or an objective with no link here.
    """
    model = booster.dump_model()
    objective = str(model.get("objective", ""))
    per_iteration = int(model.get("num_tree_per_iteration", 1))
    if model.get("average_output") or model.get("linear_tree"):
        raise NotConvertible("LightGBM: averaged (rf) or linear trees")
    if objective.startswith("binary"):
        link, scale = "sigmoid", float(objective.partition("sigmoid:")[2].split()[0] or 1)
    elif objective.split()[0] == "multiclass":
        link, scale = "softmax", 1.0
    elif objective.split()[0] in ("regression", "regression_l1", "huber", "fair", "quantile"):
        link, scale = "identity", 1.0
    else:
        raise NotConvertible(f"LightGBM: objective {objective!r}")
    trees = [tree["tree_structure"] for tree in model["tree_info"]]
    for tree in trees:
        for node in _splits(tree):
            if node["decision_type"] != "<=" or node["missing_type"] not in ("None", "NaN"):
                raise NotConvertible(
                    f"LightGBM: split {node['decision_type']!r} with missing type {node['missing_type']!r}")
    stumps = per_iteration == 1 and all(
        "leaf_value" in t or ("leaf_value" in t["left_child"] and "leaf_value" in t["right_child"]
                              and t["missing_type"] == "None") for t in trees)
    table, bias = (_stump_table(trees) if stumps else (_tree_table(trees, per_iteration), 0.0))
    return {"table": table, "bias": bias, "n_targets": per_iteration, "link": link, "scale": scale}


def _splits(node: dict):
    while "leaf_value" not in node:
        yield node
        yield from _splits(node["right_child"])
        node = node["left_child"]


def _tree_table(trees: Sequence[dict], per_iteration: int) -> _TreeTable:
    table = _TreeTable()
    for tree_id, root in enumerate(trees):
        stack, next_id = [(root, 0)], 1
        while stack:
            node, node_id = stack.pop()
            if "leaf_value" in node:
                table.leaf(tree_id, node_id, tree_id % per_iteration, node["leaf_value"])
                continue
            threshold = float(node["threshold"])
            missing_left = node["default_left"] if node["missing_type"] == "NaN" else 0.0 <= threshold
            table.split(tree_id, node_id, node["split_feature"], threshold, next_id, next_id + 1, missing_left)
            stack.append((node["right_child"], next_id + 1))
            stack.append((node["left_child"], next_id))
            next_id += 2
    return table


def _stump_table(trees: Sequence[dict]):
    """Stumps summed per feature: (a table with one tree per feature, the constant part)."""
    bias = 0.0
    by_feature: Dict[int, list] = {}
    for root in trees:
        if "leaf_value" in root:
            bias += root["leaf_value"]
        else:
            by_feature.setdefault(root["split_feature"], []).append(
                (float(root["threshold"]), root["left_child"]["leaf_value"], root["right_child"]["leaf_value"]))
    table = _TreeTable()
    for tree_id, (feature, stumps) in enumerate(sorted(by_feature.items())):
        threshold, left, right = (np.asarray(column, dtype=float) for column in zip(*stumps))
        bias += right.sum()
        # Every stump gives its right leaf, plus (left - right) where x <= its threshold: below the
        # i-th distinct threshold, that is the sum over the stumps from the i-th threshold on.
        cuts, position = np.unique(threshold, return_inverse=True)
        extra = np.bincount(position, weights=left - right, minlength=len(cuts))
        from_here = np.concatenate([np.cumsum(extra[::-1])[::-1], [0.0]])
        ids = iter(range(2 * len(cuts) + 1))

        def build(first: int, last: int) -> int:
            """Leaves first..last (leaf i: cuts[i-1] < x <= cuts[i]); returns the node id."""
            node = next(ids)
            if first == last:
                table.leaf(tree_id, node, 0, from_here[first])
                return node
            middle = (first + last) // 2
            position = len(table.nodes["nodeids"])
            table.split(tree_id, node, feature, cuts[middle], -1, -1, 0.0 <= cuts[middle])  # NaN counts as 0
            table.nodes["truenodeids"][position] = build(first, middle)
            table.nodes["falsenodeids"][position] = build(middle + 1, last)
            return node

        build(0, len(cuts))
    return table, bias


def _convert_lightgbm(scope, operator, container) -> None:
    from onnx import TensorProto
    from onnx.helper import make_tensor

    model = operator.raw_operator
    trees = lightgbm_trees(model.booster_)
    nodes, targets = trees["table"].nodes, trees["table"].targets
    # LightGBM reads a row as its non-zero values: one within 1e-35 (kZeroThreshold, a float) of zero counts as 0.0
    features = operator.inputs[0].full_name
    magnitude, tiny, zeroed = (scope.get_unique_variable_name(n) for n in ("magnitude", "tiny", "lightgbm_input"))
    container.add_node("Abs", [features], [magnitude], name=scope.get_unique_operator_name("Abs"))
    container.add_node("LessOrEqual", [magnitude, _constant(scope, container, "zero_threshold", [float(np.float32(1e-35))], np.float64)],
                       [tiny], name=scope.get_unique_operator_name("LessOrEqual"))
    container.add_node("Where", [tiny, _constant(scope, container, "zero", [0.0], np.float64), features], [zeroed],
                       name=scope.get_unique_operator_name("Where"))
    raw_float = scope.get_unique_variable_name("lightgbm_raw_float")
    container.add_node(
        "TreeEnsembleRegressor", [zeroed], [raw_float], op_domain="ai.onnx.ml", op_version=3,
        name=scope.get_unique_operator_name("TreeEnsembleRegressor"),
        n_targets=trees["n_targets"], aggregate_function="SUM", post_transform="NONE",
        nodes_treeids=nodes["treeids"], nodes_nodeids=nodes["nodeids"], nodes_featureids=nodes["featureids"],
        nodes_modes=nodes["modes"], nodes_truenodeids=nodes["truenodeids"], nodes_falsenodeids=nodes["falsenodeids"],
        nodes_missing_value_tracks_true=nodes["missing_value_tracks_true"],
        nodes_values_as_tensor=make_tensor("nodes_values", TensorProto.DOUBLE, [len(nodes["values"])], nodes["values"]),
        target_treeids=targets["treeids"], target_nodeids=targets["nodeids"], target_ids=targets["ids"],
        target_weights_as_tensor=make_tensor("target_weights", TensorProto.DOUBLE, [len(targets["weights"])],
                                             targets["weights"]),
        base_values_as_tensor=make_tensor("base_values", TensorProto.DOUBLE, [trees["n_targets"]],
                                          [trees["bias"]] * trees["n_targets"]),
    )
    raw = _cast(scope, container, raw_float, TensorProto.DOUBLE, "lightgbm_raw")
    if trees["link"] == "identity":
        container.add_node("Identity", [raw], [operator.outputs[0].full_name], name=scope.get_unique_operator_name("Id"))
        return
    proba = operator.outputs[1].full_name
    if trees["link"] == "softmax":
        container.add_node("Softmax", [raw], [proba], axis=1, name=scope.get_unique_operator_name("Softmax"))
    else:
        if trees["scale"] != 1.0:
            scaled = scope.get_unique_variable_name("lightgbm_scaled")
            container.add_node("Mul", [raw, _constant(scope, container, "sigmoid_scale", [trees["scale"]], np.float64)],
                               [scaled], name=scope.get_unique_operator_name("Mul"))
            raw = scaled
        positive = scope.get_unique_variable_name("positive")
        container.add_node("Sigmoid", [raw], [positive], name=scope.get_unique_operator_name("Sigmoid"))
        negative = scope.get_unique_variable_name("negative")
        container.add_node("Sub", [_constant(scope, container, "one", [1.0], np.float64), positive], [negative],
                           name=scope.get_unique_operator_name("Sub"))
        container.add_node("Concat", [negative, positive], [proba], axis=1, name=scope.get_unique_operator_name("Concat"))
    _labels_from_probabilities(scope, container, model.classes_, proba, operator.outputs[0].full_name)


__all__: Sequence[str] = ["CONVERTIBLE_LEARNERS", "NotConvertible", "ONNX_FILE", "compare", "export", "feeds", "to_onnx"]
