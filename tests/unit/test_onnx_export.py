"""The ONNX export against the pipeline it stands for: labels equal, probabilities within 1e-5,
on the real rows, on values on and beside every tree threshold, on missing values, and on text
categories (missing and unknown ones too), with requests checked as the endpoint checks them."""

import logging

import numpy as np
import onnxruntime
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, StackingClassifier, VotingClassifier, VotingRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import FixedThresholdClassifier, StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from xgboost import XGBClassifier

from amlpipe import AutoMLSettings, ConfigError, contract, onnx_export, serving
from amlpipe.backends.local.candidates import fixed_candidates
from amlpipe.backends.local.ensemble import pick_final
from amlpipe.backends.local.learners import learners_for
from amlpipe.backends.local.featurize import build_featurizer
from amlpipe.data import LABEL, feature_schema

from .test_automl_settings import _three_candidates


@pytest.fixture(scope="module")
def heart(heart_csv):
    frame = pd.read_csv(heart_csv)
    return frame.drop(columns=[LABEL]), frame[LABEL]


def members(settings=AutoMLSettings()):
    """The engine's fixed candidates (two forests, slow LightGBM, boosted stumps) with the searched kinds
    they sit beside in a vote (XGBoost, logistic regression)."""
    chosen = dict(fixed_candidates(settings, learners_for(settings), workers=1))
    if settings.task == "classification":
        chosen["XGBoost"] = XGBClassifier(n_estimators=30, max_depth=4, learning_rate=0.2, n_jobs=1)
        chosen["LogisticRegression"] = LogisticRegression(penalty="l1", solver="liblinear", C=0.5)
    return chosen


def final_model(X, y, threshold=0.4):
    """As the engine saves it: threshold around featurizer and equal-weight soft vote (weights a list)."""
    chosen = members()
    vote = VotingClassifier(list(chosen.items()), voting="soft", weights=[1 / len(chosen)] * len(chosen))
    pipeline = Pipeline([("featurize", build_featurizer(feature_schema(X))), ("model", vote)])
    return FixedThresholdClassifier(pipeline, threshold=threshold, response_method="predict_proba").fit(X, y)


def with_text_categories(X, tmp_path):
    """The heart-failure records with three text fields (one of them with gaps) and gaps in a number,
    read back from a CSV as a registered dataset is."""
    rng = np.random.default_rng(0)
    X = X.assign(sex=X["sex"].map({0: "female", 1: "male"}),
                 region=rng.choice(["north", "south", "east", "west"], len(X)),
                 stage=pd.cut(X["serum_creatinine"], [0, 1, 1.5, 100], labels=["low", "mid", "high"]).astype(str))
    X.loc[rng.choice(len(X), 30, replace=False), "region"] = np.nan
    X.loc[rng.choice(len(X), 30, replace=False), "age"] = np.nan
    X.to_csv(tmp_path / "text.csv", index=False)
    return pd.read_csv(tmp_path / "text.csv")


def run_onnx(model, schema, frame):
    proto = onnx_export.to_onnx(model, schema)
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, onnx_export.feeds(frame, schema))


def assert_same_answers(model, schema, frame):
    labels, proba = run_onnx(model, schema, frame)[:2]
    np.testing.assert_array_equal(labels.ravel(), model.predict(frame))
    np.testing.assert_allclose(proba, model.predict_proba(frame), rtol=0, atol=onnx_export.TOLERANCE)


@pytest.fixture(scope="module")
def fitted(heart):
    X, y = heart
    return final_model(X, y), feature_schema(X)


def test_the_engines_final_model_answers_as_the_pipeline_on_the_real_rows(heart, fitted):
    model, schema = fitted
    X, _ = heart
    assert_same_answers(model, schema, X)
    # the threshold, not 0.5, decides: some rows between the two
    positive = model.predict_proba(X)[:, 1]
    assert ((positive >= 0.4) & (positive < 0.5)).any()


def test_missing_values_are_imputed_as_the_pipeline_does(heart, fitted):
    model, schema = fitted
    X, _ = heart
    frame = pd.concat([X.head(3).astype(float)] * len(schema), ignore_index=True)
    for i, column in enumerate(schema):  # every field missing in turn, and all at once
        frame.loc[3 * i: 3 * i + 2, column] = np.nan
    frame = pd.concat([frame, pd.DataFrame({c: [np.nan] for c in schema})], ignore_index=True)
    assert_same_answers(model, schema, frame)


@pytest.fixture(scope="module")
def text_model(heart, tmp_path_factory):
    X, y = heart
    X = with_text_categories(X, tmp_path_factory.mktemp("text"))
    schema = feature_schema(X)
    assert [c for c, kind in schema.items() if kind == "category"] == ["sex", "region", "stage"]
    return final_model(X, y.map({0: "survived", 1: "died"})), schema, X


def test_text_categories_are_string_inputs_answering_as_the_pipeline(text_model):
    model, schema, X = text_model
    proto = onnx_export.to_onnx(model, schema)
    session = onnxruntime.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    kinds = {i.name: i.type for i in session.get_inputs()}
    assert kinds["region"] == "tensor(string)" and kinds["age"] == "tensor(double)" and kinds["anaemia"] == "tensor(double)"
    assert X["region"].isna().any() and X["age"].isna().any()
    assert onnx_export.compare(model, proto.SerializeToString(), schema, X) == ""
    assert_same_answers(model, schema, X)


def checked(records, schema):
    """The columns of a request as score.py passes them to its predictor."""
    return contract.check_request({"data": records}, schema).columns


def test_missing_and_unknown_categories_at_the_endpoint_answer_as_the_pipeline(text_model, tmp_path):
    """null and "" are imputed (the most frequent text), unseen texts and numbers encode as all zeros,
    in a batch and alone; ONNX Runtime's answers equal the pickled pipeline's on the same request."""
    model, schema, X = text_model
    assert onnx_export.export(model, schema, X, tmp_path) == tmp_path / onnx_export.ONNX_FILE
    onnx = serving.OnnxPredictor(tmp_path / onnx_export.ONNX_FILE, schema, list(model.classes_))
    pipeline = serving.Predictor(model)
    base = {c: (None if pd.isna(v) else v.item() if hasattr(v, "item") else v) for c, v in X.iloc[3].items()}
    records = [base] + [{**base, "region": value} for value in (None, "", "mars", 7, "North", "north ")] + [
        {**base, "sex": None, "stage": "", "region": None, "age": None}, {name: None for name in schema}]
    columns = checked(records, schema)
    for predictor_columns in [columns] + [checked([record], schema) for record in records]:
        index, proba = onnx.classify(predictor_columns)
        expected_index, expected = pipeline.classify(predictor_columns)
        np.testing.assert_array_equal(index, expected_index)
        np.testing.assert_allclose(proba, expected, rtol=0, atol=onnx_export.TOLERANCE)
    # what the pipeline (and so the export) does with them, by the pipeline's own frame
    proba = onnx.predict_proba(columns)
    frame = pd.DataFrame([base] * 3).assign(region=[X["region"].mode()[0], np.nan, "mars"])
    direct = model.predict_proba(frame)
    np.testing.assert_allclose(proba[[1, 2]], direct[[0, 0]], atol=onnx_export.TOLERANCE)  # null and "": imputed
    unknown = model.estimator_[0].transform(frame.iloc[[2]])
    encoded = model.estimator_[0].get_feature_names_out()
    assert unknown[0, [i for i, name in enumerate(encoded) if name.startswith("region_")]].tolist() == [0.0] * 4
    np.testing.assert_allclose(proba[[3, 4, 5, 6]], direct[[2] * 4], atol=onnx_export.TOLERANCE)  # unseen: zeros


def test_an_empty_text_seen_as_a_category_in_training_is_not_exported(heart, tmp_path, caplog):
    """Only a frame given directly can hold "" (a CSV reads it as missing); the export reads "" as missing."""
    X, y = heart
    X = X.assign(region=np.where(X["age"] > 60, "", "young"))
    schema = feature_schema(X)
    model = Pipeline([("featurize", build_featurizer(schema)), ("model", LogisticRegression())]).fit(X, y)
    with caplog.at_level(logging.WARNING, logger="amlpipe.onnx_export"):
        assert onnx_export.export(model, schema, X, tmp_path) is None
    assert "'' is a category" in caplog.text


def split_values(member, n_features):
    """(feature, threshold) of every split of a fitted tree model."""
    kind = type(member).__name__
    if kind.startswith(("RandomForest", "ExtraTrees")):
        return [(f, t) for tree in member.estimators_ for f, t in zip(tree.tree_.feature, tree.tree_.threshold) if f >= 0]
    if kind.startswith("LGBM"):
        table = member.booster_.trees_to_dataframe().dropna(subset=["split_feature"])
        return [(int(f.removeprefix("Column_")), t) for f, t in zip(table.split_feature, table.threshold)]
    table = member.get_booster().trees_to_dataframe()
    table = table[table.Feature != "Leaf"]
    return [(int(f.removeprefix("f")), t) for f, t in zip(table.Feature, table.Split)]


@pytest.mark.parametrize("name", ["RandomForestMinLeaf5", "ExtremeRandomTreesMinLeaf5", "LightGBMSlow", "LightGBMStumps",
                                  "XGBoost"])
def test_tree_members_on_and_beside_every_threshold(heart, name):
    """Each split's threshold, the doubles either side, and the float32 values either side (forests and
    XGBoost compare float32 features; LightGBM compares doubles)."""
    X, y = heart
    Xf = pd.DataFrame(build_featurizer(feature_schema(X)).fit_transform(X)).add_prefix("f")
    schema = {c: "number" for c in Xf}
    member = members()[name].fit(Xf.to_numpy(), y)
    model = Pipeline([("featurize", build_featurizer(schema, "off")), ("model", member)]).fit(Xf, y)
    splits = split_values(member, len(schema))
    assert len(splits) > 100
    rng = np.random.default_rng(0)
    rows = []
    for feature, threshold in [splits[i] for i in rng.choice(len(splits), min(len(splits), 400), replace=False)]:
        t32 = np.float32(threshold)
        for value in (threshold, np.nextafter(threshold, np.inf), np.nextafter(threshold, -np.inf), float(t32),
                      float(np.nextafter(t32, np.float32(np.inf))), float(np.nextafter(t32, np.float32(-np.inf)))):
            row = Xf.iloc[rng.integers(len(Xf))].to_numpy(copy=True)
            row[feature] = value
            rows.append(row)
    assert_same_answers(model, schema, pd.DataFrame(rows, columns=Xf.columns))


def test_boosted_stumps_become_one_tree_per_feature(heart):
    X, y = heart
    Xf = build_featurizer(feature_schema(X)).fit_transform(X)
    trees = onnx_export.lightgbm_trees(members()["LightGBMStumps"].fit(Xf, y).booster_)
    assert len(set(trees["table"].nodes["treeids"])) <= Xf.shape[1]
    slow = onnx_export.lightgbm_trees(members()["LightGBMSlow"].fit(Xf, y).booster_)
    assert len(set(slow["table"].nodes["treeids"])) == 400


def test_text_labels_come_back_as_the_original_classes(heart):
    X, y = heart
    words = y.map({0: "survived", 1: "died"})
    model = final_model(X, words, threshold=0.45)
    labels = run_onnx(model, feature_schema(X), X)[0]
    assert set(labels) == {"survived", "died"}
    assert_same_answers(model, feature_schema(X), X)


def test_stack_ensemble(heart):
    X, y = heart
    chosen = members()
    stack = StackingClassifier([(n, chosen[n]) for n in ("LightGBMStumps", "LogisticRegression", "XGBoost")],
                               final_estimator=LogisticRegression(max_iter=1000), cv=StratifiedKFold(3),
                               stack_method="predict_proba")
    pipeline = Pipeline([("featurize", build_featurizer(feature_schema(X))), ("model", stack)])
    model = FixedThresholdClassifier(pipeline, threshold=0.45, response_method="predict_proba").fit(X, y)
    assert_same_answers(model, feature_schema(X), X)


def test_regression_vote(heart):
    X, _ = heart
    X, y = X.drop(columns=["time"]), X["time"].astype(float)
    chosen = members(AutoMLSettings(task="regression", primary_metric="r2_score"))
    vote = VotingRegressor(list(chosen.items()), weights=[1 / len(chosen)] * len(chosen))
    schema = feature_schema(X)
    model = Pipeline([("featurize", build_featurizer(schema)), ("model", vote)]).fit(X, y)
    values = run_onnx(model, schema, X)[0].ravel()
    np.testing.assert_allclose(values, model.predict(X), rtol=onnx_export.TOLERANCE, atol=0)


def test_export_writes_the_file_for_a_model_that_converts(heart, fitted, tmp_path):
    X, _ = heart
    model, schema = fitted
    assert onnx_export.export(model, schema, X, tmp_path) == tmp_path / onnx_export.ONNX_FILE
    session = onnxruntime.InferenceSession(str(tmp_path / onnx_export.ONNX_FILE), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == list(schema)


@pytest.mark.parametrize("estimator, reason", [
    (HistGradientBoostingClassifier(max_iter=20), "does not convert"),
    # FLAML's KNN: a training row is its own neighbour at distance 0, which scikit-learn takes alone; the export does not
    (KNeighborsClassifier(weights="distance"), "labels differ from the pipeline's"),
])
def test_no_file_for_a_model_that_does_not_convert_or_answers_otherwise(heart, tmp_path, caplog, estimator, reason):
    X, y = heart
    schema = feature_schema(X)
    model = Pipeline([("featurize", build_featurizer(schema)), ("model", estimator)]).fit(X, y)
    with caplog.at_level(logging.WARNING, logger="amlpipe.onnx_export"):
        assert onnx_export.export(model, schema, X, tmp_path) is None
    assert not (tmp_path / onnx_export.ONNX_FILE).exists()
    assert "no model.onnx" in caplog.text and reason in caplog.text


def test_onnx_compatible_models_restrict_the_search_and_drop_the_stack():
    onnx = AutoMLSettings(enable_onnx_compatible_models=True)
    allowed = AutoMLSettings(allowed_models=["KNN", "LightGBM", "GradientBoosting"], enable_onnx_compatible_models=True)
    assert learners_for(allowed) == ["lgbm"]
    assert set(learners_for(onnx)) <= set(onnx_export.CONVERTIBLE_LEARNERS)
    with pytest.raises(ConfigError, match="enable_onnx_compatible_models.*LightGBM"):
        learners_for(AutoMLSettings(allowed_models=["KNN"], enable_onnx_compatible_models=True))
    y, splitter, candidates = _three_candidates(3)
    names = [[c.name for c in pick_final(candidates, y, settings, [0, 1], None, splitter, lambda stage: None)[2]]
             for settings in (AutoMLSettings(), onnx)]
    assert "StackEnsemble" in names[0] and "StackEnsemble" not in names[1]
