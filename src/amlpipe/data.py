"""Loading and checking tabular data: the heart-failure records by default, any CSV with a label.

The source is, in order: the caller's path or URL, `AMLPIPE_DATA`, the user cache, a
download of the UCI zip (which is then cached). Offline with nothing cached is a
`DataError` saying how to give a local file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import zipfile
from pathlib import Path
from typing import Dict, Optional, Union

import pandas as pd

from .errors import DataError
from .settings import HEART_FAILURE_LABEL as LABEL
from .settings import HEART_FAILURE_SCHEMA

logger = logging.getLogger(__name__)

UCI_URL = "https://archive.ics.uci.edu/static/public/519/heart+failure+clinical+records.zip"
CSV_NAME = "heart_failure_clinical_records_dataset.csv"
# The largest magnitude a feature may have: float32's, which LightGBM and XGBoost compute in.
MAX_ABS_VALUE = 3.4028234663852886e38
# A text column with more distinct values than this share of rows is an identifier or
# free text, which featurization='auto' does not handle locally.
MAX_CATEGORY_SHARE = 0.5

Source = Union[str, os.PathLike]


def cache_dir() -> Path:
    """The user cache folder for downloads (`AMLPIPE_CACHE_DIR` overrides it)."""
    if os.environ.get("AMLPIPE_CACHE_DIR"):
        return Path(os.environ["AMLPIPE_CACHE_DIR"])
    import platformdirs

    return Path(platformdirs.user_cache_dir("amlpipe"))


def resolve_source(source: Optional[Source] = None) -> str:
    """Pick the data source: the argument, `AMLPIPE_DATA`, the cache, or a fresh download."""
    if source:
        return os.fspath(source)
    if os.environ.get("AMLPIPE_DATA"):
        return os.environ["AMLPIPE_DATA"]
    cached = cache_dir() / CSV_NAME
    if cached.is_file():
        return str(cached)
    return str(download_heart_failure())


def download_heart_failure(url: str = UCI_URL, timeout: float = 30) -> Path:
    """Download the UCI zip, extract the CSV into the cache and return its path.

    Raises:
        DataError: no network, a bad answer, or a zip without the CSV; the message says
            how to point amlpipe at a local copy instead.
    """
    import requests
    from tqdm.auto import tqdm

    target = cache_dir() / CSV_NAME
    hint = f"give a local copy instead: set AMLPIPE_DATA=/path/to/{CSV_NAME} or pass --data PATH"
    logger.info("downloading %s", url)
    try:
        with requests.get(url, stream=True, timeout=timeout) as response:
            response.raise_for_status()
            total = int(response.headers.get("content-length", 0)) or None
            buffer = io.BytesIO()
            with tqdm(total=total, unit="B", unit_scale=True, desc="heart-failure dataset") as bar:
                for chunk in response.iter_content(chunk_size=1 << 15):
                    buffer.write(chunk)
                    bar.update(len(chunk))
    except requests.RequestException as exc:
        raise DataError(f"cannot download {url} ({type(exc).__name__}); {hint}") from None
    try:
        with zipfile.ZipFile(buffer) as archive:
            member = next(n for n in archive.namelist() if n.endswith(CSV_NAME))
            content = archive.read(member)
    except (zipfile.BadZipFile, StopIteration):
        raise DataError(f"{url} is not a zip holding {CSV_NAME}; {hint}") from None
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(content)
    partial.replace(target)
    logger.info("cached %s", target)
    return target


def read_csv(source: Source) -> pd.DataFrame:
    """Read a CSV from a path or an http(s) URL.

    Raises:
        DataError: the file is missing, unreadable, empty or not a CSV; the message names it.
    """
    text = os.fspath(source)
    is_url = text.startswith(("http://", "https://"))
    if not is_url and not Path(text).is_file():
        raise DataError(f"{text}: no such file")
    try:
        df = pd.read_csv(text)
    except pd.errors.EmptyDataError:
        raise DataError(f"{text}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{text}: not a readable CSV ({str(exc).strip()})") from None
    except OSError as exc:
        raise DataError(f"{text}: cannot be read ({exc})") from None
    if df.empty:
        raise DataError(f"{text}: no data rows")
    return df


def load_heart_failure(source: Optional[Source] = None, n_folds: int = 10) -> pd.DataFrame:
    """Load and check the heart-failure records (see `resolve_source` for where from)."""
    path = resolve_source(source)
    df = read_csv(path)
    check_heart_failure(df, path)
    check_training_data(df, LABEL, "classification", n_folds=n_folds, origin=path)
    return df


def check_heart_failure(df: pd.DataFrame, origin: str = "data") -> None:
    """Check the lesson's schema: its 13 columns, numeric values, a 0/1 label.

    Raises:
        DataError: naming the first column at fault.
    """
    expected = [*HEART_FAILURE_SCHEMA, LABEL]
    missing = [c for c in expected if c not in df.columns]
    extra = [c for c in df.columns if c not in expected]
    if missing:
        raise DataError(f"{origin}: column '{missing[0]}' is missing (expected {', '.join(expected)})")
    if extra:
        raise DataError(f"{origin}: unexpected column '{extra[0]}' (expected {', '.join(expected)})")
    for column in expected:
        values = pd.to_numeric(df[column], errors="coerce")
        bad = values.isna() & df[column].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise DataError(f"{origin}: column '{column}' row {row}: {df[column].iloc[row]!r} is not a number")
        check_in_range(values, column, origin)
    for column in [c for c, kind in HEART_FAILURE_SCHEMA.items() if kind == "boolean"] + [LABEL]:
        values = set(pd.to_numeric(df[column]).dropna().unique())
        if not values <= {0, 1}:
            raise DataError(f"{origin}: column '{column}' must be 0 or 1; found {sorted(values - {0, 1})[:3]}")


def check_training_data(
    df: pd.DataFrame,
    label: str,
    task: str,
    n_folds: int = 0,
    weight: Optional[str] = None,
    origin: str = "data",
) -> None:
    """Check that AutoML can train on ``df`` as it is.

    Raises:
        DataError: the label is missing or has gaps, one class only, fewer rows of a class
            than CV folds, or a column that cannot be featurized; the message names it.
    """
    if label not in df.columns:
        raise DataError(f"{origin}: label column '{label}' is missing (columns: {', '.join(map(str, df.columns))})")
    if df[label].isna().any():
        row = int(df[label].isna().to_numpy().nonzero()[0][0])
        raise DataError(f"{origin}: label column '{label}' is empty at row {row}")
    if weight is not None:
        if weight not in df.columns:
            raise DataError(f"{origin}: weight column '{weight}' is missing")
        weights = pd.to_numeric(df[weight], errors="coerce")
        if weights.isna().any() or (weights < 0).any():
            raise DataError(f"{origin}: weight column '{weight}' must hold non-negative numbers")
    features = [c for c in df.columns if c not in (label, weight)]
    if not features:
        raise DataError(f"{origin}: no feature columns besides the label '{label}'")
    if task == "classification":
        counts = df[label].value_counts()
        if len(counts) < 2:
            raise DataError(f"{origin}: label column '{label}' has one class only ({str(counts.index[0])})")
        smallest = counts.idxmin()
        smallest = smallest.item() if hasattr(smallest, "item") else smallest  # numpy scalar -> plain value
        if n_folds and counts.min() < n_folds:
            raise DataError(
                f"{origin}: label column '{label}' has {counts.min()} rows of class {smallest!r}, "
                f"fewer than the {n_folds} cross-validation folds"
            )
    else:
        if pd.to_numeric(df[label], errors="coerce").isna().any():
            raise DataError(f"{origin}: label column '{label}' must be numeric for regression")
    if len(df) < max(n_folds, 2) * 2:
        raise DataError(f"{origin}: {len(df)} rows are too few to train and validate on")
    schema = feature_schema(df[features], origin)  # raises for a column that cannot be featurized
    for column in features:
        if schema[str(column)] != "category":
            check_in_range(pd.to_numeric(df[column], errors="coerce"), column, origin)


def check_in_range(values: pd.Series, column: str, origin: str = "data") -> None:
    """Refuse infinite values and values beyond float32's range (what the learners compute in).

    Raises:
        DataError: naming the column and the first row at fault.
    """
    bad = values.abs() > MAX_ABS_VALUE  # NaN compares False: gaps are imputed, not refused
    if bad.any():
        row = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(
            f"{origin}: column '{column}' row {row}: {values.iloc[row]!r} is out of range "
            f"(values must be finite, at most {MAX_ABS_VALUE:.3g} in magnitude)"
        )


def feature_schema(features: pd.DataFrame, origin: str = "data") -> Dict[str, str]:
    """The kind of each feature column: ``number``, ``boolean`` or ``category``.

    Booleans are numeric columns holding only 0 and 1 (or true/false); the endpoint
    accepts ``true``/``false`` for them.

    Raises:
        DataError: a column is empty, or is text with too many distinct values to encode.
    """
    schema: Dict[str, str] = {}
    for column in features.columns:
        values = features[column]
        if values.isna().all():
            raise DataError(f"{origin}: column '{column}' has no values; drop it")
        if pd.api.types.is_bool_dtype(values):
            schema[str(column)] = "boolean"
            continue
        present = values.dropna()
        # text columns: a look at the first values settles it (parsing all of a big column takes seconds)
        if not pd.api.types.is_numeric_dtype(values) and pd.to_numeric(present.head(100), errors="coerce").isna().any():
            numeric = None
        else:
            numeric = pd.to_numeric(values, errors="coerce")
        if numeric is not None and numeric.notna().sum() == len(present):
            distinct = set(numeric.dropna().unique())
            schema[str(column)] = "boolean" if distinct <= {0, 1} and len(distinct) == 2 else "number"
            continue
        distinct = values.nunique(dropna=True)
        if distinct > max(10, MAX_CATEGORY_SHARE * len(values)):
            raise DataError(
                f"{origin}: column '{column}' is text with {distinct} distinct values in {len(values)} rows "
                "(an identifier or free text?); it cannot be featurized, drop it"
            )
        schema[str(column)] = "category"
    return schema


def sha256_of_frame(df: pd.DataFrame) -> str:
    """A content hash that does not depend on where the data came from."""
    return hashlib.sha256(df.to_csv(index=False).encode("utf-8")).hexdigest()
