"""Applying DIGIT collection-services' payment messages to our demands, exactly once.

``digit_payment_event_handle`` handles one Kafka message in one durable transaction:

1. The message's row (``DigitPaymentEvent``, unique per topic/partition/offset) is inserted; a message that has a
   row already (redelivered after a crash, before its offset was committed) changes nothing.
2. payment-create: a payment whose id we know (a replay, or a payment this service took and published itself) is a
   DUPLICATE. Otherwise the bills it pays are locked in the project's order (consumer accounts → demands → bills),
   the payment is recorded under DIGIT's id with DIGIT's receipt numbers and apportionment (the bill's
   ``billAccountDetails[].adjustedAmount``, an advance line as DIGIT writes it), the bills become PAID or
   PARTIALLY_PAID and the amounts are written back to the demand details (``writeback_apply``: the same write-back
   as our own payments, so a later reversal undoes exactly this).
3. payment-cancel: CANCELLED or DISHONOURED reverses exactly what the payment applied (``payment_reverse_record``);
   DEPOSITED (a remittance, which DIGIT also publishes on this topic) marks the payment remitted and touches no
   demand. A payment already reversed is a DUPLICATE.
4. A message that cannot be applied (not JSON, not a payment, a bill we do not have, amounts that do not add up, a
   write-back the demands no longer allow...) is PARKED with its error code and message — the partial write is
   rolled back to a savepoint, the event row stays — so the consumer commits the offset and moves on. Staff retry
   it from the admin (``digit_payment_event_retry``) once the cause is fixed. A cancel parked because its create had
   not arrived yet is retried by itself when the create is applied.

Database outages (``OperationalError``/``InterfaceError``) are not parked: they propagate, nothing is committed,
and the consumer retries the same message later without committing its offset.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, transaction

from billing_project.db import update_rows
from billing_project.errors import DomainError
from billing_project.money import ZERO, money_sum
from bills.models import Bill, BillAccountDetail, BillDetail, BillStatus
from masters.models import Payer, TaxHeadCategory, Tenant
from masters.selectors import tax_heads_for
from payments.digit_events.domain.messages import DigitPayment, MessageInvalid, parse_payment_message, payment_id_of
from payments.digit_events.models import DigitPaymentEvent, EventKind, EventStatus
from payments.models import (
    InstrumentStatus,
    Payment,
    PaymentAccountLine,
    PaymentDetail,
    PaymentMode,
    PaymentStatus,
    ReceiptType,
)
from payments.selectors import bills_of_payment
from payments.services import (
    REVERSED_STATUSES,
    DetailRecord,
    Locked,
    lock_for_bills,
    payment_reverse_record,
    writeback_apply,
)

logger = logging.getLogger(__name__)

MISSING_PAYMENT = "DIGIT_PAYMENT_NOT_FOUND"


def base_topics() -> dict[str, str]:
    """Base topic name → event kind."""
    return {
        settings.DIGIT_KAFKA_TOPIC_PAYMENT_CREATE: EventKind.PAYMENT_CREATE,
        settings.DIGIT_KAFKA_TOPIC_PAYMENT_CANCEL: EventKind.PAYMENT_CANCEL,
    }


def subscribed_topics() -> list[str]:
    """The topics to consume: the base names (unless turned off) and ``<state>-<name>`` for each configured state."""
    names = list(base_topics())
    topics = list(names) if settings.DIGIT_KAFKA_CONSUME_UNPREFIXED else []
    for state in settings.DIGIT_KAFKA_STATE_PREFIXES:
        topics.extend(f"{state.strip()}-{name}" for name in names if state.strip())
    return sorted(set(topics))


def kind_of(topic: str) -> str:
    kinds = base_topics()
    if topic in kinds:
        return kinds[topic]
    for name, kind in kinds.items():
        if topic.endswith("-" + name):
            return kind
    raise ValueError(f"{topic} is not a DIGIT payment topic")


class _Parked(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


def digit_payment_event_handle(
    *, topic: str, partition: int, offset: int, key: bytes | str | None, value: bytes | None, at: dt.datetime
) -> DigitPaymentEvent:
    """Record and apply one message; answers its event row (new, or the one recorded before for this offset)."""
    raw = value or b""
    text_key = key.decode("utf-8", "replace") if isinstance(key, bytes) else (key or "")
    kind = kind_of(topic)
    with transaction.atomic(durable=True):
        event = DigitPaymentEvent(
            topic=topic,
            partition=partition,
            offset=offset,
            key=text_key[:256],
            kind=kind,
            payment_id=payment_id_of(raw) or "",
            status=EventStatus.PARKED,
            payload=raw.decode("utf-8", "replace"),
            received_at=at,
            handled_at=at,
        )
        where = {"topic": topic, "partition": partition, "offset": offset}
        handled = DigitPaymentEvent.objects.select_for_update().filter(**where).first()
        if handled is not None:
            return handled  # redelivered (its offset was not committed before a crash): nothing changes
        try:
            with transaction.atomic(savepoint=True):
                event.save(force_insert=True)
        except IntegrityError:  # a concurrent consumer recorded it first
            return DigitPaymentEvent.objects.get(**where)
        claimed = event
        _process(claimed, raw, at)
        claimed.save()
    if claimed.kind == EventKind.PAYMENT_CREATE and claimed.status == EventStatus.APPLIED:
        _retry_waiting_cancels(claimed.payment_id, at)
    return claimed


def digit_payment_event_retry(*, event_id: int, at: dt.datetime) -> DigitPaymentEvent:
    """Apply a PARKED message again (after its cause was fixed); answers the event with its new status."""
    with transaction.atomic(durable=True):
        event = DigitPaymentEvent.objects.select_for_update().get(pk=event_id)
        if event.status != EventStatus.PARKED:
            return event
        event.attempts += 1
        _process(event, event.payload.encode("utf-8"), at)
        event.handled_at = at
        event.save()
    if event.kind == EventKind.PAYMENT_CREATE and event.status == EventStatus.APPLIED:
        _retry_waiting_cancels(event.payment_id, at)
    return event


def _retry_waiting_cancels(payment_id: str, at: dt.datetime) -> None:
    waiting = DigitPaymentEvent.objects.filter(
        kind=EventKind.PAYMENT_CANCEL, status=EventStatus.PARKED, payment_id=payment_id, error_code=MISSING_PAYMENT
    ).order_by("received_at", "pk")
    for event_id in waiting.values_list("pk", flat=True):
        digit_payment_event_retry(event_id=event_id, at=at)


def _process(event: DigitPaymentEvent, raw: bytes, at: dt.datetime) -> None:
    """Apply inside a savepoint; a refusal parks the event (its own row stays in the outer transaction)."""
    try:
        with transaction.atomic(savepoint=True):
            payment, info = parse_payment_message(raw)
            event.payment_id, event.tenant_code = str(payment.id), payment.tenant_id[:128]
            if event.kind == EventKind.PAYMENT_CREATE:
                status = _apply_create(payment, at)
            else:
                status = _apply_cancel(payment, info, at)
    except (OperationalError, InterfaceError):
        raise  # the database is unwell: nothing is committed, the consumer tries the message again
    except MessageInvalid as exc:
        _park(event, exc.code, str(exc))
    except _Parked as exc:
        _park(event, exc.code, exc.message)
    except DomainError as exc:
        _park(event, exc.code, exc.message)
    except IntegrityError as exc:
        _park(event, "DIGIT_PAYMENT_CONFLICT", f"A database rule refused the payment: {exc}".strip()[:2000])
    except Exception as exc:  # a message must never block its partition; the error is kept for staff
        logger.exception("DIGIT payment message %s[%s]@%s failed", event.topic, event.partition, event.offset)
        _park(event, "DIGIT_PAYMENT_FAILED", f"{type(exc).__name__}: {exc}"[:2000])
    else:
        event.status, event.error_code, event.error_message = status, "", ""


def _park(event: DigitPaymentEvent, code: str, message: str) -> None:
    event.status, event.error_code, event.error_message = EventStatus.PARKED, code[:64], message
    logger.warning("DIGIT payment message parked: %s[%s]@%s %s", event.topic, event.partition, event.offset, code)


# --- payment-create ------------------------------------------------------------------------------


def _apply_create(payment: DigitPayment, at: dt.datetime) -> str:
    if Payment.objects.filter(pk=payment.id).exists():
        return EventStatus.DUPLICATE
    bill_ids = [detail.bill_id for detail in payment.details]
    if len(set(bill_ids)) != len(bill_ids):
        raise _Parked("DIGIT_DUPLICATE_BILL", "The payment names one bill in two payment details")
    bills = list(Bill.objects.select_related("tenant").filter(pk__in=bill_ids))
    missing = sorted(str(b) for b in set(bill_ids) - {bill.pk for bill in bills})
    if missing:
        raise _Parked("DIGIT_BILL_NOT_FOUND", f"No bill {', '.join(missing)} in this service")
    tenant = Tenant.objects.filter(code=payment.tenant_id).first()
    if tenant is None or any(bill.tenant_id != tenant.pk for bill in bills):
        raise _Parked("DIGIT_TENANT_MISMATCH", f"The bills are not bills of tenant {payment.tenant_id}")
    if payment.payment_mode not in PaymentMode.values:
        raise _Parked("DIGIT_PAYMENT_MODE_UNKNOWN", f"Payment mode {payment.payment_mode!r} is not known here")
    locked = lock_for_bills(bills=bills)
    if Payment.objects.filter(pk=payment.id).exists():  # a concurrent consumer got there first
        return EventStatus.DUPLICATE
    advance_heads = _advance_heads(payment.tenant_id, {bill.business_service for bill in locked.bills.values()})
    stored, records = _record(payment, locked, tenant, advance_heads, at)
    writeback_apply(payment=stored, locked=locked, actor=payment.created_by, at=at, records=records)
    return EventStatus.APPLIED


def _advance_heads(tenant_code: str, services: set[str]) -> set[str]:
    heads = tax_heads_for(tenant_code, services=sorted(services), category=TaxHeadCategory.ADVANCE_COLLECTION)
    return set(heads.values_list("code", flat=True))


def _status_of(payment: DigitPayment) -> tuple[str, str]:
    status = payment.payment_status if payment.payment_status in PaymentStatus.values else PaymentStatus.NEW
    if status in REVERSED_STATUSES:  # a create message is never a reversal; the cancel topic says that
        status = PaymentStatus.NEW
    instrument = (
        payment.instrument_status
        if payment.instrument_status in InstrumentStatus.values
        and payment.instrument_status not in (InstrumentStatus.CANCELLED, InstrumentStatus.DISHONOURED)
        else InstrumentStatus.APPROVED
    )
    return status, instrument


def _record(
    payment: DigitPayment, locked: Locked, tenant: Tenant, advance_heads: set[str], at: dt.datetime
) -> tuple[Payment, list[DetailRecord]]:
    """Insert the payment as DIGIT apportioned it; store the bills' paid amounts and status."""
    status, instrument_status = _status_of(payment)
    actor = payment.created_by
    payer = Payer.objects.filter(pk=payment.payer_id).first() if payment.payer_id else None
    first = locked.bills[payment.details[0].bill_id]
    row = Payment(
        id=payment.id,
        tenant=tenant,
        total_due=payment.total_due if payment.total_due >= 0 else ZERO,
        total_amount_paid=payment.total_amount_paid,
        payment_mode=payment.payment_mode,
        instrument_number=payment.instrument_number[:128],
        instrument_date=payment.instrument_date,
        instrument_status=instrument_status,
        ifsc_code=payment.ifsc_code[:32],
        transaction_number=payment.transaction_number[:256],
        transaction_date=payment.transaction_date or at,
        paid_by=payment.paid_by[:256],
        payer_name=(payment.payer_name or first.payer_name)[:256],
        payer_address=(payment.payer_address or first.payer_address)[:1024],
        payer_email=(payment.payer_email or first.payer_email)[:256],
        mobile_number=(payment.mobile_number or first.mobile_number)[:20],
        payer=payer or first.payer,
        status=status,
        additional_details=payment.additional_details,
        created_by=actor,
        created_at=at,
        modified_by=payment.modified_by,
        modified_at=at,
    )
    row.save(force_insert=True)
    details: list[PaymentDetail] = []
    records: list[DetailRecord] = []
    account_lines: list[PaymentAccountLine] = []
    bill_details: list[BillDetail] = []
    bad_rows: list[BillAccountDetail] = []
    for index, message_detail in enumerate(payment.details):
        bill = locked.bills[message_detail.bill_id]
        detail = PaymentDetail(
            id=message_detail.id or uuid.uuid4(),
            payment=row,
            bill=bill,
            business_service=bill.business_service,
            total_due=bill.total_amount,
            total_amount_paid=message_detail.total_amount_paid,
            receipt_number=message_detail.receipt_number[:256],
            receipt_date=message_detail.receipt_date or at,
            receipt_type=message_detail.receipt_type
            if message_detail.receipt_type in ReceiptType.values
            else ReceiptType.BILLBASED,
            manual_receipt_number=message_detail.manual_receipt_number[:256],
            additional_details=message_detail.additional_details,
        )
        details.append(detail)
        first_line = len(account_lines)
        adjusted, advance = _apportionment(message_detail, bill, advance_heads, f"paymentDetails[{index}]")
        for bill_detail in bill.details.all():
            paid_here = ZERO
            for line in bill_detail.account_details.all():
                line.adjusted_amount = adjusted.get(line.pk, ZERO)
                paid_here += line.adjusted_amount
                bad_rows.append(line)
                account_lines.append(
                    PaymentAccountLine(
                        payment_detail=detail,
                        bill_detail=bill_detail,
                        bill_account_detail=line,
                        tax_head_code=line.tax_head_code,
                        amount=line.amount,
                        adjusted_amount=line.adjusted_amount,
                        advance_amount=ZERO,
                    )
                )
            if advance is not None and advance[0] == bill_detail.pk:
                account_lines.append(
                    PaymentAccountLine(
                        payment_detail=detail,
                        bill_detail=bill_detail,
                        bill_account_detail=None,
                        tax_head_code=advance[1],
                        amount=ZERO,
                        adjusted_amount=ZERO,
                        advance_amount=advance[2],
                    )
                )
                paid_here += advance[2]
            bill_detail.amount_paid = paid_here
            bill_details.append(bill_detail)
        records.append(DetailRecord(detail, tuple(account_lines[first_line:])))
        bill.status = (
            BillStatus.PAID if message_detail.total_amount_paid >= bill.total_amount else BillStatus.PARTIALLY_PAID
        )
        bill.modified_by, bill.modified_at = actor, at
    PaymentDetail.objects.bulk_create(details)
    PaymentAccountLine.objects.bulk_create(account_lines)
    update_rows(BillDetail, [(r.pk, r.amount_paid) for r in bill_details], fields=("amount_paid",))
    update_rows(BillAccountDetail, [(r.pk, r.adjusted_amount) for r in bad_rows], fields=("adjusted_amount",))
    update_rows(
        Bill,
        [(bill.pk, bill.status) for bill in locked.bills.values()],
        fields=("status",),
        same={"modified_by": actor, "modified_at": at},
    )
    return row, records


def _apportionment(
    detail: Any, bill: Bill, advance_heads: set[str], where: str
) -> tuple[dict[uuid.UUID, Decimal], tuple[uuid.UUID, str, Decimal] | None]:
    """DIGIT's adjusted amount per account line of our bill, and the advance it kept (bill detail, head, amount).

    Each adjusted amount must lie between 0 and the line's due (a credit line: between its amount and 0), the lines
    must be lines of this bill, and with the advance they must add up to the detail's ``totalAmountPaid``."""
    ours = {line.pk: line for period in bill.details.all() for line in period.account_details.all()}
    periods = {period.pk: period for period in bill.details.all()}
    adjusted: dict[uuid.UUID, Decimal] = {}
    advance: tuple[uuid.UUID, str, Decimal] | None = None
    for period in detail.periods:
        for line in period.account_lines:
            mine = ours.get(line.id) if line.id is not None else None
            if mine is not None:
                if mine.tax_head_code != line.tax_head_code:
                    raise _Parked(
                        "DIGIT_APPORTION_INVALID",
                        f"{where}: line {line.id} is {mine.tax_head_code} here, not {line.tax_head_code}",
                    )
                low, high = (ZERO, mine.amount) if mine.amount >= 0 else (mine.amount, ZERO)
                if not low <= line.adjusted_amount <= high:
                    raise _Parked(
                        "DIGIT_APPORTION_INVALID",
                        f"{where}: {line.tax_head_code} adjusted {line.adjusted_amount} is outside {low}..{high}",
                    )
                adjusted[mine.pk] = adjusted.get(mine.pk, ZERO) + line.adjusted_amount
            elif line.tax_head_code in advance_heads and line.amount < 0 and line.adjusted_amount == 0:
                target = period.id if period.id in periods else next(iter(periods))
                kept = -line.amount + (advance[2] if advance else ZERO)
                advance = (target, line.tax_head_code, kept)
            elif line.adjusted_amount != 0:
                raise _Parked(
                    "DIGIT_APPORTION_INVALID", f"{where}: account line {line.id} ({line.tax_head_code}) is not on bill"
                )
    total = money_sum(adjusted.values()) + (advance[2] if advance else ZERO)
    if total != detail.total_amount_paid:
        raise _Parked(
            "DIGIT_APPORTION_INVALID",
            f"{where}: the apportioned amounts add up to {total}, not totalAmountPaid {detail.total_amount_paid}",
        )
    return adjusted, advance


# --- payment-cancel ------------------------------------------------------------------------------


def _apply_cancel(payment: DigitPayment, info: Mapping[str, Any], at: dt.datetime) -> str:
    stored = Payment.objects.select_related("tenant").filter(pk=payment.id).first()
    if stored is None:
        raise _Parked(MISSING_PAYMENT, f"Payment {payment.id} is not known here (yet): its create may still come")
    status = payment.payment_status
    if status == PaymentStatus.DEPOSITED:
        if stored.status in (PaymentStatus.DEPOSITED, *REVERSED_STATUSES):
            return EventStatus.DUPLICATE
        Payment.objects.filter(pk=stored.pk).update(
            status=PaymentStatus.DEPOSITED,
            instrument_status=InstrumentStatus.REMITTED,
            modified_by=payment.modified_by,
            modified_at=at,
        )
        return EventStatus.APPLIED
    if status not in REVERSED_STATUSES:
        return EventStatus.IGNORED
    if stored.status in REVERSED_STATUSES:
        return EventStatus.DUPLICATE
    reason = _cancel_reason(payment) or f"{status} by DIGIT collection-services"
    instrument = InstrumentStatus.CANCELLED if status == PaymentStatus.CANCELLED else InstrumentStatus.DISHONOURED
    payment_reverse_record(
        payment_id=stored.pk,
        bills=bills_of_payment(stored),
        status=status,
        instrument_status=instrument,
        reason=reason,
        actor=payment.modified_by,
        at=at,
        notify=False,
    )
    return EventStatus.APPLIED


def _cancel_reason(payment: DigitPayment) -> str:
    details = payment.additional_details if isinstance(payment.additional_details, Mapping) else {}
    reason = details.get("reason") or details.get("reasonForCancellation")
    return str(reason)[:2000] if reason else ""


__all__ = [
    "digit_payment_event_handle",
    "digit_payment_event_retry",
    "kind_of",
    "subscribed_topics",
]
