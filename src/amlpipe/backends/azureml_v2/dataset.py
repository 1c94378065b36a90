"""MLTable data assets: the CSV uploaded as `Data(type="mltable")`, versioned, reused when unchanged.

Each version carries the content's sha256 in its tags (`amlpipe.sha256`); registering
content equal to the latest version returns that version instead of uploading again.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any, List, Optional, Union

import pandas as pd

from ... import data
from ...settings import DatasetSettings
from . import sdk
from .errors import translated

logger = logging.getLogger(__name__)
SHA_TAG = "amlpipe.sha256"
CSV_FILE = "data.csv"


class AzureV2Dataset:
    """An MLTable data asset version; `sdk_data` is the SDK's `Data` entity."""

    def __init__(self, sdk_data: Any, source: str = ""):
        self.sdk_data = sdk_data
        self.name = sdk_data.name
        self.version = int(sdk_data.version)
        self.description = sdk_data.description or ""
        self.source = source
        self.sha256 = (sdk_data.tags or {}).get(SHA_TAG)

    def __repr__(self) -> str:
        return f"AzureV2Dataset(name={self.name!r}, version={self.version})"

    @property
    def uri(self) -> str:
        """How a job names this version: ``azureml:<name>:<version>``."""
        return f"azureml:{self.name}:{self.version}"

    def as_input(self):
        """`Input(type="mltable", path="azureml:<name>:<version>")` for an AutoML job."""
        return sdk.Input(type="mltable", path=self.uri)

    def to_pandas_dataframe(self) -> pd.DataFrame:
        """`mltable.load(<the asset's path>).to_pandas_dataframe()` (reads from the datastore with the same credentials)."""
        with translated(f"dataset '{self.name}' version {self.version}"):
            return sdk.mltable.load(self.sdk_data.path).to_pandas_dataframe()


def mltable_folder(frame: pd.DataFrame, folder: Path) -> Path:
    """Write ``frame`` as CSV beside an MLTable file describing it (`mltable.from_delimited_files(...).save`)."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_csv(folder / CSV_FILE, index=False)
    table = sdk.mltable.from_delimited_files(paths=[{"file": str(folder / CSV_FILE)}])
    table.save(str(folder), colocated=True, overwrite=True)
    return folder


def data_asset(frame: pd.DataFrame, settings: DatasetSettings, version: int, folder: Path, source: str):
    """`Data(type="mltable", name, version, path=<local MLTable folder>, tags={sha256, rows, source})`."""
    return sdk.Data(
        name=settings.name,
        version=str(version),
        type="mltable",
        path=str(mltable_folder(frame, folder)),
        description=settings.description,
        tags={SHA_TAG: data.sha256_of_frame(frame), "amlpipe.rows": str(len(frame)), "amlpipe.source": source},
    )


def register(ws, source: Optional[Union[str, os.PathLike]] = None, settings: Optional[DatasetSettings] = None,
             dataframe: Optional[pd.DataFrame] = None) -> AzureV2Dataset:
    """Upload the data as the next version of an MLTable data asset, unless the latest version holds the same content.

    A path or URL is read here (and checked against the heart-failure schema unless
    ``settings.schema == "any"``), so what is uploaded is exactly what was checked.
    """
    settings = settings or DatasetSettings()
    origin = "dataframe" if dataframe is not None else data.resolve_source(source)
    frame = dataframe if dataframe is not None else data.read_csv(origin)
    if settings.schema == "heart-failure":
        data.check_heart_failure(frame, origin)
    digest = data.sha256_of_frame(frame)
    latest = get(ws, settings.name)
    if latest is not None and latest.sha256 == digest:
        logger.info("dataset %s version %s holds the same data; reusing it", latest.name, latest.version)
        latest.source = origin
        return latest
    version = int(latest.version) + 1 if latest is not None else 1
    with tempfile.TemporaryDirectory(prefix="amlpipe-mltable-") as folder:
        asset = data_asset(frame, settings, version, Path(folder), origin)
        with translated(f"dataset '{settings.name}' version {version}"):
            registered = ws.ml_client.data.create_or_update(asset)
    logger.info("registered dataset %s version %s (%d rows)", registered.name, registered.version, len(frame))
    return AzureV2Dataset(registered, origin)


def get(ws, name: str, version: Optional[int] = None) -> Optional[AzureV2Dataset]:
    """`ml_client.data.get(name, version)` (None: the latest), or None when there is none."""
    with translated(f"dataset '{name}'"):
        try:
            if version is None:
                found = ws.ml_client.data.get(name, label="latest")
            else:
                found = ws.ml_client.data.get(name, version=str(version))
        except sdk.ResourceNotFoundError:
            return None
    return AzureV2Dataset(found, "registered")


def list_datasets(ws) -> List[AzureV2Dataset]:
    """The latest version of every data asset."""
    with translated("datasets"):
        names = [container.name for container in ws.ml_client.data.list()]
    return [found for found in (get(ws, name) for name in names) if found is not None]
