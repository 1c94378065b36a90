"""The serving fast path against the pipeline it stands for, for each kind of member it compiles."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import VotingClassifier
from sklearn.pipeline import Pipeline

from amlpipe import AutoMLSettings, serving
from amlpipe.backends.local.candidates import fixed_candidates
from amlpipe.backends.local.learners import learners_for
from amlpipe.backends.local.featurize import build_featurizer
from amlpipe.data import LABEL, feature_schema


@pytest.fixture(scope="module")
def heart(heart_csv):
    frame = pd.read_csv(heart_csv)
    return frame.drop(columns=[LABEL]), frame[LABEL]


def fitted_ensemble(settings, X, y):
    """The engine's fixed candidates (forests and LightGBM) in one voting ensemble, as the engine saves it."""
    members = list(fixed_candidates(settings, learners_for(settings), workers=1).items())
    voter = VotingClassifier(members, voting="soft", weights=[0.4, 0.2, 0.3, 0.1])
    schema = feature_schema(X)
    return Pipeline([("featurize", build_featurizer(schema)), ("model", voter)]).fit(X, y), schema


@pytest.mark.parametrize("rows", [1, serving.SMALL_BATCH_ROWS, serving.SMALL_BATCH_ROWS + 1, 299])
def test_classifier_members_answer_exactly_as_the_pipeline(heart, rows):
    X, y = heart
    model, schema = fitted_ensemble(AutoMLSettings(), X, y)
    predictor = serving.Predictor(model, schema)
    assert predictor.fast
    frame = X.head(rows)
    fast = predictor.predict_proba({c: frame[c].astype(float).tolist() for c in schema})
    np.testing.assert_allclose(fast, model.predict_proba(frame), rtol=0, atol=1e-12)


@pytest.mark.parametrize("member", ["LightGBMSlow", "LightGBMStumps"])
@pytest.mark.parametrize("rows", [1, 299])
def test_lightgbm_regressor_answers_exactly_as_the_pipeline(heart, rows, member):
    X, _ = heart
    X, y = X.drop(columns=["time"]), X["time"].astype(float)
    settings = AutoMLSettings(task="regression", primary_metric="r2_score")
    schema = feature_schema(X)
    regressor = fixed_candidates(settings, learners_for(settings), workers=1)[member]
    model = Pipeline([("featurize", build_featurizer(schema)), ("model", regressor)]).fit(X, y)
    predictor = serving.Predictor(model, schema)
    assert predictor.fast
    frame = X.head(rows)
    fast = predictor.predict({c: frame[c].astype(float).tolist() for c in schema})
    np.testing.assert_allclose(fast, model.predict(frame), rtol=0, atol=1e-9)


def test_boosted_stumps_are_summed_per_feature_exactly_even_on_the_thresholds(heart):
    X, y = heart
    schema = feature_schema(X)
    featurizer = build_featurizer(schema).fit(X)
    Xf = featurizer.transform(X)
    fixed = fixed_candidates(AutoMLSettings(), learners_for(AutoMLSettings()), workers=1)
    stumps = fixed["LightGBMStumps"].fit(Xf, y)
    additive = serving._Stumps.build(stumps.booster_)
    assert additive is not None and serving._Stumps.build(fixed["LightGBMSlow"].fit(Xf, y).booster_) is None
    # every value a split decides on: each threshold, and the next doubles either side of it
    thresholds = np.concatenate([t for _, t, _ in additive.steps])
    probes = np.concatenate([thresholds, np.nextafter(thresholds, np.inf), np.nextafter(thresholds, -np.inf)])
    edge = np.tile(np.asarray(Xf, dtype=float)[:1], (len(probes), 1))
    for feature, _, _ in additive.steps:
        edge[:, feature] = probes
    for rows in (np.asarray(Xf, dtype=float), edge):
        np.testing.assert_allclose(serving._compile(stumps)(rows), stumps.predict_proba(rows), rtol=0, atol=1e-12)
