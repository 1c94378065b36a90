"""Which learners the local engine searches: Azure model names mapped to FLAML learners.

``allowed_models`` and ``blocked_models`` take Azure's names; `learners_for` turns them into
FLAML learner names, and `ALGORITHM_NAMES` names each learner on the leaderboard.
"""

from __future__ import annotations

import logging
from typing import Dict, List, Tuple

from ...errors import ConfigError
from ...onnx_export import CONVERTIBLE_LEARNERS
from ...settings import AutoMLSettings

logger = logging.getLogger(__name__)

# Azure model names -> FLAML learners.
AZURE_MODELS: Dict[str, Dict[str, Tuple[str, ...]]] = {
    "classification": {
        "LogisticRegression": ("lrl1", "lrl2"),
        "SGD": ("sgd",),
        "KNN": ("kneighbor",),
        "RandomForest": ("rf",),
        "ExtremeRandomTrees": ("extra_tree",),
        "LightGBM": ("lgbm",),
        "XGBoostClassifier": ("xgboost", "xgb_limitdepth"),
        "GradientBoosting": ("histgb",),
        "LinearSVM": ("svc",),
    },
    "regression": {
        "ElasticNet": ("enet",),
        "LassoLars": ("lassolars",),
        "SGD": ("sgd",),
        "KNN": ("kneighbor",),
        "RandomForest": ("rf",),
        "ExtremeRandomTrees": ("extra_tree",),
        "LightGBM": ("lgbm",),
        "XGBoostRegressor": ("xgboost", "xgb_limitdepth"),
        "GradientBoosting": ("histgb",),
    },
}
# Azure models with no local learner: allowing one alone is an error, blocking one is a no-op.
AZURE_ONLY_MODELS = (
    "DecisionTree",
    "MultinomialNaiveBayes",
    "BernoulliNaiveBayes",
    "SVM",
    "AveragedPerceptronClassifier",
    "TensorFlowDNN",
    "TensorFlowLinearClassifier",
    "TensorFlowLinearRegressor",
    "FastLinearRegressor",
    "OnlineGradientDescentRegressor",
    "TCNForecaster",
)
# Searched when allowed_models is not set. Not KNN: its model is the training data itself
# (every record ends up in model.pkl) and it is slow to serve; allowed_models=["KNN"] brings it in.
DEFAULT_LEARNERS = {
    "classification": ("lgbm", "rf", "extra_tree", "xgb_limitdepth", "lrl1"),
    "regression": ("lgbm", "rf", "extra_tree", "xgb_limitdepth", "enet"),
}
# Algorithm names for the leaderboard and the registered model, unique per learner.
ALGORITHM_NAMES = {
    "lrl1": "LogisticRegression",
    "lrl2": "LogisticRegressionL2",
    "sgd": "SGD",
    "kneighbor": "KNN",
    "rf": "RandomForest",
    "extra_tree": "ExtremeRandomTrees",
    "lgbm": "LightGBM",
    "xgboost": "XGBoost",
    "xgb_limitdepth": "XGBoostLimitDepth",
    "histgb": "GradientBoosting",
    "svc": "LinearSVM",
    "enet": "ElasticNet",
    "lassolars": "LassoLars",
}


def algorithm_name(learner: str) -> str:
    """The leaderboard name of a FLAML learner."""
    return ALGORITHM_NAMES.get(learner, learner)


def learners_for(settings: AutoMLSettings) -> List[str]:
    """FLAML learners from ``allowed_models``/``blocked_models``.

    Raises:
        ConfigError: an unknown model name, or no local learner left; the message names the setting.
    """
    table = AZURE_MODELS[settings.task]
    for setting in ("allowed_models", "blocked_models"):
        for name in getattr(settings, setting) or ():
            if name not in table and name not in AZURE_ONLY_MODELS:
                raise ConfigError(
                    f"setting 'automl.{setting}': unknown model {name!r} for {settings.task}; "
                    f"known: {', '.join(table)}"
                )
    if settings.allowed_models:
        local_only = [n for n in settings.allowed_models if n in AZURE_ONLY_MODELS]
        learners = [lrn for n in settings.allowed_models if n in table for lrn in table[n]]
        if local_only:
            logger.warning("allowed_models: %s not available on the local backend", ", ".join(local_only))
    else:
        learners = list(DEFAULT_LEARNERS[settings.task])
    blocked = {lrn for n in settings.blocked_models or () if n in table for lrn in table[n]}
    learners = [lrn for lrn in dict.fromkeys(learners) if lrn not in blocked]
    if not learners:
        raise ConfigError(
            "settings 'automl.allowed_models'/'automl.blocked_models' leave no model the local backend can train"
        )
    if settings.enable_onnx_compatible_models:
        learners = [lrn for lrn in learners if lrn in CONVERTIBLE_LEARNERS]
        if not learners:
            raise ConfigError("setting 'automl.enable_onnx_compatible_models': none of the allowed models converts "
                              f"to ONNX; those that do: {', '.join(n for n in table if set(table[n]) <= set(CONVERTIBLE_LEARNERS))}")
    return learners
