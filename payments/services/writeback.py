"""The write-back of a payment to the demands (reference §7.9), and its exact reversal.

``writeback_apply`` and ``writeback_reverse`` run inside the caller's transaction with the rows of
:func:`payments.services.locking.lock_for_bills` locked. Each records a ``PaymentWriteBack`` row; its unique
constraint (payment, direction) makes each direction happen once. For a payment that exists already the row
is looked up first (under the locks), so that a replay is a no-op rather than an error;
``payment_writeback_apply`` is the durable entry point of such a replay.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch

from billing_project.db import update_rows
from billing_project.errors import ConflictError, DomainError
from bills.models import Bill
from demands.models import Demand, DemandDetail, HistoryAction
from demands.services import consumer_accounts_bump, history_append
from payments.domain.writeback import (
    AdvanceKept,
    DemandLineState,
    HeadPayment,
    LineDelta,
    WriteBackError,
    apply_deltas,
    is_payment_completed,
    is_payment_completed_after_reversal,
    plan_writeback,
    reverse_deltas,
)
from payments.errors import PAYMENT_REVERSAL_CONFLICT
from payments.models import (
    Payment,
    PaymentAccountLine,
    PaymentApplication,
    PaymentDetail,
    PaymentWriteBack,
    WriteBackDirection,
)
from payments.selectors import bills_of_payment, payment_get
from payments.services.locking import Locked, lock_for_bills


def _state(line: DemandDetail) -> DemandLineState:
    return DemandLineState(
        key=str(line.pk),
        tax_head_code=line.tax_head_code,
        tax_amount=line.tax_amount,
        collection_amount=line.collection_amount,
    )


@dataclass(frozen=True)
class DetailRecord:
    """A payment detail with its account lines (what the write-back reads)."""

    detail: PaymentDetail
    account_lines: tuple[PaymentAccountLine, ...]


def detail_records(payment: Payment) -> list[DetailRecord]:
    details = PaymentDetail.objects.filter(payment=payment).prefetch_related(
        Prefetch("account_lines", queryset=PaymentAccountLine.objects.order_by("pk"))
    )
    return [DetailRecord(detail, tuple(detail.account_lines.all())) for detail in details.order_by("receipt_number")]


def _applications_of(payment: Payment) -> list[PaymentApplication]:
    return list(
        PaymentApplication.objects.filter(payment_detail__payment=payment)
        .select_related("demand_detail")
        .order_by("payment_detail__receipt_number", "pk")
    )


def writeback_done(payment: Payment) -> set[str]:
    """The directions already recorded for the payment."""
    return set(PaymentWriteBack.objects.filter(payment=payment).values_list("direction", flat=True))


def writeback_apply(
    *,
    payment: Payment,
    locked: Locked,
    actor: str,
    at: dt.datetime,
    records: Sequence[DetailRecord] | None = None,
) -> bool:
    """Write the payment's apportionment to the demand details; False when it was written already.

    ``records`` are the payment's details and account lines when the caller has just created the payment in
    this transaction (they are read from the database otherwise). Such a payment cannot have been written
    back, so the marker is not looked up first; its unique constraint still guards the insert.

    Per bill detail, the head amounts and the advance kept (``PaymentAccountLine``) go through
    :func:`payments.domain.writeback.plan_writeback`; the deltas are added to the locked demand details (new
    advance lines get an id), stored as ``PaymentApplication`` rows, and the demands' ``is_payment_completed``
    is recomputed. Then the accounts' revision is bumped once and history rows (PAYMENT) are appended.
    """
    with transaction.atomic(savepoint=False):
        if records is None and writeback_done(payment):
            return False
        writer = _LineWriter(locked, actor=actor, at=at)
        applications: list[PaymentApplication] = []
        for record in records if records is not None else detail_records(payment):
            payment_detail = record.detail
            bill = locked.bills[payment_detail.bill_id]
            lines_by_bill_detail: dict[uuid.UUID, list[PaymentAccountLine]] = {}
            for account_line in record.account_lines:
                lines_by_bill_detail.setdefault(account_line.bill_detail_id, []).append(account_line)
            for bill_detail in bill.details.all():
                mine = lines_by_bill_detail.get(bill_detail.pk, [])
                demand_lines = locked.lines[bill_detail.demand_id]
                try:
                    deltas = plan_writeback(
                        [_state(line) for line in demand_lines],
                        [
                            HeadPayment(line.tax_head_code, line.adjusted_amount)
                            for line in mine
                            if line.bill_account_detail_id is not None
                        ],
                        advance=_advance_of(mine),
                        new_line_key=str(uuid.uuid4()),
                    )
                except WriteBackError as exc:
                    raise DomainError(exc.code, exc.message) from exc
                for delta in deltas:
                    line = writer.apply(bill_detail.demand_id, delta)
                    applications.append(
                        PaymentApplication(
                            payment_detail=payment_detail,
                            demand_detail=line,
                            collection_delta=delta.collection_delta,
                            tax_delta=delta.tax_delta,
                            created_line=delta.created,
                        )
                    )
        writer.flush(_demand_ids(locked.bills.values()), action=HistoryAction.PAYMENT, completed=is_payment_completed)
        PaymentApplication.objects.bulk_create(applications)
        PaymentWriteBack.objects.create(payment=payment, direction=WriteBackDirection.APPLY, at=at, by=actor)
    return True


def _advance_of(lines: Iterable[PaymentAccountLine]) -> AdvanceKept | None:
    for line in lines:
        if line.advance_amount > 0:
            return AdvanceKept(line.tax_head_code, line.advance_amount, line.bill_account_detail_id is not None)
    return None


def _demand_ids(bills: Iterable[Bill]) -> list[uuid.UUID]:
    return sorted({detail.demand_id for bill in bills for detail in bill.details.all()})


def writeback_reverse(*, payment: Payment, locked: Locked, actor: str, at: dt.datetime) -> bool:
    """Subtract exactly what ``writeback_apply`` added (its ``PaymentApplication`` rows); False when done already.

    A line the payment created stays, with tax 0 and collection 0. When later writes make the exact reversal
    impossible (for example the advance the payment left was since used by a new demand), nothing is written
    and ``PAYMENT_REVERSAL_CONFLICT`` is raised.
    """
    with transaction.atomic(savepoint=False):
        done = writeback_done(payment)
        if WriteBackDirection.REVERSE in done:
            return False
        writer = _LineWriter(locked, actor=actor, at=at)
        if WriteBackDirection.APPLY in done:
            by_demand: dict[uuid.UUID, list[LineDelta]] = {}
            for application in _applications_of(payment):
                line = application.demand_detail
                by_demand.setdefault(line.demand_id, []).append(
                    LineDelta(
                        key=str(line.pk),
                        tax_head_code=line.tax_head_code,
                        collection_delta=application.collection_delta,
                        tax_delta=application.tax_delta,
                    )
                )
            for demand_id, deltas in sorted(by_demand.items()):
                undo = reverse_deltas(deltas)
                try:
                    apply_deltas(
                        [_state(line) for line in locked.lines[demand_id]], undo, code=PAYMENT_REVERSAL_CONFLICT
                    )
                except WriteBackError as exc:
                    raise ConflictError(
                        exc.code,
                        f"The payment cannot be reversed exactly: {exc.message}. Later writes used what it applied.",
                    ) from exc
                for delta in undo:
                    writer.apply(demand_id, delta)
            writer.flush(
                _demand_ids(locked.bills.values()),
                action=HistoryAction.PAYMENT_REVERSAL,
                completed=is_payment_completed_after_reversal,
            )
        PaymentWriteBack.objects.create(payment=payment, direction=WriteBackDirection.REVERSE, at=at, by=actor)
    return True


class _LineWriter:
    """Applies deltas to the locked demand details in memory, then writes them with their history."""

    def __init__(self, locked: Locked, *, actor: str, at: dt.datetime) -> None:
        self.locked = locked
        self.actor = actor
        self.at = at
        self.by_id = {line.pk: line for lines in locked.lines.values() for line in lines}
        self.changed: dict[uuid.UUID, DemandDetail] = {}
        self.created: list[DemandDetail] = []

    def apply(self, demand_id: uuid.UUID, delta: LineDelta) -> DemandDetail:
        if delta.created:
            line = DemandDetail(
                id=uuid.UUID(delta.key),
                demand=self.locked.demands[demand_id],
                tax_head_code=delta.tax_head_code,
                position=max((x.position for x in self.locked.lines[demand_id]), default=-1) + 1,
                tax_amount=delta.tax_delta,
                collection_amount=delta.collection_delta,
                created_by=self.actor,
                created_at=self.at,
                modified_by=self.actor,
                modified_at=self.at,
            )
            self.created.append(line)
            self.locked.lines[demand_id].append(line)
            self.by_id[line.pk] = line
            return line
        line = self.by_id[uuid.UUID(delta.key)]
        line.collection_amount += delta.collection_delta
        line.tax_amount += delta.tax_delta
        line.modified_by, line.modified_at = self.actor, self.at
        self.changed[line.pk] = line
        return line

    def flush(
        self,
        demand_ids: Sequence[uuid.UUID],
        *,
        action: str,
        completed: Callable[[Iterable[DemandLineState]], bool],
    ) -> None:
        """Save the lines, recompute the demands' completion, bump the accounts once, append history.

        One set-based UPDATE per table (``update_rows``): the amounts and the completion flag differ per row, the
        stamp is the same for all."""
        stamp = {"modified_by": self.actor, "modified_at": self.at}
        update_rows(
            DemandDetail,
            [(line.pk, line.collection_amount, line.tax_amount) for line in self.changed.values()],
            fields=("collection_amount", "tax_amount"),
            same=stamp,
        )
        DemandDetail.objects.bulk_create(self.created)
        demands: list[Demand] = []
        for demand_id in demand_ids:
            demand = self.locked.demands[demand_id]
            demand.is_payment_completed = completed(_state(line) for line in self.locked.lines[demand_id])
            demand.modified_by, demand.modified_at = self.actor, self.at
            demands.append(demand)
        update_rows(
            Demand,
            [(demand.pk, demand.is_payment_completed) for demand in demands],
            fields=("is_payment_completed",),
            same=stamp,
        )
        consumer_accounts_bump(self.locked.accounts.values(), at=self.at)
        history_append(
            demands,
            [*self.changed.values(), *self.created],
            accounts=self.locked.accounts,
            action=action,
            actor=self.actor,
            at=self.at,
        )


def payment_writeback_apply(*, payment_id: uuid.UUID | str, at: dt.datetime) -> bool:
    """Apply the payment's write-back if it has not been applied (a replay); False, changing nothing, if it has.

    ``payment_create`` applies the write-back in its own transaction, so for a stored payment this always
    answers False: the entry point exists so that a replayed message (the reference's duplicate Kafka payment
    message, §7.9 step 2) is provably harmless.
    """
    payment = payment_get(payment_id)
    bills = bills_of_payment(payment)
    with transaction.atomic(durable=True):
        locked = lock_for_bills(bills=bills)
        payment = Payment.objects.select_for_update(of=("self",)).get(pk=payment.pk)
        return writeback_apply(payment=payment, locked=locked, actor=payment.created_by, at=at)
