"""Local compute: this machine. The record keeps the cluster's settings; `max_nodes` bounds worker processes."""

from __future__ import annotations

import logging
import os
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Optional

from ... import names
from ...settings import ComputeSettings
from .records import read_record, write_record

if TYPE_CHECKING:
    from .workspace import LocalWorkspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalCompute:
    """A compute target on this machine.

    Attributes:
        name, vm_size, min_nodes, max_nodes: As given to `AmlCompute.provisioning_configuration`.
        cpus: The CPUs this machine has.
    """

    name: str
    vm_size: str
    min_nodes: int
    max_nodes: int
    cpus: int
    provisioning_state: str = "Succeeded"
    type: str = "local"

    @property
    def max_workers(self) -> int:
        """Worker processes a run may use: max_nodes, at most one per CPU."""
        return max(1, min(self.max_nodes, self.cpus))


def _path(ws: LocalWorkspace, name: str):
    return ws.folder("computes") / f"{names.check('compute', name)}.json"


def get(ws: LocalWorkspace, name: str) -> Optional[LocalCompute]:
    """The compute named ``name``, or None."""
    path = _path(ws, name)
    if not path.exists():
        return None
    record = read_record(path, "compute")
    return LocalCompute(**{**record, "cpus": os.cpu_count() or 1})


def get_or_create(ws: LocalWorkspace, settings: ComputeSettings) -> LocalCompute:
    """Return the compute named in ``settings``, creating its record if needed.

    Like `AmlCompute`, an existing compute keeps its own sizes; a difference is logged.
    """
    found = get(ws, settings.name)
    if found is None:
        compute = LocalCompute(
            name=settings.name,
            vm_size=settings.vm_size,
            min_nodes=settings.min_nodes,
            max_nodes=settings.max_nodes,
            cpus=os.cpu_count() or 1,
        )
        record = {k: v for k, v in asdict(compute).items() if k != "cpus"}
        write_record(_path(ws, settings.name), record)
        logger.info("created compute %s (max %d workers)", compute.name, compute.max_workers)
        return compute
    if (found.vm_size, found.min_nodes, found.max_nodes) != (settings.vm_size, settings.min_nodes, settings.max_nodes):
        logger.warning(
            "compute %s exists with vm_size=%s, nodes %d-%d; keeping it (delete it to change its size)",
            found.name, found.vm_size, found.min_nodes, found.max_nodes,
        )
    logger.info("found compute %s", found.name)
    return found


def delete(ws: LocalWorkspace, name: str) -> list:
    """Remove the compute record; returns ["compute <name>"], or [] when there was none."""
    path = _path(ws, name)
    if not path.exists():
        return []
    path.unlink()
    logger.info("deleted compute %s", name)
    return [f"compute {name}"]
