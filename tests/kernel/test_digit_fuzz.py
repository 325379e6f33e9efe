"""A fuzz of the DIGIT face: hostile bodies and criteria on every DIGIT endpoint (issue 11, "Done when").

Every endpoint under /billing-service/ and /collection-services/ gets a deterministic table of bad input — wrong
types, nulls, huge and negative numbers, NUL characters, nesting at and past the limit, big strings and an
oversized body, wrong envelopes — and then a bounded hypothesis sweep of arbitrary JSON. Whatever comes, the
answer is never a 5xx, and every refusal is the reference's envelope ``{"ResponseInfo": null, "Errors": [...]}``
with ``code``, ``message``, ``description`` and ``params`` in each error.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests.kernel.test_boundary import _digit_paths

pytestmark = pytest.mark.django_db

ENVELOPE_KEYS = (
    "Demands",
    "Bills",
    "Bill",
    "Amendment",
    "Amendments",
    "Payment",
    "Payments",
    "UpdateBillCriteria",
    "GenerateBillCriteria",
    "BillCriteria",
)
HOSTILE_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    10**30,
    -(10**30),
    1e308,
    -1e-308,
    "",
    "x" * 100_000,
    "<script>alert(1)</script>",
    "١٠٥٠",
    [],
    {},
    [None],
    [1, "a", None],
    [{}],
    [{"tenantId": None, "consumerCode": 12, "taxPeriodFrom": "soon", "taxPeriodTo": -(10**20)}],
    [{"demandDetails": [{"taxAmount": 10**400, "taxHeadMasterCode": None}]}],
    [{"paymentDetails": [{"billId": "not-a-uuid", "totalDue": -5, "totalAmountPaid": "1e9999"}]}],
    [{"amendmentDetails": [{"taxAmount": "NaN"}], "effectiveFrom": 10**25}],
]


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _bodies() -> list[tuple[str, bytes]]:
    out: list[tuple[str, bytes]] = [
        ("empty", b""),
        ("not json", b"{'RequestInfo': }"),
        ("array", b"[]"),
        ("string", b'"RequestInfo"'),
        ("number", b"1"),
        ("null", b"null"),
        ("RequestInfo list", b'{"RequestInfo": []}'),
        ("RequestInfo number", b'{"RequestInfo": 5}'),
        ("RequestInfo.ts text", b'{"RequestInfo": {"ts": "yesterday"}}'),
        ("RequestInfo.ts huge", b'{"RequestInfo": {"ts": 1e400}}'),
        ("authToken object", b'{"RequestInfo": {"authToken": {"a": 1}}}'),
        ("authToken NUL", b'{"RequestInfo": {"authToken": "a\\u0000b"}}'),
        ("NUL raw", b'{"RequestInfo": {"msgId": "a\x00b"}}'),
        ("nesting 60", json.dumps({"RequestInfo": {}, "x": _nested(60)}).encode()),
        ("nesting 65", json.dumps({"RequestInfo": {}, "x": _nested(65)}).encode()),
        ("nesting 1000", b'{"RequestInfo": {}, "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"),
        ("NaN", b'{"RequestInfo": {}, "Demands": [{"taxAmount": NaN}]}'),
        ("Infinity", b'{"RequestInfo": {}, "x": Infinity}'),
        ("duplicate keys", b'{"RequestInfo": {}, "Demands": [], "Demands": {}}'),
        ("too big", b'{"RequestInfo": {}, "x": "' + b"a" * 3_000_000 + b'"}'),
        ("invalid utf-8", b'{"RequestInfo": {"msgId": "\xff\xfe"}}'),
    ]
    for key in ENVELOPE_KEYS:
        for index, value in enumerate(HOSTILE_VALUES):
            out.append((f"{key}[{index}]", json.dumps({"RequestInfo": {"apiId": "fuzz"}, key: value}).encode()))
    return out


QUERIES = [
    "tenantId=pb.amritsar",
    "tenantId=pb.amritsar&consumerCode=%00",
    "tenantId=%F0%9F%92%A9&businessService=" + "A" * 5000,
    "tenantId=pb.amritsar&businessService=PT&consumerCode=PT-107-001",
    "tenantId=pb.amritsar&periodFrom=-99999999999999999999&periodTo=99999999999999999999",
    "tenantId=pb.amritsar&fromDate=abc&toDate=1e3&offset=-1&limit=100000000000000000000",
    "tenantId=pb.amritsar&isOrderBy=maybe&retrieveOldest=2&status=NOPE&billId=not-a-uuid",
    "tenantId=pb&mobileNumber=%D9%A1%D9%A0&email=%00",
]


# The reference answers its deprecated v1 bill endpoints with a lower-case ``{"responseInfo", "error"}`` body
# (reference §8, kept for compatibility); what the boundary refuses first comes in the Errors[] envelope.
V1_PATHS = frozenset(f"/billing-service/bill/{name}" for name in ("_search", "_generate", "_fetchbill", "_create"))


def _check(response: Any, label: str, path: str) -> None:
    assert response.status_code < 500, (label, response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), label
    if response.status_code >= 400:
        body = response.json()
        if set(body) == {"responseInfo", "error"} and path in V1_PATHS:
            assert body["error"]["message"] == "EG_BS_API_ERROR", label
            return
        assert set(body) == {"ResponseInfo", "Errors"}, (label, body)
        assert body["ResponseInfo"] is None, label
        assert body["Errors"], label
        for error in body["Errors"]:
            assert set(error) == {"code", "message", "description", "params"}, (label, error)
            assert isinstance(error["code"], str), (label, error)
            assert error["code"], (label, error)


def _path(path: str) -> str:
    return path.replace("/1/", "/PT/")


@pytest.fixture
def staff(api_client_for) -> APIClient:
    call_command("load_mdms", "masters/fixtures/mdms", stdout=io.StringIO())
    return api_client_for(
        "fuzz-staff", {"pb": ["BILLING_ADMIN", "EMPLOYEE", "CASHIER", "AMENDMENT_APPROVER", "SYSTEM"]}
    )


def test_hostile_bodies_on_every_digit_endpoint_never_answer_5xx(staff, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    paths = [_path(p) for p in _digit_paths()]
    assert len(paths) == 23
    anonymous = APIClient()
    bodies = _bodies()
    for path in paths:
        for label, body in bodies:
            response = staff.post(f"{path}?tenantId=pb.amritsar", data=body, content_type="application/json")
            _check(response, f"{path} {label}", path)
        # The open (token-less) path too, with a few of them.
        for label, body in bodies[:16]:
            response = anonymous.post(path, data=body, content_type="application/json")
            _check(response, f"anonymous {path} {label}", path)


def test_hostile_criteria_on_every_digit_endpoint_never_answer_5xx(staff):
    for path in (_path(p) for p in _digit_paths()):
        for query in QUERIES:
            response = staff.post(f"{path}?{query}", {"RequestInfo": {}}, format="json")
            _check(response, f"{path}?{query}", path)


def test_a_wrong_content_type_and_method_answer_the_envelope(staff):
    for path in (_path(p) for p in _digit_paths()):
        _check(staff.post(path, data="RequestInfo=1", content_type="application/x-www-form-urlencoded"), path, path)
        _check(staff.post(path, data=b"<xml/>", content_type="text/xml"), path, path)
        _check(staff.get(path), path, path)
        _check(staff.put(path, {"RequestInfo": {}}, format="json"), path, path)


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
KEYS = st.sampled_from(["RequestInfo", *ENVELOPE_KEYS, "tenantId", "demandDetails", "paymentDetails"])


@settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    path_index=st.integers(min_value=0, max_value=22),
    body=st.dictionaries(KEYS, JSON, max_size=4),
)
def test_arbitrary_json_on_a_digit_endpoint_never_answers_5xx(staff, path_index, body):
    path = _path(_digit_paths()[path_index])
    response = staff.post(f"{path}?tenantId=pb.amritsar", body, format="json")
    _check(response, f"{path} {body!r}"[:300], path)
