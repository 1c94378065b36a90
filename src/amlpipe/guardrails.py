"""Data guardrails, as AutoML shows them before training: what to look at before trusting a model."""

from __future__ import annotations

from typing import List, Mapping, Optional

import pandas as pd

IMBALANCE_RATIO = 0.2  # the smallest class below this share of the largest is flagged
HIGH_CARDINALITY_SHARE = 0.5


def check(df: pd.DataFrame, label: str, leakage: Optional[Mapping[str, str]] = None) -> pd.DataFrame:
    """One row per guardrail: name, status (passed / warning / alert), details.

    Args:
        df: The data, label included.
        label: The label column.
        leakage: Columns known only after the outcome, each with the reason
            (`DatasetSettings.leakage_columns`); those present are flagged.
    """
    leakage = leakage or {}
    rows: List[dict] = []
    counts = df[label].value_counts()
    ratio = counts.min() / counts.max()
    rows.append({
        "guardrail": "class balance",
        "status": "passed" if ratio >= IMBALANCE_RATIO else "alert",
        "details": ", ".join(f"{k}: {v} ({v / len(df):.0%})" for k, v in counts.items()),
    })
    missing = df.isna().sum()
    missing = missing[missing > 0]
    rows.append({
        "guardrail": "missing values",
        "status": "passed" if missing.empty else "warning",
        "details": "none" if missing.empty else ", ".join(f"{c}: {n}" for c, n in missing.items()) + " (imputed)",
    })
    features = df.drop(columns=[label])
    constant = [c for c in features if features[c].nunique(dropna=True) <= 1]
    rows.append({
        "guardrail": "constant columns",
        "status": "passed" if not constant else "warning",
        "details": ", ".join(constant) or "none",
    })
    text = features.select_dtypes(exclude="number")
    high = [c for c in text if text[c].nunique() > HIGH_CARDINALITY_SHARE * len(df)]
    rows.append({
        "guardrail": "high-cardinality columns",
        "status": "passed" if not high else "alert",
        "details": ", ".join(high) or "none",
    })
    leaking = [c for c in leakage if c in df.columns]
    rows.append({
        "guardrail": "target leakage",
        "status": "warning" if leaking else "passed",
        "details": "; ".join(f"{c}: {leakage[c]}" for c in leaking)
        or "no known leaking column",
    })
    return pd.DataFrame(rows)
