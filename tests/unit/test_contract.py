"""The endpoint contract: every kind of bad request gets its status and names the row and the field."""

import json
import math

import pytest

from amlpipe import ScoringError, client, contract
from amlpipe.data import HEART_FAILURE_SCHEMA as SCHEMA

from ..conftest import LESSON_RECORD


def check(payload, max_rows=100):
    return contract.check_request(payload, SCHEMA, max_rows)


def refused(payload, status=400, max_rows=100):
    with pytest.raises(contract.RequestError) as info:
        check(payload, max_rows)
    assert info.value.status == status
    return info.value


def test_the_lessons_request_with_string_values():
    parsed = check({"data": [LESSON_RECORD], "method": "predict"})
    assert parsed.method == "predict" and parsed.n_rows == 1
    assert list(parsed.columns) == list(SCHEMA)
    assert parsed.columns["age"] == [60.0]
    assert parsed.columns["serum_creatinine"] == [1.4]
    assert parsed.columns["anaemia"] == [0.0]


@pytest.mark.parametrize("value, expected", [
    (True, 1.0), (False, 0.0), ("true", 1.0), ("FALSE", 0.0), (" True ", 1.0), (1, 1.0), (0, 0.0),
    ("1", 1.0), ("0", 0.0), ("1.0", 1.0), (0.0, 0.0)])
def test_booleans_in_every_accepted_form(value, expected):
    assert check({"data": [{**LESSON_RECORD, "smoking": value}]}).columns["smoking"] == [expected]


@pytest.mark.parametrize("value, expected", [(60, 60.0), (60.5, 60.5), ("60", 60.0), ("1.40", 1.4), ("1e2", 100.0), ("-2.5E-3", -0.0025), (".5", 0.5), (10**30, 1e30)])
def test_numbers_as_numbers_or_strings(value, expected):
    assert check({"data": [{**LESSON_RECORD, "age": value}]}).columns["age"] == [expected]


def test_null_means_missing_and_is_imputed_later():
    parsed = check({"data": [{**LESSON_RECORD, "age": None, "sex": None}]})
    assert math.isnan(parsed.columns["age"][0]) and math.isnan(parsed.columns["sex"][0])


def test_mixed_batches_convert_each_value():
    rows = [LESSON_RECORD, {**LESSON_RECORD, "age": 70, "smoking": True}]
    parsed = check({"data": rows})
    assert parsed.columns["age"] == [60.0, 70.0] and parsed.columns["smoking"] == [0.0, 1.0]


@pytest.mark.parametrize("field, value, says", [
    ("age", "sixty", "row 1, field 'age': 'sixty' is not a finite number"),
    ("age", True, "row 1, field 'age': True is not a finite number"),
    ("age", "NaN", "row 1, field 'age': 'NaN' is not a finite number"),
    ("platelets", "Infinity", "row 1, field 'platelets': 'Infinity' is not a finite number"),
    ("time", [130], "row 1, field 'time': [130] is not a finite number"),
    ("time", {"v": 1}, "field 'time'"),
    ("smoking", "yes", "row 1, field 'smoking': 'yes' is not a boolean"),
    ("smoking", 2, "row 1, field 'smoking': 2 is not a boolean"),
])
def test_a_bad_value_names_the_row_and_the_field(field, value, says):
    error = refused({"data": [LESSON_RECORD, {**LESSON_RECORD, field: value}]})
    assert says in error.message
    assert (error.row, error.field) == (1, field)
    assert error.to_body() == {"error": {"message": error.message, "row": 1, "field": field}}


def test_missing_and_unknown_fields():
    record = dict(LESSON_RECORD)
    del record["ejection_fraction"]
    error = refused({"data": [LESSON_RECORD, LESSON_RECORD, record]})
    assert error.message == "row 2: field 'ejection_fraction' is missing"
    error = refused({"data": [{**LESSON_RECORD, "weight_kg": "80"}]})
    assert error.message.startswith("row 0: unknown field 'weight_kg'") and error.field == "weight_kg"


@pytest.mark.parametrize("payload, says", [
    ([LESSON_RECORD], "must be a JSON object"),
    ({"records": [LESSON_RECORD]}, "unknown top-level key 'records'"),
    ({"method": "predict"}, "'data' is missing"),
    ({"data": LESSON_RECORD}, "'data' must be a list of records, not dict"),
    ({"data": []}, "'data' is empty"),
    ({"data": ["60,0,500"]}, "row 0: a record must be a JSON object"),
    ({"data": [LESSON_RECORD], "method": "shap"}, "unknown method 'shap'"),
])
def test_malformed_requests(payload, says):
    assert says in refused(payload).message


def test_oversized_batch_is_413():
    error = refused({"data": [LESSON_RECORD] * 101}, status=413)
    assert "101 records; at most 100" in error.message


def test_body_must_be_json_of_the_json_content_type():
    with pytest.raises(contract.RequestError, match="not valid JSON") as info:
        contract.parse_body(b"age=60", "application/json")
    assert info.value.status == 400
    with pytest.raises(contract.RequestError, match="application/json") as info:
        contract.parse_body(b"{}", "text/plain")
    assert info.value.status == 415
    assert contract.parse_body(b'{"data": []}', "application/json; charset=utf-8") == {"data": []}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_literals_are_refused(literal):
    body = json.dumps({"data": [LESSON_RECORD]}).replace('"60"', literal).encode()
    with pytest.raises(contract.RequestError, match=f"{literal} is not a valid JSON value"):
        contract.parse_body(body, "application/json")


def test_overflowing_number_is_refused():
    payload = contract.parse_body(json.dumps({"data": [LESSON_RECORD]}).replace('"60"', "1e999").encode(), None)
    assert "row 0, field 'age'" in refused(payload).message


def test_without_a_schema_any_numeric_fields_are_accepted():
    parsed = contract.check_request({"data": [{"a": 1, "b": "2"}]}, None)
    assert parsed.columns == {"a": [1.0], "b": [2.0]}


def test_the_client_refuses_the_same_records_before_sending():
    with pytest.raises(ScoringError, match="row 0, field 'age'") as info:
        client.request_body([{**LESSON_RECORD, "age": "sixty"}], schema=SCHEMA)
    assert info.value.status_code == 400
    body = client.request_body([LESSON_RECORD], method="predict_proba", schema=SCHEMA)
    assert body == {"data": [LESSON_RECORD], "method": "predict_proba"}


def test_openapi_describes_request_and_response():
    spec = contract.openapi_spec(SCHEMA, [0, 1], example=LESSON_RECORD, max_rows=500)
    record = spec["definitions"]["Record"]
    assert record["required"] == list(SCHEMA) and record["additionalProperties"] is False
    assert spec["definitions"]["ScoringRequest"]["properties"]["data"]["maxItems"] == 500
    assert spec["definitions"]["ScoringResponse"]["properties"]["result"]["items"] == {"type": "boolean"}
    assert set(spec["paths"]["/score"]["post"]["responses"]) == {"200", "400", "401", "413", "415"}
    assert contract.label_values([0, 1]) == [False, True]
    assert contract.label_values(["a", "b", "c"]) == ["a", "b", "c"]


@pytest.mark.parametrize("value", [
    "1_000", "\u0663\u0660", "60\n", " 1.40", "6 0", 1e308, -1e308, "1e308", 10**400, "0x10", "1e", "", "+"])
def test_numbers_outside_json_and_plain_decimal_text_are_refused_by_field(value):
    error = refused({"data": [LESSON_RECORD, {**LESSON_RECORD, "age": value}]})
    assert (error.row, error.field) == (1, "age")
    assert "is not a finite number" in error.message


def test_a_huge_integer_in_a_boolean_or_category_field_is_not_a_500():
    error = refused({"data": [{**LESSON_RECORD, "sex": 10**400}]})
    assert error.field == "sex"
    assert contract._category(10**400, 0, "c") == "1" + "0" * 400


@pytest.mark.parametrize("values, expected", [
    (["north", "south"], ["north", "south"]),
    (["north", None], ["north", math.nan]),  # null: missing, imputed as in training
    (["north", ""], ["north", math.nan]),  # as an empty field of the training CSV
    ([None], [math.nan]),
    ([7, 1.5, "x"], ["7", "1.5", "x"]),  # categories are texts: a number is read as its text
    (["été", "北"], ["été", "北"]),
])
def test_category_values_become_texts_or_missing_the_same_way_in_a_batch_and_alone(values, expected):
    schema = {"region": "category"}
    together = contract.check_request({"data": [{"region": v} for v in values]}, schema).columns["region"]
    alone = [contract.check_request({"data": [{"region": v}]}, schema).columns["region"][0] for v in values]
    for got in (together, alone):
        assert [("nan" if isinstance(v, float) and math.isnan(v) else v) for v in got] == [
            ("nan" if isinstance(v, float) and math.isnan(v) else v) for v in expected]


def test_a_lone_surrogate_in_a_category_is_refused_by_field():
    payload = contract.parse_body(b'{"data": [{"region": "north"}, {"region": "\\ud800"}]}', "application/json")
    with pytest.raises(contract.RequestError) as info:
        contract.check_request(payload, {"region": "category"})
    assert (info.value.row, info.value.field, info.value.status) == (1, "region", 400)


@pytest.mark.parametrize("body, says", [
    (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    (json.dumps({"data": [{**LESSON_RECORD, "age": 10**400}]}).encode(), None),
    ('{"data": []}'.encode("utf-16"), "not UTF-8"),
    (b'{"data": [{"age": "\xff"}]}', "not UTF-8"),
])
def test_bodies_that_used_to_raise_are_request_errors(body, says):
    try:
        payload = contract.parse_body(body, "application/json")
    except contract.RequestError as exc:
        assert says is not None and says in exc.message and exc.status == 400
        return
    with pytest.raises(contract.RequestError) as info:  # the 400-digit integer: refused by the check, by field
        check(payload)
    assert info.value.field == "age"


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-16", "application/json;charset=latin-1"])
def test_a_charset_other_than_utf8_is_refused(content_type):
    with pytest.raises(contract.RequestError, match="charset must be utf-8") as info:
        contract.parse_body(b'{"data": []}', content_type)
    assert info.value.status == 415
    assert contract.parse_body(b"{}", 'application/json; charset="UTF-8"') == {}
