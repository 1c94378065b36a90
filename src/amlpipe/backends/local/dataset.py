"""Registered datasets: versioned snapshots in the workspace, like `Dataset.register(create_new_version=True)`.

Each version is a folder `datasets/<name>/<version>/` with the data as CSV and a record of
its sha256, source and row count. Registering content identical to an existing version
returns that version instead of adding one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, Union

import pandas as pd

from ... import data, names
from ...settings import DatasetSettings
from .records import read_record, write_record

if TYPE_CHECKING:
    from .workspace import LocalWorkspace

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalDataset:
    """One version of a registered tabular dataset."""

    name: str
    version: int
    sha256: str
    source: str
    row_count: int
    columns: tuple
    description: str
    registered_at: str
    path: Path

    def to_pandas_dataframe(self) -> pd.DataFrame:
        """The data, as `TabularDataset.to_pandas_dataframe()` returns it."""
        return pd.read_csv(self.path / "data.csv")


def _versions_dir(ws: LocalWorkspace, name: str) -> Path:
    return ws.root / "datasets" / names.check("dataset", name)


def _load(folder: Path) -> LocalDataset:
    record = read_record(folder / "dataset.json", "dataset")
    return LocalDataset(**{**record, "columns": tuple(record["columns"]), "path": folder})


def list_versions(ws: LocalWorkspace, name: str) -> List[LocalDataset]:
    folder = _versions_dir(ws, name)
    if not folder.is_dir():
        return []
    versions = [_load(p) for p in folder.iterdir() if p.is_dir() and (p / "dataset.json").exists()]
    return sorted(versions, key=lambda d: d.version)


def list_datasets(ws: LocalWorkspace) -> List[LocalDataset]:
    """The latest version of every registered dataset."""
    root = ws.root / "datasets"
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and names.is_valid("dataset", p.name)) if root.is_dir() else []
    return [list_versions(ws, n)[-1] for n in found if list_versions(ws, n)]


def get(ws: LocalWorkspace, name: str, version: Optional[int] = None) -> Optional[LocalDataset]:
    """A registered dataset version (None: the latest), or None when there is none."""
    versions = list_versions(ws, name)
    if version is None:
        return versions[-1] if versions else None
    return next((found for found in versions if found.version == version), None)


def register(
    ws: LocalWorkspace,
    source: Optional[Union[str, os.PathLike]] = None,
    settings: Optional[DatasetSettings] = None,
    dataframe: Optional[pd.DataFrame] = None,
) -> LocalDataset:
    """Register a CSV (path or URL; default: the heart-failure records) or a DataFrame.

    Raises:
        DataError: the data cannot be read, or does not match the lesson's schema when
            ``settings.schema`` is ``"heart-failure"``.
    """
    settings = settings or DatasetSettings()
    if dataframe is None:
        origin = data.resolve_source(source)
        dataframe = data.read_csv(origin)
    else:
        origin = "dataframe"
    if settings.schema == "heart-failure":  # checked before anything is written: `latest` must be trainable
        data.check_heart_failure(dataframe, origin)
        data.check_training_data(dataframe, data.LABEL, "classification", origin=origin)
    digest = data.sha256_of_frame(dataframe)
    versions = list_versions(ws, settings.name)
    for existing in versions:
        if existing.sha256 == digest:
            logger.info("dataset %s version %d already holds this content", settings.name, existing.version)
            return existing
    version = versions[-1].version + 1 if versions else 1
    folder = _versions_dir(ws, settings.name) / str(version)
    folder.mkdir(parents=True, exist_ok=False)
    dataframe.to_csv(folder / "data.csv", index=False)
    record = {
        "name": settings.name,
        "version": version,
        "sha256": digest,
        "source": origin,
        "row_count": len(dataframe),
        "columns": [str(c) for c in dataframe.columns],
        "description": settings.description,
        "registered_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    write_record(folder / "dataset.json", record)
    logger.info("registered dataset %s version %d (%d rows)", settings.name, version, len(dataframe))
    return _load(folder)
