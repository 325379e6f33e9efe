"""``payment_create``: take a counter payment over one or more bills (reference §7.8, §7.9; DESIGN §4).

1. Validate (``payment_validate``): roles, shape, totals, instrument, bills, business-service rules.
2. One durable transaction: lock the consumer accounts, the demands and their lines, then the bills; re-check
   every bill is ACTIVE and current under the lock (so two payments of one bill cannot both pass);
   apportion each bill (``demands.domain.apportion.apportion_payment``); draw the receipt numbers; store the
   payment, its details and account lines, the bills' paid amounts and status; then write back to the demands
   (``writeback_apply``: collections, advance lines, completion flags, one revision bump, history).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction

from billing_project.db import is_unique_violation, update_rows
from billing_project.errors import ConflictError, DomainError
from billing_project.money import ZERO, money_sum, to_money
from bills.models import Bill, BillAccountDetail, BillDetail, BillStatus
from demands.domain.apportion import (
    ApportionError,
    ApportionRequest,
    ApportionResult,
    Bucket,
    Period,
    apportion_payment,
)
from masters.access import Caller
from payments.errors import PAYMENT_DUPLICATE_TRANSACTION_NUMBER, bill_already_paid
from payments.models import (
    InstrumentStatus,
    Payment,
    PaymentAccountLine,
    PaymentDetail,
    PaymentMode,
    PaymentStatus,
    ReceiptType,
)
from payments.selectors import payments_with_details
from payments.services.hooks import payment_recorded
from payments.services.inputs import PaymentInput
from payments.services.locking import Locked, lock_for_bills
from payments.services.receipts import receipt_numbers_draw
from payments.services.stored import payment_as_stored
from payments.services.validation import PaymentPlan, ServiceRules, bill_state_error, payment_validate
from payments.services.writeback import DetailRecord, writeback_apply

# Modes settled at once (reference PaymentEnricher): the payment is DEPOSITED and the instrument REMITTED.
SETTLED_MODES = frozenset({PaymentMode.ONLINE, PaymentMode.CARD})
# Modes whose instrument date is the transaction date when none is given.
SAME_DAY_MODES = frozenset({PaymentMode.CASH, PaymentMode.CARD, PaymentMode.ONLINE})

TRANSACTION_NUMBER_UNIQUE = "payments_payment_unique_transaction_number"
ONE_PAYMENT_PER_BILL = "payments_paymentdetail_one_per_bill"


def payment_create(*, caller: Caller, payment: PaymentInput, at: dt.datetime) -> Payment:
    """Validate, apportion and record a payment, and write it back to the demands. All or nothing.

    Answers the payment as ``payments_with_details`` reads it, built from the rows written when that is exact
    (``payment_as_stored``), read back after the commit otherwise."""
    plan = payment_validate(caller=caller, payment=payment, at=at)
    try:
        with transaction.atomic(durable=True):
            stored, records, locked = _payment_record(caller=caller, plan=plan, at=at)
    except IntegrityError as exc:
        raise payment_integrity_error(exc, plan) from exc
    if len(records) == 1:
        [record] = records
        bill = locked.bills[record.detail.bill_id]
        built = payment_as_stored(
            payment=stored,
            detail=record.detail,
            account_lines=record.account_lines,
            bill=bill,
            tenant=bill.tenant,
            payer=plan.payer,
        )
        if built is not None:
            return built
    return payments_with_details().get(pk=stored.pk)


def payment_record(*, caller: Caller, plan: PaymentPlan, at: dt.datetime) -> Payment:
    """Record a validated payment inside the caller's transaction (gateway completion and batch imports write
    their own row in the same transaction). Locks, re-checks the bills under the lock, apportions, draws the
    receipt numbers, stores and writes back. The caller maps an ``IntegrityError`` with
    ``payment_integrity_error``."""
    return _payment_record(caller=caller, plan=plan, at=at)[0]


def _payment_record(
    *, caller: Caller, plan: PaymentPlan, at: dt.datetime
) -> tuple[Payment, list[DetailRecord], Locked]:
    """``payment_record``, answering also the details and account lines written and the locked rows."""
    payment = plan.payment
    with transaction.atomic(savepoint=False):
        locked = lock_for_bills(bills=[plan.bills[bill_id] for bill_id in plan.bill_ids])
        for bill_id in plan.bill_ids:
            bill = locked.bills[bill_id]
            error = bill_state_error(bill, locked.account_of(bill), at)
            if error is not None:
                raise error
        results = {
            bill_id: _apportion(
                locked.bills[bill_id],
                to_money(detail.total_amount_paid),
                plan.services[locked.bills[bill_id].business_service],
            )
            for bill_id, detail in zip(plan.bill_ids, payment.details, strict=True)
        }
        receipts = receipt_numbers_draw(
            tenant_code=payment.tenant_code,
            modules=[locked.bills[bill_id].business_service for bill_id in plan.bill_ids],
            at=at,
        )
        stored, records = _record(plan, locked, results, receipts, actor=caller.username, at=at)
        writeback_apply(payment=stored, locked=locked, actor=caller.username, at=at, records=records)
        payment_recorded(payment_id=stored.pk, actor=caller.username, at=at)
    return stored, records, locked


def payment_integrity_error(exc: IntegrityError, plan: PaymentPlan) -> Exception:
    """The domain error for a unique violation raised by ``payment_record`` (or ``exc`` itself when unknown)."""
    payment = plan.payment
    if is_unique_violation(exc, Payment, TRANSACTION_NUMBER_UNIQUE):
        return ConflictError(
            PAYMENT_DUPLICATE_TRANSACTION_NUMBER,
            f"A payment with transaction number {payment.transaction_number!r} exists in {payment.tenant_code}",
        )
    if is_unique_violation(exc, PaymentDetail, ONE_PAYMENT_PER_BILL):  # pragma: no cover - the bill lock wins
        return bill_already_paid(", ".join(map(str, plan.bill_ids)))
    return exc


def _apportion(bill: Bill, amount_paid: Decimal, rules: ServiceRules) -> ApportionResult:
    """The reference's bill-level apportion over the bill's details and account lines (§7.8.2)."""
    periods = tuple(
        Period(
            key=str(detail.pk),
            period_from=detail.from_period,
            buckets=tuple(
                Bucket(
                    key=str(line.pk),
                    tax_head_code=line.tax_head_code,
                    order=line.order,
                    amount=line.amount,
                    is_advance=line.tax_head_code in rules.advance_heads,
                )
                for line in detail.account_details.all()
            ),
        )
        for detail in bill.details.all()
    )
    try:
        return apportion_payment(
            ApportionRequest(
                periods=periods,
                amount_paid=amount_paid,
                advance_allowed=rules.is_advance_allowed,
                advance_tax_head=rules.advance_tax_head,
            )
        )
    except ApportionError as exc:
        raise DomainError(exc.code, exc.message) from exc


def _record(
    plan: PaymentPlan,
    locked: Locked,
    results: dict[uuid.UUID, ApportionResult],
    receipts: list[str],
    *,
    actor: str,
    at: dt.datetime,
) -> tuple[Payment, list[DetailRecord]]:
    """Insert the payment, its details and account lines; store the bills' paid amounts and status."""
    data = plan.payment
    first_bill = locked.bills[plan.bill_ids[0]]
    transaction_date = data.transaction_date or at
    instrument_date = data.instrument_date
    if instrument_date is None and data.payment_mode in SAME_DAY_MODES:
        instrument_date = transaction_date
    settled = data.payment_mode in SETTLED_MODES
    payment = Payment(
        id=uuid.uuid4(),
        tenant=first_bill.tenant,
        total_due=money_sum(locked.bills[bill_id].total_amount for bill_id in plan.bill_ids),
        total_amount_paid=to_money(data.total_amount_paid),
        payment_mode=data.payment_mode,
        instrument_number=data.instrument_number.strip(),
        instrument_date=instrument_date,
        instrument_status=InstrumentStatus.REMITTED if settled else InstrumentStatus.APPROVED,
        ifsc_code=data.ifsc_code,
        transaction_number=data.transaction_number.strip(),
        transaction_date=transaction_date,
        paid_by=data.paid_by,
        payer_name=data.payer_name or first_bill.payer_name,
        payer_address=data.payer_address or first_bill.payer_address,
        payer_email=data.payer_email or first_bill.payer_email,
        mobile_number=data.mobile_number or first_bill.mobile_number,
        payer=plan.payer,
        status=PaymentStatus.DEPOSITED if settled else PaymentStatus.NEW,
        additional_details=data.additional_details,
        created_by=actor,
        created_at=at,
        modified_by=actor,
        modified_at=at,
    )
    payment.save(force_insert=True)
    details: list[PaymentDetail] = []
    records: list[DetailRecord] = []
    account_lines: list[PaymentAccountLine] = []
    bill_details: list[BillDetail] = []
    bad_rows: list[BillAccountDetail] = []
    bills: list[Bill] = []
    for bill_id, detail_input, receipt in zip(plan.bill_ids, data.details, receipts, strict=True):
        bill = locked.bills[bill_id]
        result = results[bill_id]
        paid = to_money(detail_input.total_amount_paid)
        detail = PaymentDetail(
            id=uuid.uuid4(),
            payment=payment,
            bill=bill,
            business_service=bill.business_service,
            total_due=bill.total_amount,
            total_amount_paid=paid,
            receipt_number=receipt,
            receipt_date=at,
            receipt_type=ReceiptType.BILLBASED,
            manual_receipt_number=detail_input.manual_receipt_number,
            additional_details=detail_input.additional_details,
        )
        details.append(detail)
        first_line = len(account_lines)
        advance = result.advance
        for bill_detail in bill.details.all():
            bill_detail.amount_paid = result.amount_paid(str(bill_detail.pk))
            bill_details.append(bill_detail)
            for line in bill_detail.account_details.all():
                line.adjusted_amount = result.adjusted_amount(str(line.pk))
                bad_rows.append(line)
                kept = advance.amount if advance is not None and advance.line_key == str(line.pk) else ZERO
                account_lines.append(
                    PaymentAccountLine(
                        payment_detail=detail,
                        bill_detail=bill_detail,
                        bill_account_detail=line,
                        tax_head_code=line.tax_head_code,
                        amount=line.amount,
                        adjusted_amount=line.adjusted_amount,
                        advance_amount=kept,
                    )
                )
            if advance is not None and advance.line_key is None and advance.period_key == str(bill_detail.pk):
                account_lines.append(
                    PaymentAccountLine(
                        payment_detail=detail,
                        bill_detail=bill_detail,
                        bill_account_detail=None,
                        tax_head_code=advance.tax_head_code,
                        amount=ZERO,
                        adjusted_amount=ZERO,
                        advance_amount=advance.amount,
                    )
                )
        records.append(DetailRecord(detail, tuple(account_lines[first_line:])))
        bill.status = BillStatus.PAID if paid >= bill.total_amount else BillStatus.PARTIALLY_PAID
        bill.modified_by, bill.modified_at = actor, at
        bills.append(bill)
    PaymentDetail.objects.bulk_create(details)
    PaymentAccountLine.objects.bulk_create(account_lines)
    update_rows(BillDetail, [(row.pk, row.amount_paid) for row in bill_details], fields=("amount_paid",))
    update_rows(BillAccountDetail, [(row.pk, row.adjusted_amount) for row in bad_rows], fields=("adjusted_amount",))
    update_rows(
        Bill,
        [(bill.pk, bill.status) for bill in bills],
        fields=("status",),
        same={"modified_by": actor, "modified_at": at},
    )
    return payment, records
