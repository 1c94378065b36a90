"""AmlCompute get-or-create, as in the lesson."""

from __future__ import annotations

import logging
from typing import Any, List, Optional

from ...errors import ResourceError
from ...settings import ComputeSettings
from . import sdk
from .errors import describe, status_code, translated

logger = logging.getLogger(__name__)
QUOTA_HINT = " (check the VM size and your quota)"


def _is_not_found(exc: BaseException) -> bool:
    """`ComputeTarget(ws, name)` raises ComputeTargetException for any answer but 200; only a 404 reads
    "ComputeTargetNotFound: ..." (azureml/core/compute/compute.py, ComputeTarget._get and __new__)."""
    return "ComputeTargetNotFound" in str(getattr(exc, "message", exc)) or status_code(exc) == 404


def _lookup(ws, name: str) -> Optional[Any]:
    """The compute target called ``name``, or None when Azure says there is none.

    Raises:
        ResourceError: any other answer (401/403: no access, 5xx: Azure's problem); nothing is created then.
    """
    try:
        return sdk.ComputeTarget(workspace=ws.sdk_workspace, name=name)
    except sdk.ComputeTargetException as exc:
        if _is_not_found(exc):
            return None
        status = status_code(exc)
        why = {401: "not authorised", 403: "access denied"}.get(status, f"Azure answered {status}" if status else "failed")
        raise ResourceError(
            f"compute '{name}': looking it up {why}; nothing was created or deleted: {describe(exc)}"
        ) from exc


def _check_provisioned(target: Any, name: str) -> None:
    """`AmlCompute.wait_for_completion` only prints provisioning errors; raise them."""
    status = getattr(target, "status", None)
    errors = getattr(target, "provisioning_errors", None) or getattr(status, "errors", None)
    state = getattr(status, "provisioning_state", None) or getattr(target, "provisioning_state", None)
    if errors or str(state).lower() in ("failed", "canceled"):
        raise ResourceError(f"compute '{name}' could not be provisioned (state {state}): {errors}{QUOTA_HINT}")


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
    """`ComputeTarget(ws, name)`; when Azure says it does not exist, provision it and wait.

    Raises:
        ResourceError: the lookup was refused (no create then), a compute of that name exists
            but is not an AmlCompute cluster, or provisioning failed (quota, VM size).
    """
    target = _lookup(ws, settings.name)
    if target is None:
        logger.info("creating compute cluster %s (%s, %d-%d nodes)", settings.name, settings.vm_size,
                    settings.min_nodes, settings.max_nodes)
        with translated(f"compute '{settings.name}'", hint=QUOTA_HINT):
            config = provisioning_configuration(settings)
            target = sdk.ComputeTarget.create(ws.sdk_workspace, settings.name, config)
            target.wait_for_completion(show_output=True)
        _check_provisioned(target, settings.name)
        return AzureCompute(target, settings)
    _require_cluster(target, settings.name, "choose another name")
    logger.info("found compute cluster %s", settings.name)
    return AzureCompute(target, settings)


def _require_cluster(target: Any, name: str, advice: str) -> None:
    if not isinstance(target, sdk.AmlCompute):
        raise ResourceError(
            f"compute '{name}' exists but is a {getattr(target, 'type', type(target).__name__)}, "
            f"not an AmlCompute cluster; {advice}"
        )


def get(ws, name: str) -> Optional[AzureCompute]:
    """An existing AmlCompute cluster, or None when Azure says there is none.

    Raises:
        ResourceError: a compute of that name is not a cluster, or the lookup was refused.
    """
    target = _lookup(ws, name)
    if target is None:
        return None
    _require_cluster(target, name, "choose a cluster")
    return AzureCompute(target, ComputeSettings(name=name))


def delete(ws, name: str) -> List[str]:
    """Delete the cluster; returns ["compute <name>"], or [] when there was none.

    Raises:
        ResourceError: the compute of that name is not an AmlCompute cluster (a compute
            instance is never deleted here), or Azure refused.
    """
    target = _lookup(ws, name)
    if target is None:
        return []
    _require_cluster(target, name, "not deleted (delete it in the studio if you mean to)")
    with translated(f"compute '{name}'"):
        target.delete()
    logger.info("deleted compute %s", name)
    return [f"compute {name}"]
