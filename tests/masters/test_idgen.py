"""Id generation service: format precedence, sequences, gap-free numbering, locking under concurrency."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from billing_project import clock
from masters.errors import IDGEN_ERROR_MESSAGE, IdGenerationError
from masters.models import IdFormat, IdSequence
from masters.services import id_format_resolve, id_generate
from tests.concurrency import backend_pid, wait_until_blocked

BILLNO = "BILLNO-{module}-[SEQ_egbs_billnumber{tenantid}]"
AMENDMENT = "NOTETYPE-CONSUMERCODE-[SEQ_BS_MUTATION_[tenant_id]]"
UTC = dt.UTC


def bill_numbers(tenant: str = "pb.amritsar", module: str = "PT", tenantid: str = "", **kwargs: Any) -> list[str]:
    return id_generate(
        tenant_code=tenant,
        id_name="billnumberid",
        default_format=BILLNO,
        placeholders={"module": module, "tenantid": tenantid},
        **kwargs,
    )


def sequences() -> dict[str, int]:
    return dict(IdSequence.objects.values_list("name", "last_value"))


@pytest.mark.django_db
def test_first_id_is_000001_then_000002():
    assert bill_numbers() == ["BILLNO-PT-000001"]
    assert bill_numbers(module="WS") == ["BILLNO-WS-000002"]  # one sequence for every module, as the reference
    assert sequences() == {"seq_egbs_billnumber": 2}


@pytest.mark.django_db
def test_tenant_level_numbering_uses_a_separate_sequence():
    assert bill_numbers(tenantid="_amritsar") == ["BILLNO-PT-000001"]
    assert bill_numbers(tenant="pb.jalandhar", tenantid="_jalandhar") == ["BILLNO-PT-000001"]
    assert bill_numbers(tenantid="_amritsar") == ["BILLNO-PT-000002"]
    assert bill_numbers() == ["BILLNO-PT-000001"]
    assert sequences() == {
        "seq_egbs_billnumber": 1,
        "seq_egbs_billnumber_amritsar": 2,
        "seq_egbs_billnumber_jalandhar": 1,
    }


@pytest.mark.django_db
def test_count_gives_consecutive_numbers():
    assert bill_numbers(count=3) == ["BILLNO-PT-000001", "BILLNO-PT-000002", "BILLNO-PT-000003"]
    assert bill_numbers() == ["BILLNO-PT-000004"]
    assert sequences() == {"seq_egbs_billnumber": 4}


@pytest.mark.django_db
def test_tenant_id_format_overrides_the_default(tenant_factory):
    IdFormat.objects.create(
        tenant=tenant_factory("pb.amritsar"), id_name="billnumberid", format="AMR/{module}/[SEQ_amr]"
    )
    tenant_factory("pb.jalandhar")
    assert bill_numbers() == ["AMR/PT/000001"]
    assert bill_numbers(tenant="pb.jalandhar") == ["BILLNO-PT-000001"]
    assert bill_numbers(count=2) == ["AMR/PT/000002", "AMR/PT/000003"]
    assert sequences() == {"seq_amr": 3, "seq_egbs_billnumber": 1}


@pytest.mark.django_db
def test_a_city_falls_back_to_its_state_format_and_its_own_wins(tenant_factory):
    IdFormat.objects.create(tenant=tenant_factory("pb"), id_name="billnumberid", format="PB-[city]-[SEQ_pb_[city]]")
    tenant_factory("pb.jalandhar")
    assert bill_numbers() == ["PB-AMRITSAR-000001"]
    assert bill_numbers(tenant="pb.jalandhar") == ["PB-JALANDHAR-000001"]
    IdFormat.objects.create(tenant=tenant_factory("pb.amritsar"), id_name="billnumberid", format="CITY-[SEQ_city]")
    assert bill_numbers() == ["CITY-000001"]
    assert bill_numbers(tenant="pb.jalandhar") == ["PB-JALANDHAR-000002"]
    # another id name, and another state, do not pick the format up
    assert bill_numbers(tenant="hr.karnal") == ["BILLNO-PT-000001"]
    assert id_format_resolve(tenant_code="pb.jalandhar", id_name="other", default_format="D-[SEQ_d]") == "D-[SEQ_d]"


@pytest.mark.django_db
def test_amendment_ids_use_a_sequence_per_tenant(tenant_factory):
    IdFormat.objects.create(tenant=tenant_factory("pb"), id_name="bs.amendment.id", format=AMENDMENT)

    def amendment_id(tenant: str) -> list[str]:
        return id_generate(tenant_code=tenant, id_name="bs.amendment.id", default_format="unused-[SEQ_unused]")

    assert amendment_id("pb.amritsar") == ["NOTETYPE-CONSUMERCODE-000001"]
    assert amendment_id("pb.amritsar") == ["NOTETYPE-CONSUMERCODE-000002"]
    assert amendment_id("pb.jalandhar") == ["NOTETYPE-CONSUMERCODE-000001"]
    assert sequences() == {"seq_bs_mutation_pb_amritsar": 2, "seq_bs_mutation_pb_jalandhar": 1}


def _draw_then_fail(**kwargs: Any) -> list[str]:
    """A caller whose transaction draws numbers and then fails; returns what it had drawn."""
    drawn: list[str] = []
    try:
        with transaction.atomic():
            drawn.extend(bill_numbers(**kwargs))
            raise RuntimeError("the bill was not saved")
    except RuntimeError:
        return drawn
    raise AssertionError("unreachable")


@pytest.mark.django_db
def test_a_rolled_back_caller_gives_its_numbers_back():
    assert _draw_then_fail(count=2) == ["BILLNO-PT-000001", "BILLNO-PT-000002"]
    assert sequences() == {}
    assert bill_numbers() == ["BILLNO-PT-000001"]
    assert _draw_then_fail() == ["BILLNO-PT-000002"]
    assert bill_numbers() == ["BILLNO-PT-000002"]
    assert sequences() == {"seq_egbs_billnumber": 2}


@pytest.mark.django_db
def test_dates_are_taken_at_the_given_instant_in_the_billing_zone(settings):
    settings.BILLING_TIME_ZONE = "Asia/Kolkata"
    fmt = "PT/[cy:yyyy-MM-dd]/[fy:yyyy-yy]/[SEQ_pt]"

    def number(at: dt.datetime | None = None) -> str:
        (value,) = id_generate(tenant_code="pb.amritsar", id_name="x", default_format=fmt, at=at)
        return value

    assert number(dt.datetime(2026, 3, 31, 18, 29, 59, tzinfo=UTC)) == "PT/2026-03-31/2025-26/000001"
    assert number(dt.datetime(2026, 3, 31, 18, 30, tzinfo=UTC)) == "PT/2026-04-01/2026-27/000002"
    with clock.frozen(dt.datetime(2026, 12, 31, 19, 0, tzinfo=UTC)):
        assert number() == "PT/2027-01-01/2026-27/000003"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [
        ({"default_format": "BILL-[SEQ_a"}, "unclosed '[' at position 5"),
        ({"default_format": "BILL-[nope]"}, "unknown token [nope]"),
        ({"default_format": "BILL-{module}"}, "placeholder {module} at position 5 has no value"),
        ({"default_format": "B-[SEQ_a]", "count": 0}, "count must be a whole number from 1 to 10000, not 0"),
        ({"default_format": "B-[SEQ_a]", "count": 10_001}, "count must be a whole number from 1 to 10000"),
        ({"default_format": "B-[SEQ_a]", "at": dt.datetime(2026, 1, 1)}, "aware datetime"),
        ({"default_format": "B-[SEQ_" + "a" * 200 + "]"}, "is longer than 200 characters"),
        ({"default_format": "B-[SEQ_a]", "tenant_code": ""}, "a tenant is required"),
    ],
)
def test_failures_are_idgen_errors_and_write_nothing(kwargs, detail):
    arguments = {"tenant_code": "pb.amritsar", "id_name": "billnumberid", **kwargs}
    with pytest.raises(IdGenerationError) as info:
        id_generate(**arguments)
    error = info.value
    assert (error.code, error.message, error.http_status) == ("IDGEN_SERVICE_ERROR", IDGEN_ERROR_MESSAGE, 400)
    assert IDGEN_ERROR_MESSAGE == "Failed to generate ID, unknown error occurred"
    assert detail in error.detail
    assert error.params == [error.detail]
    assert error.fields == {"idgen": [error.detail]}
    assert sequences() == {}


@pytest.mark.django_db
def test_a_broken_stored_format_is_an_idgen_error(tenant_factory):
    IdFormat.objects.create(tenant=tenant_factory("pb"), id_name="billnumberid", format="BILL-[SEQ_x")
    with pytest.raises(IdGenerationError, match="unclosed"):
        bill_numbers()
    assert sequences() == {}


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_draw_commits_on_its_own():
    assert not connection.in_atomic_block
    assert bill_numbers() == ["BILLNO-PT-000001"]
    assert not connection.in_atomic_block
    assert sequences() == {"seq_egbs_billnumber": 1}
    with transaction.atomic(durable=True):  # inside a service's durable transaction it joins it
        assert bill_numbers() == ["BILLNO-PT-000002"]
        transaction.set_rollback(True)
    assert bill_numbers() == ["BILLNO-PT-000002"]


# --- PostgreSQL: concurrency and the row lock ------------------------------------------------


def _in_thread(target: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_threads_draw_400_distinct_gap_free_numbers():
    threads, per_thread = 8, 50
    start = threading.Barrier(threads)
    drawn: list[list[str]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def worker(index: int) -> Callable[[], None]:
        def run() -> None:
            start.wait(timeout=30)
            for _ in range(per_thread):
                drawn[index].extend(bill_numbers())

        return run

    workers = [_in_thread(worker(index), errors) for index in range(threads)]
    for thread in workers:
        thread.join(timeout=120)
    assert errors == []
    assert not any(thread.is_alive() for thread in workers)
    everything = [number for numbers in drawn for number in numbers]
    assert len(everything) == len(set(everything)) == threads * per_thread
    assert sorted(int(number.rsplit("-", 1)[1]) for number in everything) == list(range(1, threads * per_thread + 1))
    for numbers in drawn:  # each thread's own numbers increase
        assert numbers == sorted(numbers)
    assert sequences() == {"seq_egbs_billnumber": threads * per_thread}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("row_exists", [False, True], ids=["new-sequence", "existing-sequence"])
def test_a_second_draw_waits_until_the_holder_commits(row_exists):
    if row_exists:
        assert bill_numbers() == ["BILLNO-PT-000001"]
    first = 2 if row_exists else 1
    holder_drew, waiter_ready, release = threading.Event(), threading.Event(), threading.Event()
    events: list[str] = []
    results: dict[str, list[str]] = {}
    pids: dict[str, int] = {}
    errors: list[BaseException] = []

    def holder() -> None:
        with transaction.atomic(durable=True):
            pids["holder"] = backend_pid()
            results["holder"] = bill_numbers()
            holder_drew.set()
            assert release.wait(timeout=30)
            events.append("holder commits")

    def waiter() -> None:
        pids["waiter"] = backend_pid()
        waiter_ready.set()
        results["waiter"] = bill_numbers()
        events.append("waiter returned")

    holder_thread = _in_thread(holder, errors)
    assert holder_drew.wait(timeout=30)
    waiter_thread = _in_thread(waiter, errors)
    assert waiter_ready.wait(timeout=30)

    # Wait (by polling PostgreSQL, not by sleeping) until the waiter is blocked on the holder's lock.
    wait_until_blocked(pids["waiter"], by=pids["holder"], still_running=waiter_thread.is_alive, what="the second draw")
    assert "waiter" not in results
    assert events == []

    release.set()
    holder_thread.join(timeout=30)
    waiter_thread.join(timeout=30)
    assert errors == []
    assert events == ["holder commits", "waiter returned"]
    assert results == {"holder": [f"BILLNO-PT-{first:06d}"], "waiter": [f"BILLNO-PT-{first + 1:06d}"]}
    assert sequences() == {"seq_egbs_billnumber": first + 1}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_waiter_takes_the_number_a_rolled_back_holder_gave_back():
    holder_drew, release = threading.Event(), threading.Event()
    results: dict[str, list[str]] = {}
    pids: dict[str, int] = {}
    errors: list[BaseException] = []
    waiter_ready = threading.Event()

    def holder() -> None:
        with transaction.atomic(durable=True):
            pids["holder"] = backend_pid()
            results["holder"] = bill_numbers()
            holder_drew.set()
            assert release.wait(timeout=30)
            transaction.set_rollback(True)

    def waiter() -> None:
        pids["waiter"] = backend_pid()
        waiter_ready.set()
        results["waiter"] = bill_numbers()

    holder_thread = _in_thread(holder, errors)
    assert holder_drew.wait(timeout=30)
    waiter_thread = _in_thread(waiter, errors)
    assert waiter_ready.wait(timeout=30)
    wait_until_blocked(pids["waiter"], by=pids["holder"], still_running=waiter_thread.is_alive, what="the waiter")
    release.set()
    holder_thread.join(timeout=30)
    waiter_thread.join(timeout=30)
    assert errors == []
    assert results == {"holder": ["BILLNO-PT-000001"], "waiter": ["BILLNO-PT-000001"]}
    assert sequences() == {"seq_egbs_billnumber": 1}
