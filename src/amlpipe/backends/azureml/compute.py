"""AmlCompute get-or-create, as in the lesson."""

from __future__ import annotations

import logging
from typing import Any, List, Optional

from ...errors import ResourceError
from ...settings import ComputeSettings
from . import sdk
from .errors import translated

logger = logging.getLogger(__name__)


class AzureCompute:
    """An AmlCompute cluster; `sdk_target` is the SDK's object."""

    def __init__(self, sdk_target: Any, settings: ComputeSettings):
        self.sdk_target = sdk_target
        self.name = settings.name
        self.vm_size = getattr(sdk_target, "vm_size", settings.vm_size)
        scale = getattr(sdk_target, "scale_settings", None)
        self.min_nodes = getattr(scale, "minimum_node_count", settings.min_nodes)
        self.max_nodes = getattr(scale, "maximum_node_count", settings.max_nodes)
        self.type = "AmlCompute"

    @property
    def max_workers(self) -> int:
        return self.max_nodes


def provisioning_configuration(settings: ComputeSettings):
    """`AmlCompute.provisioning_configuration(vm_size, min_nodes, max_nodes)` from amlpipe's settings."""
    return sdk.AmlCompute.provisioning_configuration(
        vm_size=settings.vm_size, min_nodes=settings.min_nodes, max_nodes=settings.max_nodes
    )


def get_or_create(ws, settings: ComputeSettings) -> AzureCompute:
    """`ComputeTarget(ws, name)`; on `ComputeTargetException`, provision it and wait.

    Raises:
        ResourceError: a compute of that name exists but is not an AmlCompute cluster, or
            provisioning failed.
    """
    workspace = ws.sdk_workspace
    try:
        target = sdk.ComputeTarget(workspace=workspace, name=settings.name)
    except sdk.ComputeTargetException:
        logger.info("creating compute cluster %s (%s, %d-%d nodes)", settings.name, settings.vm_size,
                    settings.min_nodes, settings.max_nodes)
        with translated(f"compute '{settings.name}'", hint=" (check the VM size and your quota)"):
            config = provisioning_configuration(settings)
            target = sdk.ComputeTarget.create(workspace, settings.name, config)
            target.wait_for_completion(show_output=True)
        return AzureCompute(target, settings)
    if not isinstance(target, sdk.AmlCompute):
        raise ResourceError(
            f"compute '{settings.name}' exists but is a {getattr(target, 'type', type(target).__name__)}, "
            "not an AmlCompute cluster; choose another name"
        )
    logger.info("found compute cluster %s", settings.name)
    return AzureCompute(target, settings)


def get(ws, name: str) -> Optional[AzureCompute]:
    """An existing AmlCompute cluster, or None when there is none.

    Raises:
        ResourceError: a compute of that name exists but is not an AmlCompute cluster.
    """
    try:
        target = sdk.ComputeTarget(workspace=ws.sdk_workspace, name=name)
    except sdk.ComputeTargetException:
        return None
    if not isinstance(target, sdk.AmlCompute):
        raise ResourceError(f"compute '{name}' is not an AmlCompute cluster")
    return AzureCompute(target, ComputeSettings(name=name))


def delete(ws, name: str) -> List[str]:
    """Delete the cluster; returns ["compute <name>"], or [] when there was none."""
    try:
        target = sdk.ComputeTarget(workspace=ws.sdk_workspace, name=name)
    except sdk.ComputeTargetException:
        return []
    with translated(f"compute '{name}'"):
        target.delete()
    logger.info("deleted compute %s", name)
    return [f"compute {name}"]
