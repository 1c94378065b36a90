"""Recording fakes of the Azure ML pipeline service: submit, wait, publish, PipelineEndpoint, Schedule.

The step objects (`AutoMLStep`, `PythonScriptStep`, `PipelineData`, `TrainingOutput`) and
`ScheduleRecurrence` stay the SDK's own; only what talks to Azure is faked, and it raises
the SDK's own exception classes.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any, Dict, List, Optional


def not_found(what: str):
    """The SDK's `ErrorResponseException` for a 404 from the pipeline service."""
    import requests
    from msrest import Deserializer

    from azureml.pipeline.core._restclients.aeva import models
    from azureml.pipeline.core._restclients.aeva.models.error_response import ErrorResponseException

    response = requests.Response()
    response.status_code, response.reason = 404, "Not Found"
    response._content = ('{"error": {"code": "EntityNotFound", "message": "%s not found"}}' % what).encode()
    return ErrorResponseException(Deserializer({k: v for k, v in vars(models).items() if isinstance(v, type)}), response)


class PipelineService:
    """What the fake pipeline service holds, and how the next run's steps end."""

    def __init__(self, cloud):
        self.cloud = cloud
        self.endpoints: Dict[str, Any] = {}
        self.step_status: Dict[str, str] = {}  # step name -> "Failed"; others finish
        self.reused: set = set()  # steps the next run reuses
        self.ids = itertools.count(1)


def build(service: PipelineService) -> Dict[str, Any]:
    cloud = service.cloud

    class StepRun:
        def __init__(self, run_id: str, name: str, reused: bool, status: str):
            self.id, self.name, self._reused, self._status = run_id, name, reused, status

        def get_status(self):
            return self._status

        def get_properties(self):
            properties = {"azureml.runsource": "azureml.StepRun"}
            if self._reused:
                properties["azureml.reusedrunid"] = f"{self.id}-earlier"
            if self.name == "register" and self._status == "Finished":
                properties.update(model_name="heart-failure-automl", model_version="3")
            return properties

        def get_details(self):
            details = {"startTimeUtc": "2026-11-28T10:00:00.000Z",
                       "endTimeUtc": "2026-11-28T10:00:01.500Z" if self._reused else "2026-11-28T10:21:00.000Z"}
            if self._status == "Failed":
                details["error"] = {"error": {"code": "UserError", "message": f"{self.name}: ModuleNotFoundError"}}
            return details

        def get_output_data(self, name):
            return SimpleNamespace(path_on_datastore=f"azureml/{self.id}/{name}")

    class PipelineRun:
        def __init__(self, steps: List[str]):
            self.id = f"pipeline-run-{next(service.ids)}"
            self.step_runs = {}
            failed = False
            for name in steps:
                if failed:
                    break
                status = service.step_status.get(name, "Finished")
                self.step_runs[name] = StepRun(f"{self.id}-{name}", name, name in service.reused, status)
                failed = status == "Failed"
            self._status = "Failed" if failed else "Finished"

        def wait_for_completion(self, show_output=True, timeout_seconds=None, raise_on_error=True):
            cloud.record("PipelineRun.wait_for_completion", run_id=self.id, show_output=show_output,
                         raise_on_error=raise_on_error)
            if raise_on_error and self._status == "Failed":
                from azureml.exceptions import ActivityFailedException

                raise ActivityFailedException(error_details='{"code": "UserError"}')
            return self._status

        def get_status(self):
            return self._status

        def find_step_run(self, name):
            return [self.step_runs[name]] if name in self.step_runs else []

    class PublishedPipeline:
        def __init__(self, name, description, steps):
            self.id = f"published-{next(service.ids)}"
            self.name, self.description, self.steps = name, description, steps

    class Pipeline:
        def __init__(self, workspace, steps, description=None, **kwargs):
            cloud.record("Pipeline", steps=steps, description=description)
            self.steps = steps

        def publish(self, name=None, description=None, version=None, continue_on_step_failure=None):
            cloud.record("Pipeline.publish", name=name, description=description)
            return PublishedPipeline(name, description, [s.name for s in self.steps])

        def _submit(self, experiment_name, regenerate_outputs=False, **kwargs):
            cloud.record("Experiment.submit(pipeline)", experiment=experiment_name, regenerate_outputs=regenerate_outputs)
            return PipelineRun([s.name for s in self.steps])

    class PipelineEndpoint:
        def __init__(self, name, description, published):
            self.name, self.description, self.versions = name, description, [published]

        @property
        def default_version(self):
            return str(len(self.versions) - 1)

        @staticmethod
        def get(workspace, id=None, name=None, **kwargs):
            cloud.record("PipelineEndpoint.get", name=name)
            if name not in service.endpoints:
                raise not_found(f"PipelineEndpoint {name}")
            return service.endpoints[name]

        @staticmethod
        def publish(workspace, name, description, pipeline, **kwargs):
            cloud.record("PipelineEndpoint.publish", name=name, description=description, pipeline_id=pipeline.id)
            service.endpoints[name] = PipelineEndpoint(name, description, pipeline)
            return service.endpoints[name]

        @staticmethod
        def list(workspace, active_only=True, max_results=100, **kwargs):
            cloud.record("PipelineEndpoint.list")
            return list(service.endpoints.values())

        def add_default(self, pipeline):
            cloud.record("PipelineEndpoint.add_default", name=self.name, pipeline_id=pipeline.id)
            self.versions.append(pipeline)

        def list_versions(self):
            return [SimpleNamespace(version=str(i), pipeline_id=p.id) for i, p in enumerate(self.versions)]

        def submit(self, experiment_name, pipeline_parameters=None, parent_run_id=None, pipeline_version=None):
            cloud.record("PipelineEndpoint.submit", name=self.name, experiment=experiment_name,
                         pipeline_version=pipeline_version)
            chosen = self.versions[int(pipeline_version) if pipeline_version is not None else -1]
            return PipelineRun(chosen.steps)

    class Schedule:
        @staticmethod
        def create(workspace, name, pipeline_id, experiment_name, recurrence=None, description=None,
                   datastore=None, polling_interval=5, path_on_datastore=None, **kwargs):
            cloud.record("Schedule.create", name=name, pipeline_id=pipeline_id, experiment_name=experiment_name,
                         recurrence=recurrence, datastore=getattr(datastore, "name", None),
                         polling_interval=polling_interval, path_on_datastore=path_on_datastore)
            return SimpleNamespace(id=f"schedule-{next(service.ids)}", name=name)

    return {"Pipeline": Pipeline, "PipelineEndpoint": PipelineEndpoint, "Schedule": Schedule}


def submitting_experiment(fake_experiment):
    """The cloud's fake `Experiment`, whose `submit` also takes a pipeline (as `Experiment.submit` does)."""

    class Experiment(fake_experiment):
        def submit(self, config, show_output=False, **kwargs):
            if hasattr(config, "_submit"):
                return config._submit(self.name, **kwargs)
            return super().submit(config, show_output=show_output)

    return Experiment


def step_arguments(step) -> Optional[list]:
    """A script step's command-line arguments, with the data references by name."""
    return [getattr(a, "name", a) for a in step._arguments]
