"""AmlCompute get-or-create through SDK v2: `ml_client.compute.get`, else `begin_create_or_update(AmlCompute(...))`."""

from __future__ import annotations

import logging
from typing import Any, List, Optional

from ...errors import ResourceError
from ...settings import ComputeSettings
from . import sdk
from .errors import translated

logger = logging.getLogger(__name__)


class AzureV2Compute:
    """An AmlCompute cluster; `sdk_compute` is the SDK's `AmlCompute` entity."""

    type = "AmlCompute"

    def __init__(self, sdk_compute: Any):
        self.sdk_compute = sdk_compute
        self.name = sdk_compute.name
        self.vm_size = sdk_compute.size
        self.min_nodes = sdk_compute.min_instances
        self.max_nodes = sdk_compute.max_instances

    @property
    def max_workers(self) -> int:
        return self.max_nodes


def aml_compute(settings: ComputeSettings):
    """`AmlCompute(name, size, min_instances, max_instances)` from amlpipe's settings (v1's vm_size, min/max_nodes)."""
    return sdk.AmlCompute(
        name=settings.name, size=settings.vm_size, min_instances=settings.min_nodes, max_instances=settings.max_nodes
    )


def _checked(found: Any, name: str) -> AzureV2Compute:
    if not isinstance(found, sdk.AmlCompute):
        raise ResourceError(
            f"compute '{name}' exists but is a {getattr(found, 'type', None) or type(found).__name__}, "
            "not an AmlCompute cluster; choose another name"
        )
    return AzureV2Compute(found)


def get_or_create(ws, settings: ComputeSettings) -> AzureV2Compute:
    """`ml_client.compute.get(name)`; on `ResourceNotFoundError`, create the cluster and wait.

    Raises:
        ResourceError: a compute of that name exists but is not an AmlCompute cluster, or
            creating it failed (quota, VM size).
    """
    found = _find(ws, settings.name)
    if found is None:
        logger.info("creating compute cluster %s (%s, %d-%d nodes)", settings.name, settings.vm_size,
                    settings.min_nodes, settings.max_nodes)
        with translated(f"compute '{settings.name}'", hint=" (check the VM size and your quota)"):
            created = ws.ml_client.compute.begin_create_or_update(aml_compute(settings)).result()
        return AzureV2Compute(created)
    logger.info("found compute cluster %s", settings.name)
    return _checked(found, settings.name)


def _find(ws, name: str) -> Any:
    """The SDK's compute called ``name``, or None."""
    with translated(f"compute '{name}'"):
        try:
            return ws.ml_client.compute.get(name)
        except sdk.ResourceNotFoundError:
            return None


def get(ws, name: str) -> Optional[AzureV2Compute]:
    """An existing AmlCompute cluster, or None when there is none.

    Raises:
        ResourceError: a compute of that name exists but is not an AmlCompute cluster.
    """
    found = _find(ws, name)
    return None if found is None else _checked(found, name)


def delete(ws, name: str) -> List[str]:
    """Delete the cluster; returns ["compute <name>"], or [] when there was none."""
    if _find(ws, name) is None:
        return []
    with translated(f"compute '{name}'"):
        ws.ml_client.compute.begin_delete(name).result()
    logger.info("deleted compute %s", name)
    return [f"compute {name}"]
