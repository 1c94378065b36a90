"""What Azure AutoML refuses, checked before anything reaches Azure (no SDK, no credential, imports nothing heavy)."""

from __future__ import annotations

from ...errors import ConfigError
from ...settings import AutoMLSettings

# Azure AutoML refuses experiment_timeout_minutes below this (AutoMLBaseSettings.MIN_EXPTIMEOUT_MINUTES,
# reported as "experiment_timeout_hours ... out of range [0.25 - 8760.0]" only when the run is submitted).
MIN_EXPERIMENT_TIMEOUT_MINUTES = 15


def check_settings(settings: AutoMLSettings) -> None:
    """Refuse what Azure AutoML would refuse at submit.

    Raises:
        ConfigError: naming the setting and Azure's rule.
    """
    if settings.experiment_timeout_minutes < MIN_EXPERIMENT_TIMEOUT_MINUTES:
        raise ConfigError(
            f"setting 'automl.experiment_timeout_minutes' = {settings.experiment_timeout_minutes:g}: Azure AutoML "
            f"needs experiment_timeout_minutes of at least {MIN_EXPERIMENT_TIMEOUT_MINUTES} (the lesson uses 20); "
            "shorter budgets work on the local backend only"
        )
