"""The idgen format language (masters.domain.idformat): pure, no database."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from masters.domain.idformat import IdFormatError, parse_format, render

IST = ZoneInfo("Asia/Kolkata")
UTC = dt.UTC
BILLNO = "BILLNO-{module}-[SEQ_egbs_billnumber{tenantid}]"
AMENDMENT = "NOTETYPE-CONSUMERCODE-[SEQ_BS_MUTATION_[tenant_id]]"
NOON = dt.datetime(2026, 6, 15, 6, 30, tzinfo=UTC)  # 12:00 IST


def ids(fmt, placeholders=None, *, tenant="pb.amritsar", seq=1, at=NOON, zone=IST):
    parsed = parse_format(fmt, placeholders, tenant_code=tenant)
    return parsed.sequence_names, render(parsed, dict.fromkeys(parsed.sequence_names, seq), at, zone)


@pytest.mark.parametrize(
    ("fmt", "placeholders", "tenant", "seq", "names", "expected"),
    [
        (BILLNO, {"module": "PT", "tenantid": ""}, "pb.amritsar", 1, ("seq_egbs_billnumber",), "BILLNO-PT-000001"),
        (BILLNO, {"module": "WS", "tenantid": ""}, "pb.amritsar", 123, ("seq_egbs_billnumber",), "BILLNO-WS-000123"),
        (
            BILLNO,
            {"module": "PT", "tenantid": "_amritsar"},
            "pb.amritsar",
            7,
            ("seq_egbs_billnumber_amritsar",),
            "BILLNO-PT-000007",
        ),
        (BILLNO, {"module": "PT", "tenantid": ""}, "pb", 1_234_567, ("seq_egbs_billnumber",), "BILLNO-PT-1234567"),
        (AMENDMENT, None, "pb.amritsar", 12, ("seq_bs_mutation_pb_amritsar",), "NOTETYPE-CONSUMERCODE-000012"),
        (AMENDMENT, {"unused": "x"}, "pb", 3, ("seq_bs_mutation_pb",), "NOTETYPE-CONSUMERCODE-000003"),
        ("BILL-[SEQ_EGOV_COMMON_TEST_AUTOCRE]", None, "pb", 5, ("seq_egov_common_test_autocre",), "BILL-000005"),
        (
            "[city]/[tenantid]/[TENANT_ID]-[SEQ_x]",
            None,
            "pb.amritsar",
            9,
            ("seq_x",),
            "AMRITSAR/pb_amritsar/pb_amritsar-000009",
        ),
        ("[city]-[SEQ_x_[city]]", None, "pb", 1, ("seq_x_pb",), "PB-000001"),
        ("{Module}-{MODULE}", {"module": "TL"}, "pb", 1, (), "TL-TL"),
        # a placeholder's value is literal text, never a token
        ("A-{module}-[SEQ_a]", {"module": "[SEQ_b]"}, "pb", 1, ("seq_a",), "A-[SEQ_b]-000001"),
        # one sequence used twice gives the same number twice; two sequences are independent names
        ("[SEQ_a]/[SEQ_A]/[seq_b]", None, "pb", 42, ("seq_a", "seq_b"), "000042/000042/000042"),
        ("NO-TOKENS}", None, "pb", 1, (), "NO-TOKENS}"),
    ],
)
def test_format_table(fmt, placeholders, tenant, seq, names, expected):
    assert ids(fmt, placeholders, tenant=tenant, seq=seq) == (names, expected)


def test_two_sequences_render_their_own_values():
    parsed = parse_format("[SEQ_a]-[SEQ_b]", tenant_code="pb")
    assert parsed.sequence_names == ("seq_a", "seq_b")
    assert render(parsed, {"seq_a": 1, "seq_b": 20}, NOON, IST) == "000001-000020"


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # 18:29:59 UTC is 23:59:59 IST on the 31st; one second later it is 1 April in India (still 31 March in UTC)
        (dt.datetime(2026, 3, 31, 18, 29, 59, tzinfo=UTC), "2026-03-31 23:59:59 2025-26 2025-2026 25-26 Mar March"),
        (dt.datetime(2026, 3, 31, 18, 30, 0, tzinfo=UTC), "2026-04-01 00:00:00 2026-27 2026-2027 26-27 Apr April"),
        # the IST day changes at 18:30 UTC
        (
            dt.datetime(2025, 12, 31, 18, 29, 59, 999999, tzinfo=UTC),
            "2025-12-31 23:59:59 2025-26 2025-2026 25-26 Dec December",
        ),
        (dt.datetime(2025, 12, 31, 18, 30, tzinfo=UTC), "2026-01-01 00:00:00 2025-26 2025-2026 25-26 Jan January"),
        # an instant given in another zone is converted, not reinterpreted
        (
            dt.datetime(2026, 4, 1, 0, 0, tzinfo=ZoneInfo("Asia/Kolkata")),
            "2026-04-01 00:00:00 2026-27 2026-2027 26-27 Apr April",
        ),
        (dt.datetime(2009, 3, 31, 12, 0, tzinfo=UTC), "2009-03-31 17:30:00 2008-09 2008-2009 08-09 Mar March"),
    ],
)
def test_dates_in_the_billing_zone(at, expected):
    fmt = "[cy:yyyy-MM-dd] [cy:HH:mm:ss] [fy:yyyy-yy] [fy:yyyy-yyyy] [fy:yy-yy] [cy:MMM] [cy:MMMM]"
    assert ids(fmt, at=at) == ((), expected)


def test_date_pattern_details():
    at = dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=IST)
    assert ids("[cy:d/M/yy H:m:s]", at=at)[1] == "3/2/26 4:5:6"
    assert ids("[cy:dd'th' 'o''clock' ''yyyy'']", at=at)[1] == "03th o'clock '2026'"
    assert ids("[fy:yyyy]", at=at)[1] == "2025"


def test_same_format_gives_the_zone_date_not_the_utc_date():
    at = dt.datetime(2026, 6, 15, 20, 0, tzinfo=UTC)  # 01:30 on the 16th in India
    assert ids("[cy:dd]", at=at, zone=IST)[1] == "16"
    assert ids("[cy:dd]", at=at, zone=UTC)[1] == "15"


@pytest.mark.parametrize(
    ("fmt", "placeholders", "message"),
    [
        ("", None, "empty"),
        ("   ", None, "empty"),
        ("BILL-[SEQ_a", None, "unclosed '[' at position 5"),
        ("BILL-[SEQ_a[tenant_id]", None, "unclosed '['"),
        ("BILL-SEQ_a]", None, "unmatched ']' at position 10"),
        ("BILL-{module", {"module": "PT"}, "unclosed '{' at position 5"),
        ("BILL-{module}", {}, "placeholder {module} at position 5 has no value (given: none)"),
        ("BILL-{module}", {"tenantid": ""}, "(given: tenantid)"),
        ("BILL-{}", None, "bad placeholder {}"),
        ("BILL-[SEQ_x{nope}]", {"module": "PT"}, "placeholder {nope}"),
        ("BILL-[foo]", None, "unknown token [foo] at position 5"),
        ("BILL-[d{4}]", None, "unknown token [d{4}]"),
        ("BILL-[]", None, "unknown token []"),
        ("BILL-[SEQ_]", None, "not a sequence name"),
        ("BILL-[SEQ_a b]", None, "not a sequence name"),
        ("BILL-[SEQ_x{module}]", {"module": "P/T"}, "resolves to 'seq_xp/t'"),
        ("BILL-[SEQ_x_[cy:yyyy]]", None, "only [tenant_id], [tenantid] and [city] may appear inside a sequence name"),
        ("BILL-[SEQ_x_[SEQ_y]]", None, "not [SEQ_y]"),
        ("BILL-[cy:]", None, "empty pattern"),
        ("BILL-[cy:yyyy-MM-dd EEE]", None, "pattern letter 'E' is not supported in [cy:yyyy-MM-dd EEE]"),
        ("BILL-[cy:'open]", None, "unclosed quote"),
        ("BILL-[fy:yyyy-MM]", None, "pattern letter 'M' is not supported"),
        ("BILL-[fy:yy-yy-yy]", None, "one or two runs of 'y'"),
        ("BILL-[fy:--]", None, "one or two runs of 'y'"),
    ],
)
def test_bad_formats_are_refused_clearly(fmt, placeholders, message):
    with pytest.raises(IdFormatError) as info:
        parse_format(fmt, placeholders, tenant_code="pb.amritsar")
    assert message in str(info.value)
    assert isinstance(info.value, ValueError)


def test_render_refuses_a_naive_datetime_and_missing_or_bad_values():
    parsed = parse_format("X-[SEQ_a]", tenant_code="pb")
    with pytest.raises(IdFormatError, match="aware"):
        render(parsed, {"seq_a": 1}, dt.datetime(2026, 1, 1), IST)
    with pytest.raises(IdFormatError, match="no value was drawn for sequence seq_a"):
        render(parsed, {}, NOON, IST)
    for bad in (-1, True, "1"):
        with pytest.raises(IdFormatError, match="invalid value"):
            render(parsed, {"seq_a": bad}, NOON, IST)


def test_parsed_format_keeps_its_source_and_is_reusable():
    parsed = parse_format(BILLNO, {"module": "PT", "tenantid": ""}, tenant_code="pb.amritsar")
    assert parsed.source == BILLNO
    assert [render(parsed, {"seq_egbs_billnumber": n}, NOON, IST) for n in (1, 2, 3)] == [
        "BILLNO-PT-000001",
        "BILLNO-PT-000002",
        "BILLNO-PT-000003",
    ]
