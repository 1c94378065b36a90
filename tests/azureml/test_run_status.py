"""How an AutoML run ended is read after every wait; only a completed run gives a model."""

import pytest

import amlpipe
from amlpipe import ResourceError
from amlpipe.cli import main


@pytest.fixture
def submitted(cloud, azure_config, heart_csv):
    cloud.add_cluster("heart-f-cluster")
    ws = amlpipe.connect(backend="azureml", config_path=azure_config)
    dataset = ws.register_dataset(heart_csv)
    return ws, ws.get_or_create_experiment("e").submit(amlpipe.AutoMLSettings(), dataset, None)


@pytest.mark.parametrize("outcome", ["Failed", "Canceled"])
def test_a_run_that_did_not_complete_is_an_error_with_azures_reason_and_the_portal(cloud, submitted, outcome):
    cloud.run_outcome = outcome
    _, run = submitted
    with pytest.raises(ResourceError, match=f"AutoML run '{run.id}' {outcome.lower()}") as info:
        run.wait_for_completion(show_output=True)
    message = str(info.value)
    assert "https://ml.azure.com/runs/" + run.id in message
    if outcome == "Failed":
        assert "UserError: Compute heart-f-cluster has no nodes: quota" in message


def test_streamed_output_that_returns_early_is_followed_by_a_wait_to_the_end(cloud, submitted):
    cloud.streaming_returns_early = True  # RemoteConsoleInterface._show_output returns while the run goes on
    _, run = submitted
    run.wait_for_completion(show_output=True)
    assert run.status == "Completed"


@pytest.mark.parametrize("action", ["get_output", "register_model"])
def test_a_running_run_gives_no_model(cloud, submitted, action):
    _, run = submitted
    with pytest.raises(ResourceError, match=f"AutoML run '{run.id}' is Running, not completed"):
        getattr(run, action)()
    assert "AutoMLRun.register_model" not in cloud.names() and "AutoMLRun.get_output" not in cloud.names()


def test_a_model_of_a_run_that_is_not_completed_is_not_deployed(cloud, submitted):
    ws, run = submitted
    run.wait_for_completion()
    model = run.register_model("m")
    cloud.runs[model.run_id].status = "Canceled"
    with pytest.raises(ResourceError, match=f"run '{model.run_id}', which is Canceled"):
        ws.deploy(model, amlpipe.ServiceSettings())
    assert "Model.deploy" not in cloud.names()


def test_cli_train_on_azureml_waits_then_registers_and_says_what(cloud, azure_config, heart_csv, capsys):
    code = main(["train", "--backend", "azureml", "--config", str(azure_config), "--data", str(heart_csv),
                 "--progress", "lines"])
    out = capsys.readouterr().out
    assert code == 0
    names = cloud.names()
    assert names.index("Run.wait_for_completion") < names.index("AutoMLRun.register_model")
    assert "registered model heart-failure-automl version 1: VotingEnsemble, AUC_weighted 0.9150 from run AutoML_1" in out


def test_cli_train_on_azureml_stops_at_a_failed_run(cloud, azure_config, heart_csv, capsys):
    cloud.run_outcome = "Failed"
    code = main(["train", "--backend", "azureml", "--config", str(azure_config), "--data", str(heart_csv),
                 "--progress", "none"])
    assert code == 1 and "AutoML run 'AutoML_1' failed" in capsys.readouterr().err
    assert "AutoMLRun.register_model" not in cloud.names()
