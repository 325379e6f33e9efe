"""One line of an offline-collections file: a counter payment recorded in bulk.

1. Parse the line (``parse_offline``); a malformed line is REJECTED with the exact reason.
2. Its key (``offline_key``) was applied already (an earlier line, another run) → DUPLICATE, linked to it.
3. ``bill_fetch`` the consumer's current bill — outside any transaction of ours: it may call the business
   service's refresh URL and commits its own work (a new bill). No bill: unknown consumer or nothing due.
4. ``payment_validate`` a payment of the line's amount for that bill (the business service's rules: part
   payment, advance, whole amounts, modes not allowed …); its domain error is the line's reason.
5. One durable transaction: insert the APPLIED row first (a concurrent import of the same line waits on the
   key's unique index, then gets a violation → DUPLICATE), ``payment_record`` (locks, re-checks the bill under
   the lock, apportions, writes back), link the row to the payment, count it on the run. Any error rolls back
   all of it: a line is never half-applied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from billing_project import clock
from billing_project.errors import DomainError, ValidationFailed
from bills.services import FetchCriteria, bill_fetch
from demands.models import ConsumerAccount
from masters.access import Caller, covers, require_role
from payments.imports.domain.csvfile import Line, OfflineLine, RowProblem, offline_key, parse_offline
from payments.imports.errors import (
    PAYMENT_IMPORT_NO_DUES,
    PAYMENT_IMPORT_TENANT_MISMATCH,
    PAYMENT_IMPORT_UNKNOWN_CONSUMER,
)
from payments.imports.models import ImportRow, ImportRun, RowOutcome
from payments.imports.selectors import IMPORT_ROLES, applied_row
from payments.imports.services.outcomes import key_conflict, line_taken, row_duplicate, row_record, row_reject
from payments.models import PaymentMode
from payments.services import (
    PaymentDetailInput,
    PaymentInput,
    PaymentPlan,
    payment_integrity_error,
    payment_record,
    payment_validate,
)

# Modes an offline-collections file may carry, and the known modes it may not.
OFFLINE_MODES = frozenset(
    {
        PaymentMode.CASH,
        PaymentMode.CHEQUE,
        PaymentMode.DD,
        PaymentMode.CARD,
        PaymentMode.OFFLINE_NEFT,
        PaymentMode.OFFLINE_RTGS,
        PaymentMode.POSTAL_ORDER,
    }
)
REFUSED_MODES = {
    PaymentMode.ONLINE.value: "online payments are recorded by the payment gateway (import a settlement file)",
}


def error_text(exc: DomainError) -> str:
    """The exact reason of a domain error: its message, or every ``code: message`` when several were found."""
    if isinstance(exc, ValidationFailed) and len(exc.errors) > 1:
        return "; ".join(f"{error.code}: {error.message}" for error in exc.errors)
    return exc.message


def day_start(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The first instant of ``day`` in the billing time zone (the payment's transaction date)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=zone)


def offline_row_import(*, run: ImportRun, caller: Caller, line: Line, at: dt.datetime) -> ImportRow | None:
    """Apply, skip as duplicate, or reject one line; answers its row (None when a concurrent executor of the same
    run recorded the line first)."""
    zone = clock.billing_zone()
    try:
        parsed = parse_offline(line, modes=OFFLINE_MODES, refused_modes=REFUSED_MODES, today=at.astimezone(zone).date())
    except RowProblem as problem:
        return row_reject(run=run, line=line, code=problem.code, message=problem.message, at=at)
    tenant_code = parsed.tenant_code or run.tenant.code
    key = offline_key(tenant_code, parsed)
    if "." not in tenant_code or not covers(run.tenant.code, tenant_code):
        message = (
            f"tenant_id {tenant_code} is not a city of the run's tenant {run.tenant.code}"
            if parsed.tenant_code
            else f"The run's tenant {run.tenant.code} is a state: each line needs the tenant_id of its city"
        )
        return row_reject(run=run, line=line, code=PAYMENT_IMPORT_TENANT_MISMATCH, message=message, at=at, row_key=key)
    first = applied_row(key)
    if first is not None:
        return row_duplicate(run=run, line=line, row_key=key, first=first, at=at)
    try:
        plan = _plan(run=run, caller=caller, line=line, parsed=parsed, tenant_code=tenant_code, zone=zone, at=at)
    except DomainError as exc:
        return row_reject(run=run, line=line, code=exc.code, message=error_text(exc), at=at, row_key=key)
    try:
        with transaction.atomic(durable=True):
            # The row first: its key's unique index makes a concurrent import of this line wait here.
            row = row_record(run=run, line=line, outcome=RowOutcome.APPLIED, at=at, row_key=key)
            payment = payment_record(caller=caller, plan=plan, at=at)
            ImportRow.objects.filter(pk=row.pk).update(payment=payment)
            row.payment = payment
        return row
    except IntegrityError as exc:
        if line_taken(exc):
            return None
        if key_conflict(exc):
            winner = applied_row(key)
            if winner is None:  # pragma: no cover - the winner's row is committed before our insert fails
                raise
            return row_duplicate(run=run, line=line, row_key=key, first=winner, at=at)
        mapped = payment_integrity_error(exc, plan)
        if not isinstance(mapped, DomainError):
            raise
        return row_reject(run=run, line=line, code=mapped.code, message=error_text(mapped), at=at, row_key=key)
    except DomainError as exc:  # a re-check under the bill lock (the bill was paid or changed meanwhile)
        return row_reject(run=run, line=line, code=exc.code, message=error_text(exc), at=at, row_key=key)


def _plan(
    *,
    run: ImportRun,
    caller: Caller,
    line: Line,
    parsed: OfflineLine,
    tenant_code: str,
    zone: dt.tzinfo,
    at: dt.datetime,
) -> PaymentPlan:
    """Fetch the consumer's current bill and validate the line's payment of it."""
    # payment_validate checks this too; checked first because bill_fetch shows nothing to a caller without a role.
    require_role(caller, tenant_code, IMPORT_ROLES, "take payments")
    bills = bill_fetch(
        caller=caller,
        criteria=FetchCriteria(
            tenant_id=tenant_code,
            business_service=parsed.business_service,
            consumer_codes=(parsed.consumer_code,),
        ),
        at=at,
    )
    if not bills:
        known = ConsumerAccount.objects.filter(
            tenant__code=tenant_code, business_service=parsed.business_service, consumer_code=parsed.consumer_code
        ).exists()
        if known:
            raise DomainError(
                PAYMENT_IMPORT_NO_DUES,
                f"Consumer {parsed.consumer_code} of {parsed.business_service} in {tenant_code} has nothing due",
            )
        raise DomainError(
            PAYMENT_IMPORT_UNKNOWN_CONSUMER,
            f"No consumer {parsed.consumer_code} of {parsed.business_service} in {tenant_code}",
        )
    bill = bills[0]
    is_cash = parsed.mode == PaymentMode.CASH
    instrument_day = parsed.instrument_date or parsed.date
    details: dict[str, Any] = {"run": str(run.pk), "line": line.number, "file": run.file_name}
    payment = PaymentInput(
        tenant_code=tenant_code,
        payment_mode=parsed.mode,
        total_due=bill.total_amount,
        total_amount_paid=parsed.amount,
        details=(
            PaymentDetailInput(
                bill_id=bill.pk,
                business_service=bill.business_service,
                total_due=bill.total_amount,
                total_amount_paid=parsed.amount,
                manual_receipt_number=parsed.instrument_reference if is_cash else "",
            ),
        ),
        paid_by=parsed.payer_name,
        payer_name=parsed.payer_name,
        mobile_number=parsed.mobile_number,
        instrument_number="" if is_cash else parsed.instrument_reference,
        instrument_date=day_start(instrument_day, zone),
        ifsc_code=parsed.ifsc_code,
        transaction_date=day_start(parsed.date, zone),
        additional_details={"import": details},
    )
    return payment_validate(caller=caller, payment=payment, at=at)
