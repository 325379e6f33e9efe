"""Admin of gateway transactions (changelist, reconciliation queue, actions poll now / reconcile now / refund)
and the Celery tasks with their beat schedules."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django_celery_beat.models import PeriodicTask

from billing_project import clock
from bills.models import Bill
from masters.access import Caller
from masters.models import Role
from payments.gateway import tasks
from payments.gateway.models import GatewayAttempt, GatewayRefund, GatewayTransaction, TransactionStatus
from payments.gateway.services import gateway_payment_initiate
from payments.models import Payment
from tests.payments.conftest import CITY, PAY_AT, pay
from tests.payments.gateway.conftest import make_txn
from tests.sandbox_gateway import RunningSandbox

D = Decimal
CHANGELIST = "/admin/gateway/gatewaytransaction/"
QUEUE = "/admin/gateway/reconciliationqueueitem/"
LATER = PAY_AT + dt.timedelta(minutes=5)
pytestmark = pytest.mark.django_db


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw")


def act(client: Any, action: str, txns: list[GatewayTransaction], url: str = CHANGELIST, **data: Any) -> Any:
    with clock.frozen(LATER):
        return client.post(url, {"action": action, "_selected_action": [str(t.pk) for t in txns], **data}, follow=True)


def texts(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_changelist_and_queue_show_the_right_rows(client: Any, root: Any, bill: Bill) -> None:
    plain = make_txn(bill, "1100")
    queued = make_txn(bill, "100", needs_attention=True, attention_reason="POLLS_EXHAUSTED")
    client.force_login(root)
    listing = client.get(CHANGELIST).content.decode()
    queue = client.get(QUEUE).content.decode()
    detail = client.get(f"{CHANGELIST}{plain.pk}/change/")
    assert plain.merchant_reference in listing
    assert queued.merchant_reference in listing
    assert queued.merchant_reference in queue
    assert plain.merchant_reference not in queue
    assert detail.status_code == 200
    assert client.get(f"{CHANGELIST}?status__exact=PENDING&needs_attention__exact=1").status_code == 200


def test_poll_now_and_reconcile_now_call_the_services(
    client: Any, root: Any, payer: Caller, bill: Bill, sandbox: RunningSandbox
) -> None:
    txn = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D("1100"), at=PAY_AT)
    client.force_login(root)
    assert texts(act(client, "poll_now", [txn])) == [("info", f"{txn.merchant_reference}: PENDING")]
    sandbox.approve(txn.gateway_transaction_id or "")
    assert texts(act(client, "reconcile_now", [txn])) == [("info", f"{txn.merchant_reference}: SUCCESS")]
    assert GatewayTransaction.objects.get(pk=txn.pk).status == TransactionStatus.SUCCESS


def snapshot(*txns: GatewayTransaction) -> list[tuple[Any, ...]]:
    fields = ("status", "attempt_count", "last_reconciled_at", "payment_id", "updated_at")
    return [(*GatewayTransaction.objects.filter(pk=t.pk).values_list(*fields)[0], t.attempts.count()) for t in txns]


def requested_refund(txn: GatewayTransaction) -> GatewayRefund:
    return GatewayRefund.objects.create(
        transaction=txn,
        reference="RFD-lost-answer",
        amount=D("100"),
        reason="answer lost",
        requested_by="root",
        created_at=PAY_AT,
        updated_at=PAY_AT,
    )


def test_reconcile_now_reconciles_only_the_selected_rows(
    client: Any, root: Any, payer: Caller, bill: Bill, sandbox: RunningSandbox
) -> None:
    """Never the global job inside the request: other open rows and other rows' lost refunds are left alone."""
    chosen = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D("100"), at=PAY_AT)
    other = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D("200"), at=PAY_AT)
    settled = make_txn(bill, "100", status=TransactionStatus.SUCCESS)
    refund = requested_refund(settled)
    sandbox.approve(chosen.gateway_transaction_id or "")
    sandbox.approve(other.gateway_transaction_id or "")
    untouched = snapshot(other, settled)
    client.force_login(root)

    assert texts(act(client, "reconcile_now", [chosen])) == [("info", f"{chosen.merchant_reference}: SUCCESS")]

    fresh = GatewayTransaction.objects.get(pk=chosen.pk)
    assert (fresh.status, fresh.verdict_source, fresh.last_reconciled_at) == ("SUCCESS", "RECONCILE", LATER)
    assert Payment.objects.get().pk == fresh.payment_id
    assert snapshot(other, settled) == untouched
    refund.refresh_from_db()
    assert (refund.status, refund.error) == ("REQUESTED", "")


def test_reconcile_now_resends_the_selected_rows_lost_refunds(client: Any, root: Any, bill: Bill) -> None:
    settled = make_txn(bill, "100", status=TransactionStatus.SUCCESS)  # the gateway (nothing listens) is down
    refund = requested_refund(settled)
    client.force_login(root)
    assert texts(act(client, "reconcile_now", [settled])) == [("info", f"{settled.merchant_reference}: SUCCESS")]
    refund.refresh_from_db()
    assert refund.status == "REQUESTED"
    assert (
        list(GatewayAttempt.objects.filter(transaction=settled).values_list("kind", "outcome"))
        == [("REFUND", "TRANSIENT")] * 3
    )  # re-sent: three calls in place (PAYMENT_GATEWAY_CALL_ATTEMPTS), all failing; still REQUESTED


@pytest.mark.parametrize(("role", "allowed"), [(Role.CASHIER, False), (Role.BILLING_ADMIN, True)])
def test_reconcile_now_needs_billing_admin_of_the_rows_tenant(
    client: Any, user_factory: Any, payer: Caller, bill: Bill, sandbox: RunningSandbox, role: str, allowed: bool
) -> None:
    txn = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D("1100"), at=PAY_AT)
    sandbox.approve(txn.gateway_transaction_id or "")
    staff = user_factory(f"staff-{role.lower()}", {CITY: [role]})
    staff.is_staff = True
    staff.save()
    staff.user_permissions.add(*Permission.objects.filter(codename="view_gatewaytransaction"))
    before = snapshot(txn)
    client.force_login(staff)

    answer = texts(act(client, "reconcile_now", [txn]))

    if allowed:
        assert answer == [("info", f"{txn.merchant_reference}: SUCCESS")]
        assert GatewayTransaction.objects.get(pk=txn.pk).status == "SUCCESS"
    else:
        assert answer == [
            (
                "error",
                f"{txn.merchant_reference}: PERMISSION_DENIED: You need one of the roles BILLING_ADMIN in "
                f"{CITY} to reconcile this online payment.",
            )
        ]
        assert snapshot(txn) == before
        assert Payment.objects.count() == 0


def test_reconcile_now_refuses_more_than_twenty_rows(client: Any, root: Any, bill: Bill) -> None:
    txns = [make_txn(bill, "10") for _ in range(21)]
    before = snapshot(*txns)
    client.force_login(root)
    assert texts(act(client, "reconcile_now", txns)) == [
        (
            "error",
            "Select at most 20 transactions to reconcile now; the scheduled reconciliation handles the rest.",
        )
    ]
    assert snapshot(*txns) == before


def test_refund_action_asks_a_reason_and_reports_domain_errors(
    client: Any, root: Any, payer: Caller, cashier: Caller, bill: Bill, sandbox: RunningSandbox
) -> None:
    txn = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D("1100"), at=PAY_AT)
    open_one = make_txn(bill, "100")
    sandbox.approve(txn.gateway_transaction_id or "")
    pay(cashier, bill, "1100")
    client.force_login(root)
    act(client, "poll_now", [txn])  # SUCCESS, unapplied

    form = act(client, "refund", [txn], url=QUEUE)
    assert form.templates[0].name == "admin/gateway/refund.html"
    done = act(client, "refund", [txn, open_one], url=CHANGELIST, apply="yes", reason="paid at the counter too")

    refund = GatewayRefund.objects.get()
    assert texts(done) == [
        (
            "error",
            f"{open_one.merchant_reference}: GATEWAY_REFUND_NOT_ALLOWED: Only a SUCCESS transaction can be "
            f"refunded; {open_one.merchant_reference} is PENDING",
        ),
        ("success", f"{txn.merchant_reference}: refund {refund.reference} 1100.00 SUCCESS"),
    ]


def test_beat_schedules_exist_and_name_registered_tasks(db: Any) -> None:
    rows = {
        row.name: (row.task, row.interval.every, row.interval.period, json.loads(row.kwargs), row.enabled)
        for row in PeriodicTask.objects.filter(task__startswith="payments.gateway.").select_related("interval")
    }
    assert rows == {
        "Poll due gateway transactions": ("payments.gateway.poll_due", 1, "minutes", {"limit": 100}, True),
        "Reconcile gateway transactions": ("payments.gateway.reconcile", 30, "minutes", {"limit": 500}, True),
    }
    assert tasks.poll_due.name == "payments.gateway.poll_due"
    assert tasks.reconcile.name == "payments.gateway.reconcile"
    assert tasks.poll_transaction.name == "payments.gateway.poll_transaction"
    assert all(task.acks_late for task in (tasks.poll_due, tasks.reconcile, tasks.poll_transaction))


def test_tasks_run_their_services_and_are_safe_to_repeat(payer: Caller, bill: Bill, sandbox: RunningSandbox) -> None:
    txn = gateway_payment_initiate(caller=payer, bill_id=bill.pk, amount=D("1100"), at=PAY_AT)
    sandbox.approve(txn.gateway_transaction_id or "")
    with clock.frozen(LATER):
        assert tasks.poll_due.apply(kwargs={"limit": 10}).get() == 1
        assert tasks.poll_transaction.apply(kwargs={"transaction_id": str(txn.pk)}).get() == "SUCCESS"
        assert tasks.reconcile.apply(kwargs={}).get() == {
            "checked": 0,
            "settled": 0,
            "still_open": 0,
            "errors": 0,
            "refunds_resent": 0,
        }
        assert tasks.poll_due.apply(kwargs={"limit": 10}).get() == 0
    assert GatewayTransaction.objects.get(pk=txn.pk).payment is not None
