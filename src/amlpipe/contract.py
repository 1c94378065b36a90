"""The endpoint contract: parsing and checking a scoring request, and describing it in OpenAPI.

One module serves both sides: `inference/score.py` checks every request with it before
the model sees it, and the client checks records with it before sending them. It needs
the standard library only, so it can be deployed beside score.py where amlpipe is not
installed (Azure Container Instances).

Request: ``{"data": [record, ...], "method": "predict" | "predict_proba" | "explain"}``; a record maps
each input field to a number, a boolean (``true``/``false``, ``"true"``/``"false"``, 0/1)
or, for category fields, a text (a number there is read as its text); numbers may arrive as
strings of plain decimal text (``"60"``, ``"1.40"``, ``"-2.5e3"``: ASCII digits, no spaces or
underscores); a number must be finite and at most `MAX_ABS_VALUE` in magnitude (float32's
range, which the learners compute in); ``null`` (and ``""`` in a category field) means missing
and is imputed as in training. Bad input raises
`RequestError` with a 4xx status and a message naming the row and the field.
"""

from __future__ import annotations

import json
import math
import re
from operator import itemgetter
from typing import Any, Dict, List, Mapping, Optional, Sequence

METHODS = ("predict", "predict_proba", "explain")
DEFAULT_MAX_ROWS = 10_000
EXPLAIN_MAX_ROWS = 1_000  # "explain" scores each record once more per field
# A request body may hold this many bytes per accepted row (a lesson record is about 300).
BODY_BYTES_PER_ROW = 1024
MAX_ABS_VALUE = 3.4028234663852886e38  # float32's largest: beyond it LightGBM and XGBoost see infinity
_TRUE = ("true", "1")
_FALSE = ("false", "0")


class RequestError(ValueError):
    """A request the endpoint refuses.

    Attributes:
        status: The HTTP status to answer with (400, 413 or 415).
        message: What is wrong, naming the row and the field where there is one.
        row, field: Where, when the fault is in a record.
    """

    def __init__(self, message: str, status: int = 400, row: Optional[int] = None, field: Optional[str] = None):
        # status: 400 bad request, 401 no key, 404/405 no such route or method, 408 body too slow,
        # 413 too large, 415 not JSON
        super().__init__(message)
        self.status = status
        self.message = message
        self.row = row
        self.field = field

    def to_body(self) -> Dict[str, Any]:
        """The JSON error body: ``{"error": {"message", "row", "field"}}``."""
        return {"error": {"message": self.message, "row": self.row, "field": self.field}}


class ParsedRequest:
    """A checked request: one list of values per input field, in the schema's order."""

    __slots__ = ("columns", "method", "n_rows")

    def __init__(self, columns: Dict[str, List[Any]], method: str, n_rows: int):
        self.columns = columns
        self.method = method
        self.n_rows = n_rows


def _reject_constant(name: str):
    raise RequestError(f"{name} is not a valid JSON value; send a finite number")


def max_body_bytes(max_rows: int = DEFAULT_MAX_ROWS) -> int:
    """The largest request body accepted for batches of at most ``max_rows`` records."""
    return max(1 << 20, max_rows * BODY_BYTES_PER_ROW)


def parse_body(body: bytes, content_type: Optional[str]) -> Any:
    """Decode a UTF-8 JSON body (rejecting NaN and Infinity literals)."""
    if content_type is not None:
        media_type, *parameters = [part.strip().lower() for part in content_type.split(";")]
        if media_type != "application/json":
            raise RequestError(f"content type must be application/json, not {content_type!r}", status=415)
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "charset" and value.strip().strip('"') not in ("utf-8", "utf8"):
                raise RequestError(f"charset must be utf-8 (JSON is UTF-8), not {value.strip()!r}", status=415)
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return json.loads(text, parse_constant=_reject_constant)
    except RequestError:
        raise
    except RecursionError:
        raise RequestError("the body is nested too deeply to be a scoring request") from None
    except UnicodeDecodeError as exc:
        raise RequestError(f"the body is not UTF-8 (byte {exc.start})") from None
    except ValueError as exc:
        raise RequestError(f"the body is not valid JSON ({exc})") from None


def check_request(
    payload: Any, schema: Optional[Mapping[str, str]], max_rows: int = DEFAULT_MAX_ROWS
) -> ParsedRequest:
    """Check a decoded request against the model's input schema.

    Args:
        payload: The decoded JSON body.
        schema: Field name -> ``number`` | ``boolean`` | ``category``, in the model's column
            order; None accepts any fields holding numbers or booleans (same fields in every row).
        max_rows: The largest batch accepted.

    Raises:
        RequestError: naming the row and field at fault.
    """
    if not isinstance(payload, dict):
        raise RequestError('the body must be a JSON object like {"data": [{...}]}')
    unknown_keys = sorted(set(payload) - {"data", "method"})
    if unknown_keys:
        raise RequestError(f"unknown top-level key '{unknown_keys[0]}'; expected 'data' and optionally 'method'")
    method = payload.get("method", "predict")
    if method not in METHODS:
        raise RequestError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
    if "data" not in payload:
        raise RequestError("'data' is missing: send {\"data\": [record, ...]}")
    rows = payload["data"]
    if not isinstance(rows, list):
        raise RequestError(f"'data' must be a list of records, not {type(rows).__name__}")
    if not rows:
        raise RequestError("'data' is empty: send at least one record")
    if len(rows) > max_rows:
        raise RequestError(f"'data' has {len(rows)} records; at most {max_rows} are accepted per request", status=413)
    if method == "explain" and len(rows) > EXPLAIN_MAX_ROWS:
        raise RequestError(f"'data' has {len(rows)} records; at most {EXPLAIN_MAX_ROWS} are explained per request",
                           status=413)
    if schema is None:
        first = rows[0]
        if not isinstance(first, dict):
            raise RequestError("row 0: a record must be a JSON object of field: value", row=0)
        schema = {name: "number" for name in first}
    return ParsedRequest(_columns(rows, schema), method, len(rows))


def _columns(rows: Sequence[Any], schema: Mapping[str, str]) -> Dict[str, Any]:
    names = list(schema)
    expected = set(names)
    for i, record in enumerate(rows):
        if type(record) is not dict or record.keys() != expected:
            _explain_record(i, record, names)
    columns: Dict[str, Any] = {}
    for name, kind in schema.items():
        values = list(map(itemgetter(name), rows))
        fast = _FAST[kind](values)
        if fast is None:  # something is off (or unusual): convert value by value, naming the first bad one
            convert = _CONVERTERS[kind]
            fast = [convert(value, i, name) for i, value in enumerate(values)]
        columns[name] = fast
    return columns


def _explain_record(i: int, record: Any, names: List[str]) -> None:
    if not isinstance(record, dict):
        raise RequestError(f"row {i}: a record must be a JSON object of field: value", row=i)
    missing = [n for n in names if n not in record]
    if missing:
        raise RequestError(f"row {i}: field '{missing[0]}' is missing", row=i, field=missing[0])
    extra = sorted(k for k in record if k not in set(names))
    raise RequestError(f"row {i}: unknown field '{extra[0]}' (expected {', '.join(names)})", row=i, field=extra[0])


def _fast_numbers(values: List[Any]) -> Optional[List[float]]:
    """All values numbers or plain decimal strings, all in range: the whole column at once; else None."""
    kinds = set(map(type, values))
    if not kinds <= {int, float, str} or not kinds:
        return None
    if str in kinds:
        # float() also takes "1_000", " 60\n" and non-ASCII digits: leave any such column to the slow path.
        text = "".join(v for v in values if type(v) is str)
        if not text.isascii() or "_" in text or text.split() != [text]:
            return None
    try:
        numbers = list(map(float, values))
    except (ValueError, OverflowError):
        return None
    if not all(map(math.isfinite, numbers)) or max(map(abs, numbers)) > MAX_ABS_VALUE:
        return None
    return numbers


# True == 1 and False == 0 as dict keys, so the numbers 1 and 0 are covered too.
_BOOLEAN_WORDS = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, True: 1.0, False: 0.0}


def _fast_booleans(values: List[Any]) -> Optional[List[float]]:
    """All values booleans, 0/1 or boolean words: the whole column at once (by its distinct values); else None."""
    kinds = set(map(type, values))
    if not (kinds <= {bool, int} or kinds == {str}):
        return None
    distinct = set(values)
    words = {v: _BOOLEAN_WORDS.get(v.strip().lower() if type(v) is str else v) for v in distinct}
    if None in words.values():
        return None
    return list(map(words.__getitem__, values))


def _fast_categories(values: List[Any]) -> Optional[List[Any]]:
    """All values non-empty texts of valid Unicode: the column as it is; else None."""
    if not set(map(type, values)) <= {str} or "" in values:
        return None
    text = "".join(values)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\\ud800" in the JSON)
            return None
    return values


_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def _number(value: Any, row: int, field: str) -> float:
    kind = type(value)
    number = None
    if kind is float or kind is int:
        try:
            number = float(value)
        except OverflowError:  # an integer of 309 digits or more
            pass
    elif kind is str and _DECIMAL.fullmatch(value):
        number = float(value)
    elif value is None:
        return math.nan  # missing: imputed by the model's featurizer
    if number is not None and abs(number) <= MAX_ABS_VALUE:  # NaN compares False
        return number
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    raise RequestError(
        f"row {row}, field '{field}': {shown} is not a finite number "
        f"(plain decimal text, at most {MAX_ABS_VALUE:.3g} in magnitude)",
        row=row, field=field,
    )


def _boolean(value: Any, row: int, field: str) -> float:
    if value is True or value is False:
        return float(value)
    if type(value) in (int, float) and value in (0, 1):
        return float(value)
    if type(value) is str:
        text = value.strip().lower()
        if text in _TRUE:
            return 1.0
        if text in _FALSE:
            return 0.0
        if _DECIMAL.fullmatch(text) and float(text) in (0.0, 1.0):  # "0.0", "1.00"
            return float(text)
    if value is None:
        return math.nan
    raise RequestError(
        f"row {row}, field '{field}': {value!r} is not a boolean (true/false, \"true\"/\"false\" or 0/1)",
        row=row, field=field,
    )


def _category(value: Any, row: int, field: str) -> Any:
    """A text as it is; a number as its text (categories are texts); null or "" as missing (NaN, imputed
    as in training, where an empty field of the CSV is missing)."""
    if value is None or value == "":  # "" only equals a str
        return math.nan
    if type(value) is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RequestError(f"row {row}, field '{field}': the text holds a lone surrogate, which is not Unicode text",
                               row=row, field=field) from None
        return value
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return str(value)
    raise RequestError(f"row {row}, field '{field}': {value!r} is not a category value", row=row, field=field)


_CONVERTERS = {"number": _number, "boolean": _boolean, "category": _category}
_FAST = {"number": _fast_numbers, "boolean": _fast_booleans, "category": _fast_categories}


def openapi_spec(
    schema: Mapping[str, str],
    classes: Optional[Sequence[Any]],
    example: Optional[Mapping[str, Any]] = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    title: str = "amlpipe scoring endpoint",
) -> Dict[str, Any]:
    """A Swagger 2.0 document for the scoring route, as the inference server serves at /swagger.json."""
    kinds = {
        "number": {"type": ["number", "string"], "description": "a number, or a string holding one"},
        "boolean": {"type": ["boolean", "integer", "string"], "description": "true/false, \"true\"/\"false\" or 0/1"},
        "category": {"type": ["string", "number"], "description": "a text (a number is read as its text; \"\" is missing)"},
    }
    record = {
        "type": "object",
        "required": list(schema),
        "additionalProperties": False,
        "properties": {name: dict(kinds[kind]) for name, kind in schema.items()},
    }
    if example:
        record["example"] = dict(example)
    label = {"type": "boolean"} if _boolean_classes(classes) else {"type": ["number", "string"]}
    error = {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "message": {"type": "string"},
                    "row": {"type": ["integer", "null"]},
                    "field": {"type": ["string", "null"]},
                },
            }
        },
    }
    return {
        "swagger": "2.0",
        "info": {"title": title, "version": "1.0"},
        "schemes": ["http"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "paths": {
            "/score": {
                "post": {
                    "operationId": "RunMLService",
                    "description": "Score records with the registered model",
                    "parameters": [{"name": "request", "in": "body", "required": True, "schema": {"$ref": "#/definitions/ScoringRequest"}}],
                    "responses": {
                        "200": {"description": "predictions", "schema": {"$ref": "#/definitions/ScoringResponse"}},
                        "400": {"description": "bad input: the message names the row and the field", "schema": {"$ref": "#/definitions/Error"}},
                        "401": {"description": "missing or wrong key (when keys are enabled)", "schema": {"$ref": "#/definitions/Error"}},
                        "413": {"description": f"more than {max_rows} records ({EXPLAIN_MAX_ROWS} to explain)",
                                "schema": {"$ref": "#/definitions/Error"}},
                        "415": {"description": "content type is not application/json", "schema": {"$ref": "#/definitions/Error"}},
                    },
                }
            },
            "/": {"get": {"operationId": "ServiceHealthCheck", "description": "liveness", "responses": {"200": {"description": "Healthy"}}}},
        },
        "definitions": {
            "Record": record,
            "ScoringRequest": {
                "type": "object",
                "required": ["data"],
                "properties": {
                    "data": {"type": "array", "minItems": 1, "maxItems": max_rows, "items": {"$ref": "#/definitions/Record"}},
                    "method": {"type": "string", "enum": list(METHODS), "default": "predict"},
                },
            },
            "ScoringResponse": {
                "type": "object",
                "required": ["result"],
                "properties": {
                    "result": {"type": "array", "items": label},
                    "classes": {"type": "array", "items": label, "description": "with predict_proba"},
                    "probabilities": {
                        "type": "array",
                        "items": {"type": "array", "items": {"type": "number"}},
                        "description": "with predict_proba: one row per record, columns in the order of classes",
                    },
                    "explanations": {
                        "type": "array",
                        "description": "with explain: for each record, the fields that move its answer most (the "
                                       "probability of the predicted class, or the value), each with how much the "
                                       "answer drops when the field is sent as missing",
                        "items": {"type": "array", "items": {
                            "type": "object",
                            "properties": {"field": {"type": "string"}, "contribution": {"type": "number"}},
                        }},
                    },
                },
            },
            "Error": error,
        },
    }


def _boolean_classes(classes: Optional[Sequence[Any]]) -> bool:
    return classes is not None and len(classes) == 2 and {c for c in classes} <= {0, 1, False, True}


def label_values(classes: Optional[Sequence[Any]]) -> Optional[List[Any]]:
    """How each class is written in answers: 0/1 labels as false/true, as in the lesson."""
    if classes is None:
        return None
    if _boolean_classes(classes):
        return [bool(c) for c in classes]
    return [c.item() if hasattr(c, "item") else c for c in classes]
