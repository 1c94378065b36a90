"""Registered tabular datasets: `ws.datasets[name]`, or `Dataset.Tabular.from_delimited_files(...).register(...)`."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, List, Optional, Union

import pandas as pd

from ... import data
from ...settings import DatasetSettings
from . import sdk
from .errors import translated

logger = logging.getLogger(__name__)
UPLOAD_FOLDER = "amlpipe-data"


class AzureDataset:
    """A registered TabularDataset version; `sdk_dataset` is the SDK's object."""

    def __init__(self, sdk_dataset: Any, source: str = ""):
        self.sdk_dataset = sdk_dataset
        self.name = sdk_dataset.name
        self.version = sdk_dataset.version
        self.description = getattr(sdk_dataset, "description", "")
        self.source = source
        self.sha256 = None

    def to_pandas_dataframe(self) -> pd.DataFrame:
        return self.sdk_dataset.to_pandas_dataframe()


def register(ws, source: Optional[Union[str, os.PathLike]] = None, settings: Optional[DatasetSettings] = None,
             dataframe: Optional[pd.DataFrame] = None) -> AzureDataset:
    """The lesson's flow: take the registered dataset if there is one, otherwise register it.

    A local file is uploaded to the default datastore first; a URL is read where it is; a
    DataFrame is registered with `register_pandas_dataframe`.
    """
    settings = settings or DatasetSettings()
    workspace = ws.sdk_workspace
    with translated(f"dataset '{settings.name}'"):
        registered_already = workspace.datasets if dataframe is None else {}  # one listing call
    if settings.name in registered_already:
        logger.info("dataset %s is registered already", settings.name)
        return AzureDataset(registered_already[settings.name], "registered")
    with translated(f"dataset '{settings.name}'"):
        if dataframe is not None:
            if settings.schema == "heart-failure":
                data.check_heart_failure(dataframe, "dataframe")
            datastore = workspace.get_default_datastore()
            registered = sdk.Dataset.Tabular.register_pandas_dataframe(
                dataframe, target=(datastore, UPLOAD_FOLDER), name=settings.name, description=settings.description
            )
            return AzureDataset(registered, "dataframe")
        origin = data.resolve_source(source)
        if settings.schema == "heart-failure":
            data.check_heart_failure(data.read_csv(origin), origin)
        if origin.startswith(("http://", "https://")):
            path: Any = origin
        else:
            datastore = workspace.get_default_datastore()
            datastore.upload_files([origin], target_path=UPLOAD_FOLDER, overwrite=True, show_progress=False)
            path = (datastore, f"{UPLOAD_FOLDER}/{Path(origin).name}")
        tabular = sdk.Dataset.Tabular.from_delimited_files(path)
        registered = tabular.register(
            workspace=workspace, name=settings.name, description=settings.description, create_new_version=True
        )
    logger.info("registered dataset %s version %s", registered.name, registered.version)
    return AzureDataset(registered, origin)


def get(ws, name: str, version: Optional[int] = None) -> Optional[AzureDataset]:
    """`Dataset.get_by_name(ws, name, version)` (None: the latest), or None when there is none."""
    try:
        found = sdk.Dataset.get_by_name(ws.sdk_workspace, name=name, version="latest" if version is None else version)
    except sdk.UserErrorException:
        return None
    return AzureDataset(found, "registered")


def list_datasets(ws) -> List[AzureDataset]:
    with translated("datasets"):
        registered = ws.sdk_workspace.datasets  # one listing call
    return [AzureDataset(dataset, "registered") for dataset in registered.values()]
