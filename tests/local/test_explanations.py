"""Per-record explanations from the endpoint: ``"method": "explain"``."""

import numpy as np
import pandas as pd
import pytest

from amlpipe import contract

from ..conftest import LESSON_RECORD
from .test_score_script import answer, load_score_module, request

pytestmark = pytest.mark.slow


def test_explain_names_the_fields_that_move_each_answer(trained, heart_csv, monkeypatch):
    score = load_score_module(monkeypatch, trained["model"].path)
    records = pd.read_csv(heart_csv).drop(columns=["DEATH_EVENT"]).head(3)
    status, body = answer(score.run(request({"data": records.to_dict("records"), "method": "explain"})))
    assert status == 200
    assert len(body["result"]) == len(body["explanations"]) == 3
    model = trained["model"].load()
    for i, explanation in enumerate(body["explanations"]):
        assert len(explanation) == 5 and {e["field"] for e in explanation} <= set(records.columns)
        sizes = [abs(e["contribution"]) for e in explanation]
        assert sizes == sorted(sizes, reverse=True)
        # each contribution is the drop in the answer's probability with the field sent as missing
        row = records.iloc[[i]].astype(float)
        chosen = list(model.classes_).index(model.predict(row)[0])
        for e in explanation[:2]:
            without = row.assign(**{e["field"]: np.nan})
            drop = model.predict_proba(row)[0, chosen] - model.predict_proba(without)[0, chosen]
            # the endpoint serves model.onnx, whose probabilities are within 1e-5 of the pipeline's;
            # a drop is the difference of two of them
            assert e["contribution"] == pytest.approx(drop, abs=2e-5)


def test_explain_is_bounded_and_in_the_openapi_document(trained, monkeypatch):
    score = load_score_module(monkeypatch, trained["model"].path)
    status, body = answer(score.run(request({"data": [LESSON_RECORD] * (contract.EXPLAIN_MAX_ROWS + 1),
                                             "method": "explain"})))
    assert status == 413 and "explained" in body["error"]["message"]
    spec = contract.openapi_spec({"age": "number"}, [0, 1])
    assert "explain" in spec["definitions"]["ScoringRequest"]["properties"]["method"]["enum"]
    assert "explanations" in spec["definitions"]["ScoringResponse"]["properties"]


def test_regression_explanations_are_drops_in_the_predicted_value(heart_csv):
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.pipeline import Pipeline

    from amlpipe import serving
    from amlpipe.backends.local.featurize import build_featurizer
    from amlpipe.data import feature_schema

    df = pd.read_csv(heart_csv).drop(columns=["DEATH_EVENT"])
    X, y = df.drop(columns=["serum_sodium"]), df["serum_sodium"]
    schema = feature_schema(X)
    model = Pipeline([("featurize", build_featurizer(schema)),
                      ("model", RandomForestRegressor(20, random_state=0))]).fit(X, y)
    predictor = serving.Predictor(model)
    columns = {name: X[name].astype(float).head(2).tolist() for name in schema}
    explained = serving.explanations(predictor, columns, top=3)
    assert [len(e) for e in explained] == [3, 3]
    first = explained[0][0]
    row = X.head(1).astype(float)
    drop = model.predict(row)[0] - model.predict(row.assign(**{first["field"]: np.nan}))[0]
    assert first["contribution"] == pytest.approx(drop, abs=1e-6)
