"""Reads of payments: a payment with everything it recorded, lookups by id, by bill and by receipt number."""

from __future__ import annotations

import uuid

from django.db.models import Prefetch, QuerySet

from billing_project.errors import NotFound
from billing_project.uuids import uuid_or_404
from bills.models import Bill, BillAccountDetail, BillDetail
from masters.access import Caller
from masters.models import Role
from payments.errors import PAYMENT_NOT_FOUND
from payments.models import Payment, PaymentAccountLine, PaymentApplication, PaymentDetail, PaymentWriteBack

PAYMENT_ROLES = (Role.CASHIER, Role.EMPLOYEE, Role.BILLING_ADMIN, Role.SYSTEM)


def payment_account_lines_queryset() -> QuerySet[PaymentAccountLine]:
    """A payment detail's account lines as :func:`payments_with_details` loads them."""
    return PaymentAccountLine.objects.order_by("pk")


def payment_details_queryset() -> QuerySet[PaymentDetail]:
    """A payment's details as :func:`payments_with_details` loads them (bill, account lines)."""
    return (
        PaymentDetail.objects.select_related("bill")
        .order_by("receipt_number")
        .prefetch_related(Prefetch("account_lines", queryset=payment_account_lines_queryset()))
    )


def payments_with_details() -> QuerySet[Payment]:
    """Payments with tenant, payer, details (with their bill) and account lines loaded: what a receipt shows."""
    return Payment.objects.select_related("tenant", "payer").prefetch_related(
        Prefetch("details", queryset=payment_details_queryset())
    )


def payments_with_write_back() -> QuerySet[Payment]:
    """As :func:`payments_with_details`, plus what each payment wrote to the demands and its write-back markers."""
    return payments_with_details().prefetch_related(
        Prefetch(
            "details__applications",
            queryset=PaymentApplication.objects.select_related("demand_detail").order_by("pk"),
        ),
        Prefetch("write_backs", queryset=PaymentWriteBack.objects.order_by("at", "pk")),
    )


def payment_get(payment_id: uuid.UUID | str) -> Payment:
    """The payment with this id (tenant loaded); ``PAYMENT_NOT_FOUND`` when there is none."""
    key = uuid_or_404(payment_id, code=PAYMENT_NOT_FOUND, message=f"No payment {payment_id}")
    payment = Payment.objects.select_related("tenant").filter(pk=key).first()
    if payment is None:
        raise NotFound(PAYMENT_NOT_FOUND, f"No payment {payment_id}")
    return payment


def bill_details_prefetch() -> Prefetch[str, QuerySet[BillDetail], str]:
    """A bill's details with their account lines, in apportioning order: oldest period first, and within a
    period by (order, tax head code) so that ties in the apportionment are broken the same way every time."""
    return Prefetch(
        "details",
        queryset=BillDetail.objects.order_by("from_period", "to_period", "pk").prefetch_related(
            Prefetch("account_details", queryset=BillAccountDetail.objects.order_by("order", "tax_head_code", "pk"))
        ),
    )


def bills_of_payment(payment: Payment) -> list[Bill]:
    """The bills a payment paid (tenant loaded)."""
    return list(Bill.objects.select_related("tenant").filter(payment_details__payment=payment).order_by("pk"))


def payments_for_bill(bill_id: uuid.UUID) -> QuerySet[Payment]:
    """The payments that paid a bill (at most one: a bill is paid once)."""
    return payments_with_details().filter(details__bill_id=bill_id)


def payment_by_receipt_number(tenant_code: str, receipt_number: str) -> Payment | None:
    return payments_with_details().filter(tenant__code=tenant_code, details__receipt_number=receipt_number).first()


def payments_visible_to(caller: Caller) -> QuerySet[Payment]:
    """Payments (with details and account lines) of the tenants where the caller holds a payment role."""
    return payments_with_details().filter(caller.tenant_q("tenant__code", PAYMENT_ROLES))
