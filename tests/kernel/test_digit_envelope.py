"""The DIGIT kernel: envelope (RequestInfo/ResponseInfo/Errors), epoch-ms conversion, query criteria."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict

import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from billing_project.digit.criteria import query_bool, query_long, query_set, query_value
from billing_project.digit.envelope import (
    RequestInfo,
    RequestInfoError,
    ci_get,
    error_entry,
    errors_body,
    parse_request_info,
    response_info,
    status_text,
)
from billing_project.digit.timeconv import duration_to_ms, from_epoch_ms, ms_to_duration, to_epoch_ms

UTC = dt.UTC
IST = dt.timezone(dt.timedelta(hours=5, minutes=30))

# --- envelope --------------------------------------------------------------------------------


def test_ci_get_prefers_the_exact_key_then_matches_case_insensitively():
    data = OrderedDict([("tenantid", "a"), ("TenantId", "b"), ("TENANTID", "c")])
    assert ci_get(data, "TenantId") == "b"
    assert ci_get(data, "tenantId") == "a"  # first case-insensitive match, in the body's order
    assert ci_get({"x": 1}, "missing") is None
    assert ci_get({"x": 1}, "missing", "default") == "default"
    assert ci_get({"x": None}, "X", "default") is None  # a present null is a value
    assert ci_get(None, "x", 0) == 0
    assert ci_get(["x"], "x", 0) == 0
    assert ci_get({1: "one"}, "1") is None


def test_parse_request_info_reads_every_field_case_insensitively():
    user_info = {"uuid": "u-1", "userName": "someone", "type": "EMPLOYEE"}
    body = {
        "requestinfo": {
            "APIID": "Rainmaker",
            "ver": 1,
            "ts": "1700000000123",
            "action": "_search",
            "did": 7,
            "key": "",
            "msgid": "m-1",
            "AuthToken": "k-1",
            "corelationId": "c-1",
            "UserInfo": user_info,
            "unknown": {"ignored": True},
        },
        "Demands": [],
    }
    info = parse_request_info(body)
    assert info == RequestInfo(
        api_id="Rainmaker",
        ver="1",
        ts=1_700_000_000_123,
        action="_search",
        did="7",
        key="",
        msg_id="m-1",
        auth_token="k-1",
        correlation_id="c-1",
        user_info=user_info,
        raw=body["requestinfo"],
    )


def test_parse_request_info_prefers_correlation_id_spelt_right():
    info = parse_request_info({"RequestInfo": {"correlationId": "right", "corelationId": "legacy"}})
    assert info.correlation_id == "right"


def test_parse_request_info_accepts_a_missing_or_null_request_info():
    assert parse_request_info({}) == RequestInfo()
    assert parse_request_info({"RequestInfo": None}) == RequestInfo()
    assert parse_request_info({"RequestInfo": {"ts": None, "userInfo": "not an object"}}) == RequestInfo(
        raw={"ts": None, "userInfo": "not an object"}
    )
    assert parse_request_info({"RequestInfo": {"ts": ""}}).ts is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "The request body must be a JSON object"),
        ("text", "The request body must be a JSON object"),
        ({"RequestInfo": []}, "RequestInfo must be a JSON object"),
        ({"RequestInfo": "x"}, "RequestInfo must be a JSON object"),
        ({"RequestInfo": {"ts": "soon"}}, "RequestInfo.ts must be epoch milliseconds"),
        ({"RequestInfo": {"ts": {"ms": 1}}}, "RequestInfo.ts must be epoch milliseconds"),
        ({"RequestInfo": {"authToken": ["a"]}}, "RequestInfo.authToken must be a text value"),
        ({"RequestInfo": {"msgId": {"a": 1}}}, "RequestInfo.msgId must be a text value"),
    ],
)
def test_parse_request_info_refuses_malformed_input(body, message):
    with pytest.raises(RequestInfoError) as info:
        parse_request_info(body)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (200, "200 OK"),
        (201, "201 CREATED"),
        (400, "400 BAD_REQUEST"),
        (401, "401 UNAUTHORIZED"),
        (404, "404 NOT_FOUND"),
        (500, "500 INTERNAL_SERVER_ERROR"),
    ],
)
def test_status_text_is_springs_http_status_to_string(status, text):
    assert status_text(status) == text


def test_response_info_copies_the_request_and_stamps_now_only_without_ts():
    info = RequestInfo(api_id="Rainmaker", ver=".01", ts=1_700_000_000_123, msg_id="m-1", auth_token="secret")
    now = dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert response_info(info, 201, now=now) == {
        "apiId": "Rainmaker",
        "ver": ".01",
        "ts": 1_700_000_000_123,
        "resMsgId": None,
        "msgId": "m-1",
        "status": "201 CREATED",
    }
    assert response_info(RequestInfo(), 200, now=now) == {
        "apiId": None,
        "ver": None,
        "ts": 1_767_225_600_000,
        "resMsgId": None,
        "msgId": None,
        "status": "200 OK",
    }
    assert response_info(None, 200)["ts"] is None


def test_error_entry_and_errors_body():
    entry = error_entry("EG_BS_X", "went wrong", "more", ["a"])
    assert entry == {"code": "EG_BS_X", "message": "went wrong", "description": "more", "params": ["a"]}
    assert error_entry("C", "m") == {"code": "C", "message": "m", "description": None, "params": None}
    assert errors_body([entry]) == {"ResponseInfo": None, "Errors": [entry]}


# --- timeconv --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("millis", "expected"),
    [
        (0, dt.datetime(1970, 1, 1, tzinfo=UTC)),
        (1_700_000_000_123, dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
        ("1700000000123", dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)),
        (-1, dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)),
        (1_774_981_799_999, dt.datetime(2026, 3, 31, 18, 29, 59, 999000, tzinfo=UTC)),
    ],
)
def test_epoch_ms_round_trip(millis, expected):
    value = from_epoch_ms(millis)
    assert value == expected
    assert value.tzinfo is UTC
    assert to_epoch_ms(value) == int(millis)


def test_epoch_ms_edges():
    assert from_epoch_ms(None) is None
    assert from_epoch_ms("") is None
    assert to_epoch_ms(None) is None
    # an aware datetime in any zone; sub-millisecond parts are dropped (floor)
    assert to_epoch_ms(dt.datetime(2026, 4, 1, 0, 0, tzinfo=IST)) == 1_774_981_800_000
    assert to_epoch_ms(dt.datetime(1970, 1, 1, 0, 0, 0, 999, tzinfo=UTC)) == 0
    assert to_epoch_ms(dt.datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)) == -1


@pytest.mark.parametrize("bad", [True, "abc", "1.5", "1e3", 10**20, -(10**20), "99999999999999999"])
def test_from_epoch_ms_refuses_non_times_with_value_error(bad):
    with pytest.raises(ValueError):
        from_epoch_ms(bad)


def test_to_epoch_ms_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="aware"):
        to_epoch_ms(dt.datetime(2026, 1, 1))


def test_durations():
    assert duration_to_ms(dt.timedelta(days=1, milliseconds=5)) == 86_400_005
    assert duration_to_ms(None) is None
    assert ms_to_duration(86_400_005) == dt.timedelta(days=1, milliseconds=5)
    assert ms_to_duration("1000") == dt.timedelta(seconds=1)
    assert ms_to_duration(None) is None
    assert ms_to_duration("") is None
    for bad in (True, "x", 10**20):
        with pytest.raises(ValueError):
            ms_to_duration(bad)


# --- criteria --------------------------------------------------------------------------------


def request_for(query: str) -> Request:
    return Request(APIRequestFactory().post(f"/x?{query}"))


def test_query_set_splits_commas_merges_repeats_and_keys_case_insensitively():
    request = request_for("consumerCode=PT-1,PT-2&ConsumerCode=PT-3&CONSUMERCODE=PT-1,%20,PT-4%20&other=x")
    assert query_set(request, "consumerCode") == ["PT-1", "PT-2", "PT-3", "PT-4"]
    assert query_set(request, "missing") == []
    assert query_set(request_for("status="), "status") == []


def test_query_value_takes_the_last_non_blank_value():
    request = request_for("tenantId=pb&TENANTID=pb.amritsar&tenantid=%20")
    assert query_value(request, "tenantId") == "pb.amritsar"
    assert query_value(request, "businessService") is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [("isPaymentCompleted=true", True), ("ispaymentcompleted=FALSE", False), ("isPaymentCompleted=1", True)],
)
def test_query_bool(query, expected):
    assert query_bool(request_for(query), "isPaymentCompleted") is expected


def test_query_bool_missing_and_bad():
    assert query_bool(request_for(""), "isPaymentCompleted") is None
    with pytest.raises(ValidationError) as info:
        query_bool(request_for("isPaymentCompleted=yes"), "isPaymentCompleted")
    assert info.value.detail == {"isPaymentCompleted": ["'yes' is not a boolean (true/false)"]}


def test_query_long():
    assert query_long(request_for("periodFrom=1700000000000"), "periodFrom") == 1_700_000_000_000
    assert query_long(request_for("periodfrom=-5"), "periodFrom") == -5
    assert query_long(request_for(""), "periodFrom") is None
    with pytest.raises(ValidationError) as info:
        query_long(request_for("periodFrom=soon"), "periodFrom")
    assert info.value.detail == {"periodFrom": ["'soon' is not a whole number"]}
