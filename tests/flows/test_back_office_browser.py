"""The back-office in a real browser (Chromium, headless), against the live server on PostgreSQL.

Four days at the office: a cashier takes a cash payment and opens the receipt; an approver approves an
amendment another user created and cannot approve her own; a billing administrator starts a billing run and
watches it finish; a cashier of another city cannot reach Amritsar's consumer. With ``BROWSER_SCREENSHOTS``
set, the same runs save the screenshots of docs/back-office.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from amendments.models import Amendment
from billing_project import clock
from bills.models import BillingRun, RunStatus
from bills.services.runs import billing_run_advance, billing_run_create
from demands.models import ConsumerAccount
from demands.services import DemandInput, PayerInput, demand_create
from masters.access import Caller, caller_for
from masters.models import Role
from payments.models import Payment
from tests.amendments.conftest import amend
from tests.browser import BROWSER_MARKS, login, snap
from tests.demands.conftest import line, pt_demand

pytestmark = BROWSER_MARKS


def consumer(caller: Caller, code: str, name: str, mobile: str, *amounts: tuple[str, str]) -> ConsumerAccount:
    demand: DemandInput = pt_demand(
        code, details=tuple(line(h, a) for h, a in amounts), payer=PayerInput(name=name, mobile_number=mobile)
    )
    demand_create(caller=caller, demands=[demand], at=clock.now())
    return ConsumerAccount.objects.get(consumer_code=code, tenant__code="pb.amritsar")


def test_a_cashier_takes_a_cash_payment_and_opens_the_receipt(
    page: Any, live_server: Any, employee: Caller, user_factory: Callable[..., Any]
) -> None:
    account = consumer(employee, "PT-107-001", "Asha Verma", "9876500001", ("PT_TAX", "1000"), ("PT_FIRE_CESS", "20"))
    user_factory("cashier", {"pb.amritsar": [Role.CASHIER]})
    login(page, live_server, "cashier", "pw-cashier")
    snap(page, "start-page-cashier")

    page.click("#work-pages >> text=Counter desk")
    page.fill("#desk-q", "asha")  # results as you type: no Enter
    page.wait_for_selector("#results >> text=PT-107-001")
    snap(page, "counter-desk-search")
    page.click("#results a.button")
    page.wait_for_selector("#fetch-bill")
    assert page.inner_text("#total-due") == "₹ 1020.00"
    page.click("#fetch-bill")
    page.wait_for_selector("#pay-form")
    assert "Part payment is allowed." in page.inner_text("#rules")
    assert page.input_value("#id_amount") == "1020.00"
    assert page.is_hidden("#id_instrument_number")  # cash needs no instrument
    page.select_option("#id_payment_mode", "CHEQUE")
    assert page.is_visible("#id_instrument_number")
    page.select_option("#id_payment_mode", "CASH")
    page.fill("#id_paid_by", "Asha Verma")
    snap(page, "counter-desk-payment", full_page=True)
    page.dblclick("#submit-payment")  # a double click records one payment
    page.wait_for_selector("#payment-done")
    snap(page, "counter-desk-paid")

    payment = Payment.objects.get()
    receipt = payment.details.get().receipt_number
    assert (payment.total_amount_paid, payment.payment_mode, payment.created_by) == (
        Decimal("1020.00"),
        "CASH",
        "cashier",
    )
    assert receipt in page.inner_text("#payment-done")
    with page.expect_popup() as opened:
        page.click("#print-receipt")
    printed = opened.value
    printed.wait_for_load_state()
    assert receipt in printed.content()
    assert "1020.00" in printed.content()
    snap(printed, "receipt", full_page=True)
    page.goto(f"{live_server.url}/admin/counter/consumer/{account.pk}/")
    assert receipt in page.inner_text("#payments")
    snap(page, "consumer-page", full_page=True)
    assert Payment.objects.count() == 1


def test_an_approver_approves_anothers_amendment_and_not_her_own(
    page: Any, live_server: Any, employee: Caller, wc_masters: Any, user_factory: Callable[..., Any]
) -> None:
    theirs = amend(employee, "WS-107-001", at=clock.now())
    meena = user_factory("meena", {"pb.amritsar": [Role.EMPLOYEE, Role.AMENDMENT_APPROVER]})
    hers = amend(caller_for(meena), "WS-107-002", at=clock.now())
    login(page, live_server, "meena", "pw-meena")
    snap(page, "start-page-approver")

    page.click("#work-pages >> text=Amendments awaiting approval")
    page.wait_for_selector("#result_list")
    assert page.locator("#result_list tbody tr").count() == 2
    snap(page, "amendments-list")
    page.click(f"text={theirs.amendment_id}")
    page.wait_for_selector("#decide-approve")
    snap(page, "amendment-page", full_page=True)
    page.click("#decide-approve")
    page.fill("#id_comment", "Court order checked")
    page.click("#decide-submit")
    page.wait_for_selector(f".messagelist >> text=Approved amendment {theirs.amendment_id}.")
    assert Amendment.objects.get(pk=theirs.pk).state == "APPROVED"

    page.goto(f"{live_server.url}/admin/amendments/amendment/{hers.pk}/change/")
    assert page.is_visible("#own-amendment")
    assert page.locator("#decide-approve").count() == 0
    page.goto(f"{live_server.url}/admin/amendments/amendment/{hers.pk}/decide/approve/")  # the service still decides
    page.click("#decide-submit")
    assert "EG_BS_AMENDMENT_SELF_APPROVAL" in page.inner_text("#decision-error")
    assert Amendment.objects.get(pk=hers.pk).state == "APPROVALPENDING"


def test_a_billing_admin_starts_a_run_and_watches_it_finish(
    page: Any, live_server: Any, employee: Caller, user_factory: Callable[..., Any]
) -> None:
    for i in range(3):
        consumer(employee, f"PT-R-{i}", f"Owner {i}", f"98000000{i:02d}", ("PT_TAX", "100"))
    user_factory("billadmin", {"pb.amritsar": [Role.BILLING_ADMIN]})
    login(page, live_server, "billadmin", "pw-billadmin")

    page.click("#work-pages >> text=Start a billing run")
    page.select_option("#id_tenant", "pb.amritsar")
    page.select_option("#id_business_service", "PT")
    page.fill("#id_consumer_codes", "PT-R-0, PT-R-1")
    page.fill("#id_chunk_size", "1")
    snap(page, "billing-run-start")
    page.click("#start-run-submit")
    page.wait_for_selector("#run-progress")
    # With no broker the run is done in-process before its page opens: it is finished.
    assert page.inner_text("#run-status") == "Completed"
    assert page.get_attribute("#run-bar", "value") == "100.0"
    assert "2 of 2 consumers · 2 bills" in page.inner_text("#run-counts")

    # A run a worker does: its page follows the progress live, without a reload.
    run = billing_run_create(
        caller=employee,
        tenant_code="pb.amritsar",
        business_service="PT",
        consumer_codes=["PT-R-2"],
        chunk_size=1,
        at=clock.now(),
    )
    BillingRun.objects.filter(pk=run.pk).update(total_consumers=1)
    page.goto(f"{live_server.url}/admin/bills/billingrun/{run.pk}/change/")
    assert page.inner_text("#run-status") == "Waiting to start"
    page.evaluate("window.notReloaded = true")
    assert billing_run_advance(run_id=run.pk) is False  # the worker does the one chunk
    page.wait_for_function("document.getElementById('run-counts').textContent.startsWith('1 of 1')")
    assert billing_run_advance(run_id=run.pk) is True  # and finds nothing more: COMPLETED
    page.wait_for_function("document.getElementById('run-status').textContent === 'Completed'")
    assert page.get_attribute("#run-bar", "value") in ("100", "100.0")
    assert page.evaluate("window.notReloaded") is True
    snap(page, "billing-run-finished", full_page=True)
    assert BillingRun.objects.get(pk=run.pk).status == RunStatus.COMPLETED


def test_a_cashier_of_another_city_cannot_reach_the_consumer(
    page: Any, live_server: Any, employee: Caller, user_factory: Callable[..., Any]
) -> None:
    account = consumer(employee, "PT-107-001", "Asha Verma", "9876500001", ("PT_TAX", "1000"))
    user_factory("cashier-jal", {"pb.jalandhar": [Role.CASHIER]})
    login(page, live_server, "cashier-jal", "pw-cashier-jal")
    assert "Jalandhar" in page.inner_text("#site-name") or "pb.jalandhar" in page.inner_text("#site-name")
    page.goto(f"{live_server.url}/admin/counter/?q=PT-107-001")
    assert "No consumer matches “PT-107-001” in your cities." in page.inner_text("#results")
    for url in ("", "pay/"):
        response = page.goto(f"{live_server.url}/admin/counter/consumer/{account.pk}/{url}")
        assert response is not None
        assert response.status == 404
    response = page.goto(f"{live_server.url}/admin/demands/consumeraccount/{account.pk}/change/")
    assert response is not None
    assert re.search(r"/admin/(\?|$)", page.url)  # not theirs: sent back home
