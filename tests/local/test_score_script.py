"""inference/score.py in-process, pointed at a model folder made by the local backend."""

import importlib.util
import json
import shutil

import numpy as np
import pandas as pd
import pytest
from werkzeug.test import EnvironBuilder
from flask import Request

from amlpipe import contract, serving

from ..conftest import LESSON_RECORD, ROOT

pytestmark = pytest.mark.slow


def load_score_module(monkeypatch, model_dir, **env):
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("score_under_test", ROOT / "inference" / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.init()
    return module


def request(body, content_type="application/json", headers=None, method="POST"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return Request(EnvironBuilder(method=method, data=data, content_type=content_type, headers=headers).get_environ())


def answer(response):
    return response.status_code, json.loads(response.get_data())


@pytest.fixture
def score(trained, monkeypatch):
    return load_score_module(monkeypatch, trained["model"].path)


def test_lessons_request_gets_a_json_object_with_a_boolean_list(score):
    status, body = answer(score.run(request({"data": [LESSON_RECORD]})))
    assert status == 200
    assert body == {"result": [False]}


def test_predict_proba_adds_the_classes_and_probabilities(score):
    status, body = answer(score.run(request({"data": [LESSON_RECORD, LESSON_RECORD], "method": "predict_proba"})))
    assert status == 200
    assert body["classes"] == [False, True]
    assert len(body["probabilities"]) == 2 and sum(body["probabilities"][0]) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("body, content_type, status, says", [
    (b"not json", "application/json", 400, "not valid JSON"),
    ({"data": [LESSON_RECORD]}, "text/csv", 415, "application/json"),
    ({"data": []}, "application/json", 400, "'data' is empty"),
    ({"data": [{**LESSON_RECORD, "age": "sixty"}]}, "application/json", 400, "row 0, field 'age'"),
])
def test_bad_requests_are_4xx_with_the_servers_response_type(score, body, content_type, status, says):
    got, payload = answer(score.run(request(body, content_type)))
    assert got == status
    assert says in payload["error"]["message"]


def test_get_is_refused(score):
    assert score.run(request(b"", method="GET")).status_code == 405


def test_max_rows_comes_from_the_environment(trained, monkeypatch):
    score = load_score_module(monkeypatch, trained["model"].path, AMLPIPE_MAX_ROWS="3")
    status, body = answer(score.run(request({"data": [LESSON_RECORD] * 4})))
    assert status == 413 and "at most 3" in body["error"]["message"]


def test_azure_layout_model_name_and_version_below_the_model_dir(trained, monkeypatch, tmp_path):
    mounted = tmp_path / "azureml-models" / "heart-failure-automl" / "1"
    shutil.copytree(trained["model"].path, mounted)
    score = load_score_module(monkeypatch, tmp_path / "azureml-models")
    assert answer(score.run(request({"data": [LESSON_RECORD]})))[0] == 200


def test_keys_file_turns_on_bearer_auth(trained, monkeypatch, tmp_path):
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"primary_key": "p-key", "secondary_key": "s-key"}))
    score = load_score_module(monkeypatch, trained["model"].path, AMLPIPE_KEYS_FILE=str(keys))
    body = {"data": [LESSON_RECORD]}
    assert score.run(request(body)).status_code == 401
    assert score.run(request(body, headers={"Authorization": "Bearer wrong"})).status_code == 401
    assert score.run(request(body, headers={"Authorization": "Bearer p-key"})).status_code == 200
    assert score.run(request(body, headers={"Authorization": "Bearer s-key"})).status_code == 200


def test_the_onnx_export_is_served_with_the_pipelines_answers(score, trained, heart_csv):
    assert isinstance(score.predictor, serving.OnnxPredictor)
    frame = pd.read_csv(heart_csv).drop(columns=["DEATH_EVENT"])
    records = frame.astype(object).to_dict("records")
    status, body = answer(score.run(request({"data": records, "method": "predict_proba"})))
    pipeline = trained["model"].load()
    assert status == 200 and body["result"] == [bool(v) for v in pipeline.predict(frame)]
    np.testing.assert_allclose(body["probabilities"], pipeline.predict_proba(frame), rtol=0, atol=1e-5)
    # missing values are imputed as the pipeline does
    status, body = answer(score.run(request({"data": [{**LESSON_RECORD, "age": None, "smoking": None}]})))
    record = pd.DataFrame([{**{k: float(v) if v[0].isdigit() else float(v == "true") for k, v in LESSON_RECORD.items()},
                            "age": np.nan, "smoking": np.nan}])
    assert status == 200 and body["result"] == [bool(pipeline.predict(record)[0])]


def test_without_an_onnx_export_the_pickled_pipeline_is_served(trained, monkeypatch, tmp_path, heart_csv):
    folder = tmp_path / "model"
    shutil.copytree(trained["model"].path, folder)
    (folder / "model.onnx").unlink()
    metadata = json.loads((folder / "metadata.json").read_text())
    (folder / "metadata.json").write_text(json.dumps({**metadata, "onnx_file": None}))
    score = load_score_module(monkeypatch, folder)
    assert isinstance(score.predictor, serving.Predictor)
    assert answer(score.run(request({"data": [LESSON_RECORD]}))) == (200, {"result": [False]})
    # its labels are the pipeline's predict (the decision threshold included), in one pass with the probabilities
    frame = pd.read_csv(heart_csv).drop(columns=["DEATH_EVENT"])
    status, body = answer(score.run(request({"data": frame.astype(object).to_dict("records"),
                                             "method": "predict_proba"})))
    pipeline = trained["model"].load()
    assert status == 200 and body["result"] == [bool(v) for v in pipeline.predict(frame)]
    np.testing.assert_allclose(body["probabilities"], pipeline.predict_proba(frame), rtol=0, atol=1e-6)


@pytest.fixture(scope="module")
def text_trained(heart_csv, tmp_path_factory):
    """A default run (default models, ensembles and threshold) on records with text fields, missing
    values and a text label, and its registered model."""
    import amlpipe
    from amlpipe import AutoMLSettings

    from ..unit.test_onnx_export import with_text_categories

    tmp_path = tmp_path_factory.mktemp("text-categories")
    frame = pd.read_csv(heart_csv)
    outcome = frame.pop("DEATH_EVENT").map({0: "survived", 1: "died"})
    features = with_text_categories(frame, tmp_path)
    ws = amlpipe.connect("local", workspace_dir=tmp_path / "ws")
    settings = AutoMLSettings(label_column_name="outcome", experiment_timeout_minutes=0.1, path=str(tmp_path))
    run = ws.get_or_create_experiment("text-categories").submit(settings, features.assign(outcome=outcome))
    return run.register_model("text-categories"), features


def test_a_model_trained_on_text_categories_is_served_from_its_onnx_export(text_trained, monkeypatch):
    model, features = text_trained
    assert model.properties["onnx_file"] == "model.onnx"
    assert model.properties["input_schema"]["region"] == "category"
    score = load_score_module(monkeypatch, model.path)
    assert isinstance(score.predictor, serving.OnnxPredictor)
    records = features.astype(object).where(features.notna(), None).to_dict("records")
    records += [{**records[0], "region": value} for value in (None, "", "mars", 3)]
    status, body = answer(score.run(request({"data": records, "method": "predict_proba"})))
    assert status == 200 and set(body["result"]) <= {"died", "survived"}
    pipeline = model.load()
    expected = pd.concat([features, features.iloc[[0] * 4].assign(region=[np.nan, np.nan, "mars", "3"])],
                         ignore_index=True)
    assert body["result"] == pipeline.predict(expected).tolist()
    np.testing.assert_allclose(body["probabilities"], pipeline.predict_proba(expected), rtol=0, atol=1e-5)
    # explanations take a text field away as the pipeline does (sent as missing: its most frequent value)
    status, body = answer(score.run(request({"data": records[:3], "method": "explain"})))
    schema = model.properties["input_schema"]
    columns = contract.check_request({"data": records[:3]}, schema).columns
    every_field = serving.explanations(serving.Predictor(pipeline), columns, top=len(schema))
    assert status == 200 and len(body["explanations"]) == 3
    for got, want in zip(body["explanations"], every_field):
        want = {e["field"]: e["contribution"] for e in want}
        assert all(e["contribution"] == pytest.approx(want[e["field"]], abs=1e-5) for e in got)
