"""``autopay_schedule_due``: find the new bills of consumers with an active mandate and schedule their charge.

A bill is charged by autopay when it is ACTIVE and current (not expired, built from its account's present
revision), its total is above zero, it was generated at or after the mandate's opt-in, its payer is the
mandate's payer, the mandate's method is usable (ACTIVE, not flagged, not expired) and no charge exists for the
bill. One charge per bill is database-enforced (``payment_methods_autopaycharge_one_per_bill``), so two
concurrent runs, or a run repeated after a crash, schedule each bill once.

Per candidate bill, under the mandate's row lock:

* an open charge of the mandate on an older bill (SCHEDULED or FAILED) is **superseded**: it is CANCELLED
  (``SUPERSEDED``, ``superseded_by`` the new charge) and the new bill's charge continues its attempt count and
  its next retry date — a regenerated bill never restarts the retry schedule; a charge IN_PROGRESS makes the
  run skip the consumer until its outcome is known; so does an UNAPPLIED charge (money taken that no payment
  could record) until staff resolve it; an open charge whose bill was paid meanwhile (at the
  counter) is CANCELLED ``BILL_PAID`` instead, and the new bill's charge starts afresh;
* when the mandate's last charge for the consumer was given up and the new bill bills no demand that bill did
  not, the bill is skipped (the same dues are not retried again; a bill with a new demand is charged);
* a bill above the mandate's ``max_amount`` gets a charge GAVE_UP at once with ``AUTOPAY_OVER_LIMIT`` (visible
  to the payer, never sent to the gateway).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, QuerySet, Subquery

from billing_project.db import is_unique_violation
from bills.models import Bill, BillDetail, BillStatus
from payments.methods.errors import AUTOPAY_OVER_LIMIT, BILL_PAID, SUPERSEDED
from payments.methods.models import (
    OPEN_CHARGE_STATUSES,
    AutopayCharge,
    AutopayMandate,
    ChargeStatus,
    MethodStatus,
)
from payments.methods.services.methods import expired_q, payment_methods_expire

ONE_PER_BILL = "payment_methods_autopaycharge_one_per_bill"


@dataclass
class ScheduleResult:
    """What a run did. ``to_charge``: every SCHEDULED charge (new or left from an earlier run) to send."""

    scheduled: list[uuid.UUID] = field(default_factory=list)
    superseded: list[uuid.UUID] = field(default_factory=list)
    over_limit: list[uuid.UUID] = field(default_factory=list)
    skipped: int = 0
    methods_expired: int = 0
    to_charge: list[uuid.UUID] = field(default_factory=list)


def usable_mandates(at: dt.datetime) -> QuerySet[AutopayMandate]:
    """Active mandates whose payment method can be charged at ``at`` (ACTIVE, not flagged, not expired)."""
    return AutopayMandate.objects.filter(
        active=True, payment_method__status=MethodStatus.ACTIVE, payment_method__flagged_at=None
    ).exclude(expired_q(at, prefix="payment_method__"))


def candidate_bills(at: dt.datetime) -> QuerySet[Bill]:
    """ACTIVE, current, non-zero bills without a charge, with the id of the mandate that covers them."""
    mandate = usable_mandates(at).filter(
        tenant=OuterRef("tenant"),
        business_service=OuterRef("business_service"),
        consumer_code=OuterRef("consumer_code"),
        payer=OuterRef("payer"),
        created_at__lte=OuterRef("created_at"),
    )
    return (
        Bill.objects.filter(
            status=BillStatus.ACTIVE, expiry_date__gt=at, revision=F("account__revision"), total_amount__gt=0
        )
        .filter(Exists(mandate))
        .exclude(Exists(AutopayCharge.objects.filter(bill=OuterRef("pk"))))
        .annotate(mandate_id=Subquery(mandate.values("pk")[:1]))
        .order_by("created_at", "pk")
    )


def autopay_schedule_due(*, at: dt.datetime, limit: int = 1000) -> ScheduleResult:
    """Schedule a charge for every new bill of a consumer under an active mandate (idempotent). First marks the
    payment methods whose expiry month has ended EXPIRED."""
    result = ScheduleResult(methods_expired=payment_methods_expire(at=at))
    candidates = candidate_bills(at).values_list("pk", "mandate_id")[:limit]  # type: ignore[misc]  # annotation
    for bill_id, mandate_id in candidates:
        try:
            with transaction.atomic(durable=True):
                _schedule_one(bill_id, mandate_id, at, result)
        except IntegrityError as exc:
            if not is_unique_violation(exc, AutopayCharge, ONE_PER_BILL):
                raise
            result.skipped += 1  # a concurrent run scheduled it
    result.to_charge = list(
        AutopayCharge.objects.filter(status=ChargeStatus.SCHEDULED, mandate__active=True)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return result


def _demand_ids(bill_id: uuid.UUID) -> set[uuid.UUID]:
    return set(BillDetail.objects.filter(bill_id=bill_id).values_list("demand_id", flat=True))


def _schedule_one(bill_id: uuid.UUID, mandate_id: int, at: dt.datetime, result: ScheduleResult) -> None:
    mandate = AutopayMandate.objects.select_for_update().filter(pk=mandate_id, active=True).first()
    bill = Bill.objects.filter(pk=bill_id, status=BillStatus.ACTIVE).first()
    if mandate is None or bill is None:
        result.skipped += 1
        return
    charges = list(AutopayCharge.objects.select_for_update().filter(mandate=mandate).order_by("-created_at", "-pk"))
    open_charges = [c for c in charges if c.status in OPEN_CHARGE_STATUSES]
    if any(c.status == ChargeStatus.IN_PROGRESS for c in open_charges):
        result.skipped += 1
        return
    if any(c.status == ChargeStatus.UNAPPLIED for c in charges):
        # Money already taken for this consumer waits for staff (refund or manual application): charging the
        # next bill now could make the payer pay twice.
        result.skipped += 1
        return
    gave_up = not open_charges and bool(charges) and charges[0].status == ChargeStatus.GAVE_UP
    if gave_up and _demand_ids(bill.pk) <= _demand_ids(charges[0].bill_id):
        result.skipped += 1
        return
    # An open charge whose bill was paid meanwhile (at the counter) ends there; the new bill starts afresh.
    paid = set(
        Bill.objects.filter(
            pk__in=[c.bill_id for c in open_charges], status__in=(BillStatus.PAID, BillStatus.PARTIALLY_PAID)
        ).values_list("pk", flat=True)
    )
    for old in [c for c in open_charges if c.bill_id in paid]:
        AutopayCharge.objects.filter(pk=old.pk).update(
            status=ChargeStatus.CANCELLED,
            next_retry_at=None,
            failure_code=BILL_PAID,
            failure_message=f"Bill {old.bill_id} was paid",
            updated_at=at,
            finished_at=at,
        )
    open_charges = [c for c in open_charges if c.bill_id not in paid]
    previous = open_charges[0] if open_charges else None
    charge = AutopayCharge(
        mandate=mandate,
        bill=bill,
        amount=bill.total_amount,
        attempt=previous.attempt if previous else 0,
        status=previous.status if previous else ChargeStatus.SCHEDULED,
        next_retry_at=previous.next_retry_at if previous else None,
        failure_code=previous.failure_code if previous else "",
        failure_message=previous.failure_message if previous else "",
        created_at=at,
        updated_at=at,
    )
    if mandate.max_amount is not None and bill.total_amount > mandate.max_amount:
        charge.status, charge.next_retry_at, charge.finished_at = ChargeStatus.GAVE_UP, None, at
        charge.failure_code = AUTOPAY_OVER_LIMIT
        charge.failure_message = f"The bill's {bill.total_amount} is above the mandate's limit {mandate.max_amount}"
    charge.save(force_insert=True)
    for old in open_charges:
        supersede(old, charge, at)
        result.superseded.append(old.pk)
    (result.over_limit if charge.status == ChargeStatus.GAVE_UP else result.scheduled).append(charge.pk)


def supersede(old: AutopayCharge, new: AutopayCharge, at: dt.datetime) -> None:
    """The (locked) open charge ``old`` is replaced by the charge ``new`` of a newer bill. In a transaction."""
    AutopayCharge.objects.filter(pk=old.pk).update(
        status=ChargeStatus.CANCELLED,
        superseded_by=new,
        next_retry_at=None,
        failure_code=SUPERSEDED,
        failure_message=f"Bill {new.bill_id} replaced bill {old.bill_id}",
        updated_at=at,
        finished_at=at,
    )
