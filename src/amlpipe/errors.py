"""amlpipe's exceptions: one root, a subclass per kind of thing the user must fix."""

from __future__ import annotations


class AmlpipeError(Exception):
    """Root of every error amlpipe raises on purpose.

    The CLI prints these in one line, without a traceback: they describe
    something the user can fix, and say what.
    """


class ConfigError(AmlpipeError):
    """A configuration file, setting or parameter is missing or wrong."""


class DataError(AmlpipeError):
    """A dataset cannot be loaded, or cannot be trained on as it is."""


class ResourceError(AmlpipeError):
    """A named resource (experiment, run, compute, dataset, model, service) is missing or unusable."""


class DeploymentError(AmlpipeError):
    """A service failed to deploy, or stopped serving."""


class ScoringError(AmlpipeError):
    """An endpoint refused a request or could not be reached.

    Attributes:
        status_code: The HTTP status, or None when no answer came back.
    """

    def __init__(self, message: str, status_code: int | None = None):
        super().__init__(message)
        self.status_code = status_code


class MissingDependencyError(AmlpipeError):
    """An optional package needed for the requested feature is not installed."""
