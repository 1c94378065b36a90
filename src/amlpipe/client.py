"""Calling a scoring endpoint: post records, get predictions, or a clear error with the server's message."""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, Mapping, Optional, Union

import logging

from . import contract
from .errors import MissingDependencyError, ScoringError

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60


def request_body(records: Union[Iterable[Mapping[str, Any]], Mapping[str, Any]], method: str = "predict",
                 schema: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The request for ``records``, checked with the endpoint's own rules before it is sent.

    ``records`` may also be a whole request (``{"data": [...]}``).

    Raises:
        ScoringError: a record the endpoint would refuse (status 400, naming the row and the field).
    """
    payload = dict(records) if isinstance(records, Mapping) else {"data": list(records), "method": method}
    try:
        contract.check_request(payload, schema, max_rows=10**9)
    except contract.RequestError as exc:
        raise ScoringError(exc.message, exc.status) from None
    return payload


def post(scoring_uri: str, input_data: Union[str, bytes, Mapping[str, Any]], key: Optional[str] = None,
         timeout: float = DEFAULT_TIMEOUT) -> Dict[str, Any]:
    """POST a request (a JSON string or a dict) and return the decoded answer.

    Raises:
        ScoringError: a 4xx/5xx answer (carrying the server's message and status), or no answer.
    """
    import requests

    body = input_data if isinstance(input_data, (str, bytes)) else json.dumps(input_data)
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        response = requests.post(scoring_uri, data=body, headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        raise ScoringError(f"no answer from {scoring_uri} ({type(exc).__name__})") from None
    if response.status_code >= 400:
        raise ScoringError(f"{scoring_uri} answered {response.status_code}: {_message(response)}", response.status_code)
    try:
        return response.json()
    except ValueError:
        raise ScoringError(f"{scoring_uri} answered {response.status_code} with a body that is not JSON") from None


def score(scoring_uri: str, records, key: Optional[str] = None, method: str = "predict",
          schema: Optional[Mapping[str, str]] = None, timeout: float = DEFAULT_TIMEOUT) -> Dict[str, Any]:
    """Check ``records`` like the endpoint does, post them, and return the answer."""
    return post(scoring_uri, request_body(records, method, schema), key=key, timeout=timeout)


def _message(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and "message" in error:
        return error["message"]
    if isinstance(body, dict) and "message" in body:
        return body["message"]
    return json.dumps(body)[:500]


def post_unchecked(service, body: Mapping[str, Any], timeout: float = DEFAULT_TIMEOUT):
    """POST ``body`` as it is (no client-side check) and return (status, decoded body).

    For showing what the endpoint answers to a bad request.
    """
    import requests

    headers = {"Content-Type": "application/json"}
    if service.auth_enabled:
        headers["Authorization"] = f"Bearer {service.get_keys()[0]}"
    response = requests.post(service.scoring_uri, data=json.dumps(body), headers=headers, timeout=timeout)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, {"text": response.text}


def compare_with_model(service, model, frame, rows: int = 50, label: Optional[str] = None):
    """Score the first ``rows`` records through ``service`` and beside them the registered model's own predictions.

    Args:
        service: The deployed service.
        model: The registered model it serves.
        frame: Records, with or without the label column.
        rows: How many records to score.
        label: The label column to leave out (default: the one the model was trained with).

    Returns:
        A DataFrame with the endpoint's answer, the model's prediction and whether they agree.
    """
    import pandas as pd

    label = label or model.properties.get("label_column_name")
    sample = frame.drop(columns=[c for c in (label,) if c in frame.columns]).head(rows)
    answer = service.run({"data": records_of(sample)})["result"]
    try:
        predicted = contract.label_values(list(model.load().predict(sample)))
    except MissingDependencyError as exc:  # an Azure AutoML model without its runtime here
        logger.warning("%s; showing the endpoint's answers only", exc)
        predicted = [None] * len(sample)
    result = pd.DataFrame({"endpoint": answer, "model": predicted}, index=sample.index)
    result["agree"] = [None if m is None else e == m for e, m in zip(result["endpoint"], result["model"])]
    return result


def records_of(frame) -> list:
    """A DataFrame's rows as request records: plain JSON values, a missing value as null."""
    return [{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}
            for row in frame.to_dict("records")]


def malformed(record: Mapping[str, Any]) -> Dict[str, Any]:
    """``record`` with a mistake the endpoint refuses with a 400: text in its first number field,
    or (with no number field) its first field left out."""
    numbers = [k for k, v in record.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if numbers:
        return {**record, numbers[0]: "not a number"}
    return {k: v for k, v in list(record.items())[1:]}


def describe_comparison(comparison) -> str:
    """One line about a `compare_with_model` table."""
    if comparison["model"].isna().all():
        return f"{len(comparison)} records scored by the endpoint; the registered model cannot be loaded here to compare"
    agree = int(comparison["agree"].eq(True).sum())  # rows without a model answer are not agreements
    return f"{agree} of {len(comparison)} endpoint answers equal the registered model's predictions"
