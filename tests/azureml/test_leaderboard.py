"""The leaderboard: every AutoML child, however nested, best first in the primary metric's direction."""

import amlpipe


def submit(cloud, azure_config, heart_csv, settings):
    cloud.add_cluster("heart-f-cluster")
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    run = ws.get_or_create_experiment("e").submit(settings, ws.register_dataset(heart_csv), None)
    run.wait_for_completion()
    return run


def test_children_under_hyperdrive_are_found_recursively(cloud, azure_config, heart_csv):
    cloud.nest_under_hyperdrive = True
    board = submit(cloud, azure_config, heart_csv, amlpipe.AutoMLSettings()).get_leaderboard()
    assert list(board.algorithm) == ["VotingEnsemble", "XGBoostClassifier", "LightGBM", "RandomForest"]
    assert list(board.AUC_weighted) == [0.915, 0.902, 0.881, 0.874]
    assert list(board.duration_s) == [30.0] * 4 and board.elapsed_s.iloc[0] == 3 * 60 + 30


def test_an_error_metric_is_sorted_smallest_first(cloud, azure_config, heart_csv):
    cloud.children = (("LightGBM", 0.12), ("ElasticNet", 0.19), ("VotingEnsemble", 0.10))
    settings = amlpipe.AutoMLSettings(task="regression", primary_metric="normalized_root_mean_squared_error",
                                      label_column_name="serum_sodium")
    run = submit(cloud, azure_config, heart_csv, settings)
    board = run.get_leaderboard()
    assert list(board.algorithm) == ["VotingEnsemble", "LightGBM", "ElasticNet"]
    assert run.get_output()[0].id == board.run_id.iloc[0]  # the same best as the SDK's get_output

