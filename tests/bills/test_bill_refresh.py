"""The module demand refresh before regeneration (reference §7.4.5), against a real HTTP server on 127.0.0.1.

The server runs in a thread of the test, records every request and answers as the test says: 200, 500, never
(the handler waits on an event released at teardown), or after running a callback (a module that updates its
demand through ``demand_update``, as a calculator does). Transactional tests: the refresh must run outside any
transaction, so the test must not wrap the service in one.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection, transaction

from billing_project.errors import DomainError
from bills.models import Bill, BillStatus
from bills.services import demand_refresh
from demands.models import ConsumerAccount, Demand
from masters.models import BusinessService
from tests.bills.conftest import AT, LATER, bill_snapshot, create, fetch, line, pt_demand, set_tax

pytestmark = pytest.mark.django_db(transaction=True)

REFRESH_PATH = "/pt-calculator-v2/propertytax/_updatedemand"
REQUEST_INFO = {"apiId": "Rainmaker", "ver": "1.0", "msgId": "20240501|en_IN", "authToken": "t-1"}


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    query: str
    params: dict[str, list[str]]
    content_type: str
    body: Any


@dataclass
class RefreshServer:
    """What the module answers, and what it received."""

    url: str = ""
    status: int = 200
    hang: bool = False
    on_request: Callable[[], None] | None = None
    received: list[Received] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


def _handler(state: RefreshServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            state.received.append(
                Received(
                    method="POST",
                    path=parts.path,
                    query=parts.query,
                    params=parse_qs(parts.query),
                    content_type=self.headers.get("Content-Type", ""),
                    body=json.loads(raw) if raw else None,
                )
            )
            if state.hang:
                state.release.wait()  # never answers while the test runs; released at teardown
                return
            if state.on_request is not None:
                try:
                    state.on_request()
                    state.outcomes.append("ok")
                except Exception as exc:
                    state.outcomes.append(repr(exc))
                finally:
                    connection.close()
            try:
                payload = b'{"Calculations": []}'
                self.send_response(state.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def refresh_server(seed: Any) -> Iterator[RefreshServer]:
    """A module on 127.0.0.1 (free port) configured as PT's demand-refresh URL."""
    state = RefreshServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{REFRESH_PATH}"
    BusinessService.objects.filter(tenant__code="pb", code="PT").update(demand_refresh_url=state.url)
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def fetch_with_info(caller: Any, *codes: str, at: dt.datetime = AT, **criteria: Any) -> list[Bill]:
    return fetch(caller, *codes, at=at, request_info=REQUEST_INFO, **criteria)


def test_a_fetch_needing_a_bill_calls_the_module_once_with_the_reference_query(employee, refresh_server):
    create(employee, pt_demand("PT-2"), pt_demand("PT-1"))

    bills = fetch_with_info(employee, "PT-2", "PT-1")

    assert [b.consumer_code for b in bills] == ["PT-1", "PT-2"]
    assert refresh_server.received == [
        Received(
            method="POST",
            path=REFRESH_PATH,
            query=refresh_server.received[0].query,
            params={"tenantId": ["pb.amritsar"], "consumerCodes": ["PT-1, PT-2"], "businessService": ["PT"]},
            content_type="application/json",
            body={"RequestInfo": REQUEST_INFO},
        )
    ]
    # The parameters come in the reference's order.
    assert [p.split("=")[0] for p in refresh_server.received[0].query.split("&")] == [
        "tenantId",
        "consumerCodes",
        "businessService",
    ]


def test_a_fetch_with_a_current_bill_does_not_call_the_module(employee, refresh_server):
    create(employee, pt_demand())
    [bill] = fetch_with_info(employee, "PT-107-001")
    assert len(refresh_server.received) == 1

    [same] = fetch_with_info(employee, "PT-107-001", at=AT + dt.timedelta(hours=2))

    assert same.pk == bill.pk
    assert len(refresh_server.received) == 1


def test_only_the_consumers_needing_a_new_bill_are_refreshed(employee, refresh_server):
    [one] = create(employee, pt_demand("PT-1"))
    create(employee, pt_demand("PT-2"))
    fetch_with_info(employee, "PT-1", "PT-2")
    set_tax(employee, one, "PT_TAX", "510", at=AT + dt.timedelta(hours=1))

    fetch_with_info(employee, "PT-1", "PT-2", at=AT + dt.timedelta(hours=2))

    assert [r.params["consumerCodes"] for r in refresh_server.received] == [["PT-1, PT-2"], ["PT-1"]]


def test_an_expired_bill_is_refreshed_then_replaced(employee, refresh_server):
    create(employee, pt_demand())
    [old] = fetch_with_info(employee, "PT-107-001")

    [new] = fetch_with_info(employee, "PT-107-001", at=LATER)

    assert new.pk != old.pk
    assert Bill.objects.get(pk=old.pk).status == BillStatus.EXPIRED
    assert [r.params["consumerCodes"] for r in refresh_server.received] == [["PT-107-001"], ["PT-107-001"]]


def test_a_module_answering_500_fails_the_fetch_and_nothing_is_written(employee, refresh_server):
    create(employee, pt_demand("PT-1"))
    [old] = fetch_with_info(employee, "PT-1")
    refresh_server.status = 500
    before = bill_snapshot()

    with pytest.raises(DomainError) as info:
        fetch_with_info(employee, "PT-1", at=LATER)

    assert (info.value.code, info.value.message, info.value.http_status) == (
        "EG_BS_DEMAND_REFRESH_FAILED",
        "The demand refresh of business service PT answered HTTP 500",
        502,
    )
    assert bill_snapshot() == before
    assert Bill.objects.get(pk=old.pk).status == BillStatus.ACTIVE  # not even expired
    assert len(refresh_server.received) == 2


def test_a_module_that_never_answers_times_out_and_nothing_is_written(employee, refresh_server, settings):
    settings.DEMAND_REFRESH_TIMEOUT_SECONDS = 0.2
    create(employee, pt_demand("PT-1"))
    refresh_server.hang = True
    before = bill_snapshot()

    with pytest.raises(DomainError) as info:
        fetch_with_info(employee, "PT-1")

    assert (info.value.code, info.value.message) == (
        "EG_BS_DEMAND_REFRESH_FAILED",
        "The demand refresh of business service PT failed: ReadTimeout",
    )
    assert bill_snapshot() == before
    assert len(refresh_server.received) == 1


def test_an_unreachable_module_fails_the_fetch(employee, seed):
    with socket.socket() as probe:  # a port that was free a moment ago: nobody listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    BusinessService.objects.filter(tenant__code="pb", code="PT").update(
        demand_refresh_url=f"http://127.0.0.1:{port}{REFRESH_PATH}"
    )
    create(employee, pt_demand("PT-1"))
    before = bill_snapshot()

    with pytest.raises(DomainError) as info:
        fetch_with_info(employee, "PT-1")

    assert (info.value.code, info.value.message) == (
        "EG_BS_DEMAND_REFRESH_FAILED",
        "The demand refresh of business service PT failed: ConnectError",
    )
    assert bill_snapshot() == before


def test_the_bill_is_built_from_the_demand_the_module_refreshed(employee, refresh_server):
    [demand] = create(employee, pt_demand(details=(line("PT_TAX", "500"),)))
    [old] = fetch_with_info(employee, "PT-107-001")

    def recalculate() -> None:
        # The calculator adds interest through /demand/_update while the fetch waits for its answer. It could
        # not take the consumer's lock if the fetch held it: the fetch's refresh runs outside its transaction.
        current = Demand.objects.select_related("tenant").get(pk=demand.pk)
        set_tax(employee, current, "PT_TAX", "500", at=LATER, add=(line("PT_TIME_INTEREST", "40"),))

    refresh_server.on_request = recalculate

    [new] = fetch_with_info(employee, "PT-107-001", at=LATER)

    assert refresh_server.outcomes == ["ok"]
    assert (new.total_amount, new.revision, new.bill_number) == (Decimal("540.00"), 2, "BILLNO-PT-000002")
    assert [[(a.tax_head_code, a.amount) for a in d.account_details.all()] for d in new.details.all()] == [
        [("PT_TAX", Decimal("500.00")), ("PT_TIME_INTEREST", Decimal("40.00"))]
    ]
    assert Bill.objects.get(pk=old.pk).status == BillStatus.EXPIRED
    assert ConsumerAccount.objects.get().revision == 2


def test_a_module_that_updates_the_demand_on_the_first_fetch(employee, refresh_server):
    [demand] = create(employee, pt_demand(details=(line("PT_TAX", "500"),)))
    refresh_server.on_request = lambda: set_tax(
        employee, Demand.objects.select_related("tenant").get(pk=demand.pk), "PT_TAX", "450", at=AT
    )

    [bill] = fetch_with_info(employee, "PT-107-001")

    assert refresh_server.outcomes == ["ok"]
    assert (bill.total_amount, bill.revision, Bill.objects.count()) == (Decimal("450.00"), 2, 1)


def test_the_refresh_refuses_to_run_inside_a_transaction(employee, refresh_server):
    with pytest.raises(RuntimeError, match="must not run inside a database transaction"), transaction.atomic():
        demand_refresh(url=refresh_server.url, tenant_id="pb.amritsar", business_service="PT", consumer_codes=["PT-1"])

    assert refresh_server.received == []


def test_a_fetch_inside_a_callers_transaction_is_refused_before_any_call(employee, refresh_server):
    create(employee, pt_demand("PT-1"))

    with pytest.raises(RuntimeError), transaction.atomic():
        fetch_with_info(employee, "PT-1")

    assert refresh_server.received == []
    assert Bill.objects.count() == 0


def test_no_url_no_call(employee, refresh_server):
    BusinessService.objects.filter(tenant__code="pb", code="PT").update(demand_refresh_url="")
    create(employee, pt_demand("PT-1"))

    [bill] = fetch_with_info(employee, "PT-1")

    assert bill.total_amount == Decimal("500.00")
    assert refresh_server.received == []


def test_refresh_without_consumer_codes_or_url_does_nothing(refresh_server):
    demand_refresh(url=refresh_server.url, tenant_id="pb.amritsar", business_service="PT", consumer_codes=[])
    demand_refresh(url="", tenant_id="pb.amritsar", business_service="PT", consumer_codes=["PT-1"])

    assert refresh_server.received == []
