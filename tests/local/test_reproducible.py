"""AutoMLSettings.seed: with iterations set and the budget not reached, two runs are the same run."""

import pandas as pd
import pytest

from amlpipe import AutoMLSettings
from amlpipe.backends.local.automl import run_search

pytestmark = pytest.mark.slow


def test_same_seed_same_leaderboard_model_and_predictions(heart_csv, tmp_path):
    df = pd.read_csv(heart_csv)
    features, label = df.drop(columns=["DEATH_EVENT"]), df["DEATH_EVENT"]
    settings = AutoMLSettings(iterations=6, seed=7, experiment_timeout_minutes=10, n_cross_validations=3,
                              allowed_models=("LightGBM", "RandomForest"))
    runs = [run_search(features, label, settings, 2, tmp_path / f"trials{i}.jsonl") for i in range(2)]
    first, second = runs
    assert first.cuts == [] and len(first.trials) == 6
    assert [(t.learner, t.config, t.score) for t in first.trials] == [(t.learner, t.config, t.score) for t in second.trials]
    assert [(c.name, c.score) for c in first.candidates] == [(c.name, c.score) for c in second.candidates]
    assert (first.algorithm, first.threshold, first.metrics) == (second.algorithm, second.threshold, second.metrics)
    assert (first.model.predict_proba(features) == second.model.predict_proba(features)).all()
    other = run_search(features, label, AutoMLSettings(**{**settings.__dict__, "seed": 8}), 2, tmp_path / "t.jsonl")
    assert [t.config for t in other.trials] != [t.config for t in first.trials]
