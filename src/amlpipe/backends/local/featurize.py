"""featurization='auto': imputation, scaling and encoding chosen from the column kinds.

The featurizer is the first step of the saved pipeline, so the model takes raw records.
"""

from __future__ import annotations

from typing import Dict

from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def build_featurizer(schema: Dict[str, str], featurization: str = "auto") -> ColumnTransformer:
    """A column transformer for ``schema`` (column -> number | boolean | category).

    ``auto``: numbers get median imputation and standard scaling, booleans the most
    frequent value, categories the most frequent value and one-hot encoding (unknown
    categories at scoring time encode as all zeros). ``off``: columns pass through
    unchanged, so the data must already be numeric and complete.
    """
    numbers = [c for c, kind in schema.items() if kind == "number"]
    booleans = [c for c, kind in schema.items() if kind == "boolean"]
    categories = [c for c, kind in schema.items() if kind == "category"]
    if featurization == "off":
        return ColumnTransformer([("passthrough", "passthrough", list(schema))], verbose_feature_names_out=False)
    parts = []
    if numbers:
        parts.append(
            ("number", Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]), numbers)
        )
    if booleans:
        parts.append(("boolean", SimpleImputer(strategy="most_frequent"), booleans))
    if categories:
        parts.append(
            (
                "category",
                Pipeline(
                    [
                        ("impute", SimpleImputer(strategy="most_frequent")),
                        ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
                    ]
                ),
                categories,
            )
        )
    return ColumnTransformer(parts, verbose_feature_names_out=False)
