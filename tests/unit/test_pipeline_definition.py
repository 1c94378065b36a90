"""The backend-neutral pipeline definition, the reuse key and the step graph picture."""

import json

import pytest

import amlpipe
from amlpipe import pipeline, plots
from amlpipe.backends.local.pipeline import reuse_key


def test_steps_are_wired_by_their_input_and_output_names():
    definition = pipeline.build(deploy=True)
    assert [s.name for s in definition.steps] == ["automl", "register", "deploy"]
    assert definition.edges() == [("automl", "model_data", "register"), ("register", "registered_model", "deploy")]
    assert [s.name for s in pipeline.build().steps] == ["automl", "register"]


def test_a_definition_survives_publishing_as_json():
    settings = amlpipe.Settings().override({"automl.experiment_timeout_minutes": 0.5, "automl.blocked_models": ["KNN"],
                                            "model.tags": {"a": "b"}, "experiment_name": "exp"})
    definition = pipeline.build(settings, deploy=True, name="hf")
    again = pipeline.PipelineDefinition.from_dict(json.loads(json.dumps(definition.to_dict())))
    assert again == definition


def test_a_published_definition_with_an_unknown_setting_is_refused():
    value = pipeline.build().to_dict()
    value["settings"]["automl"]["no_such_setting"] = 1
    with pytest.raises(amlpipe.ConfigError, match="automl.no_such_setting"):
        pipeline.PipelineDefinition.from_dict(value)


def test_reuse_key_follows_the_settings_each_step_reads():
    base = pipeline.build()
    automl, register = base.steps
    inputs = {"training_data": "heart-failure-records:1:abc"}

    def keys(**overrides):
        changed = pipeline.build(amlpipe.Settings().override(overrides))
        return reuse_key(changed, automl, inputs), reuse_key(changed, register, {"model_data": "run/automl/model_data"})

    same = keys()
    assert keys() == same
    assert keys(**{"automl.iterations": 5})[0] != same[0]
    described = keys(**{"model.description": "other"})
    assert described[0] == same[0] and described[1] != same[1]  # only the register step reads it
    assert keys(**{"automl.path": "/elsewhere", "automl.debug_log": "x.log"}) == same  # where logs go
    assert reuse_key(base, automl, {"training_data": "heart-failure-records:2:def"}) != same[0]


def test_step_lines_and_json():
    run = pipeline.PipelineRun("r1", "Failed", pipeline.build(), [
        pipeline.StepRun("automl", "Completed", reused=True, seconds=0.04),
        pipeline.StepRun("register", "Failed", seconds=1.234)])
    assert pipeline.step_line(1, 2, run.steps[0]) == "[1/2] automl reused (0.0 s)"
    assert pipeline.step_line(2, 2, run.steps[1]) == "[2/2] register FAILED after 1.2 s"
    assert run.to_json() == {"run_id": "r1", "status": "Failed", "pipeline": "heart-failure-training", "steps": [
        {"name": "automl", "status": "Completed", "reused": True, "seconds": 0.04},
        {"name": "register", "status": "Failed", "reused": False, "seconds": 1.23}]}
    assert list(run.table().columns) == ["step", "status", "reused", "seconds"]
    with pytest.raises(amlpipe.AmlpipeError, match="registered no model"):
        run.registered_model


def test_pipeline_graph_draws_a_box_per_step_and_the_outputs_on_the_arrows():
    definition = pipeline.build(deploy=True)
    run = pipeline.PipelineRun("abcdef123", "Completed", definition, [
        pipeline.StepRun("automl", "Completed", reused=True, seconds=0.1),
        pipeline.StepRun("register", "Completed", seconds=0.3),
        pipeline.StepRun("deploy", "Failed", seconds=2.0)])
    ax = plots.pipeline_graph(definition, run).axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert {"automl", "register", "deploy", "model_data", "registered_model", "metrics_data", "service"} <= set(texts)
    assert "reused, 0.1 s" in texts and "Failed, 2.0 s" in texts
    boxes = {p.get_label(): p for p in ax.patches if p.get_label() in ("automl", "register", "deploy")}
    assert boxes["automl"].get_hatch() == "//" and boxes["register"].get_hatch() is None
    assert boxes["deploy"].get_facecolor()[:3] == pytest.approx((0xc4 / 255, 0x4e / 255, 0x52 / 255))
