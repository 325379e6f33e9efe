"""One line of a settlement file: the gateway's (or bank's) final word on one of our gateway transactions.

1. Parse the line (``parse_settlement``); a malformed line is REJECTED with the exact reason.
2. Find the transaction, in the run's tenant (or its cities), by the gateway's transaction id or by our
   merchant reference — files carry either. None: REJECTED ``PAYMENT_IMPORT_UNKNOWN_TRANSACTION``.
3. Apply the line as a verdict through the one verdict path, ``gateway_verdict_apply(source="SETTLEMENT")``:
   it locks the transaction, refuses an amount that is not ours or a status that contradicts a final one (and
   flags the transaction for attention: the reconciliation queue), settles an open transaction (a SUCCESS
   records its one Payment in the same transaction) and answers "duplicate" for a status it already has.
4. Record the line's row (own transaction): APPLIED when the verdict settled the transaction, or confirmed a
   final status no settlement line had confirmed yet; DUPLICATE when an earlier line (this file or another) did;
   REJECTED with the verdict's reason otherwise. The key is the transaction (``settlement_key``), so the
   applied-once constraint lets one line per transaction apply, whichever id it used.

The verdict and the row are two transactions: ``gateway_verdict_apply`` is itself durable. Nothing is lost
between them: the verdict is idempotent (a repeat answers "duplicate"), so a run that crashed after the verdict
redoes the line on resume and records it APPLIED as a confirmation — the transaction was settled once, its
Payment recorded once. See docs/payment-imports.md.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Q

from billing_project import clock
from billing_project.errors import DomainError
from masters.access import Caller, require_role
from payments.gateway.domain.verdicts import AMOUNT_MISMATCH, APPLIED, CONFLICTING_FINAL_VERDICT, REJECTED
from payments.gateway.models import AttentionReason, GatewayTransaction
from payments.gateway.services import SOURCE_SETTLEMENT, GatewayVerdict, VerdictOutcome, gateway_verdict_apply
from payments.imports.domain.csvfile import Line, RowProblem, SettlementLine, parse_settlement, settlement_key
from payments.imports.errors import (
    PAYMENT_IMPORT_AMOUNT_MISMATCH,
    PAYMENT_IMPORT_STATUS_CONFLICT,
    PAYMENT_IMPORT_UNKNOWN_TRANSACTION,
    verdict_refused,
)
from payments.imports.models import ImportRow, ImportRun, RowOutcome
from payments.imports.selectors import IMPORT_ROLES, applied_row
from payments.imports.services.offline import day_start
from payments.imports.services.outcomes import key_conflict, line_taken, row_duplicate, row_record, row_reject


def settlement_row_import(*, run: ImportRun, caller: Caller, line: Line, at: dt.datetime) -> ImportRow | None:
    """Apply, skip as duplicate, or reject one settlement line; answers its row (None when a concurrent executor
    of the same run recorded the line first)."""
    zone = clock.billing_zone()
    try:
        parsed = parse_settlement(line, today=at.astimezone(zone).date())
    except RowProblem as problem:
        return row_reject(run=run, line=line, code=problem.code, message=problem.message, at=at)
    day = parsed.settlement_date
    try:
        require_role(caller, run.tenant.code, IMPORT_ROLES, "settle gateway transactions")
        txn = _transaction(run, parsed.transaction_id)
    except DomainError as exc:
        return row_reject(run=run, line=line, code=exc.code, message=exc.message, at=at, settlement_date=day)
    key = settlement_key(txn.tenant.code, str(txn.pk))
    verdict = GatewayVerdict(
        status=parsed.status,
        amount=parsed.amount,
        gateway_transaction_id=txn.gateway_transaction_id or "",
        occurred_at=day_start(day, zone),
    )
    outcome = gateway_verdict_apply(transaction_id=txn.pk, verdict=verdict, source=SOURCE_SETTLEMENT, at=at)
    txn.refresh_from_db()
    if outcome.result == REJECTED:
        code, message = _rejection(txn, parsed, outcome)
        return row_reject(
            run=run,
            line=line,
            code=code,
            message=message,
            at=at,
            row_key=key,
            settlement_date=day,
            gateway_transaction=txn,
            duplicate_if_applied=False,
        )
    first = applied_row(key)
    if first is not None:
        return row_duplicate(run=run, line=line, row_key=key, first=first, at=at, settlement_date=day)
    note = _note(txn, outcome)
    try:
        with transaction.atomic(durable=True):
            return row_record(
                run=run,
                line=line,
                outcome=RowOutcome.APPLIED,
                at=at,
                row_key=key,
                payment=txn.payment,
                settlement_date=day,
                gateway_transaction=txn,
                note=note,
            )
    except IntegrityError as exc:
        if line_taken(exc):
            return None
        if not key_conflict(exc):
            raise
    winner = applied_row(key)
    if winner is None:  # pragma: no cover - the winner's row is committed before our insert fails
        raise RuntimeError(f"settlement key {key} conflicted but has no applied row")
    return row_duplicate(run=run, line=line, row_key=key, first=winner, at=at, settlement_date=day)


def _transaction(run: ImportRun, reference: str) -> GatewayTransaction:
    """The transaction with this gateway id or merchant reference in the run's tenant (or a city of it)."""
    tenant = run.tenant.code
    in_tenant = Q(tenant__code=tenant) | Q(tenant__code__startswith=f"{tenant}.")
    matches = list(
        GatewayTransaction.objects.select_related("tenant")
        .filter(in_tenant, Q(gateway_transaction_id=reference) | Q(merchant_reference=reference))
        .order_by("created_at", "pk")[:2]
    )
    if not matches:
        raise DomainError(
            PAYMENT_IMPORT_UNKNOWN_TRANSACTION,
            f"No gateway transaction with the id or merchant reference {reference!r} in {tenant}",
        )
    if len(matches) > 1:
        raise DomainError(
            PAYMENT_IMPORT_UNKNOWN_TRANSACTION,
            f"{reference!r} names several gateway transactions in {tenant}: use the merchant reference",
        )
    return matches[0]


def _rejection(txn: GatewayTransaction, parsed: SettlementLine, outcome: VerdictOutcome) -> tuple[str, str]:
    flagged = " (flagged for attention)" if txn.needs_attention else ""
    if outcome.reason == AMOUNT_MISMATCH:
        return (
            PAYMENT_IMPORT_AMOUNT_MISMATCH,
            f"The file says {parsed.amount}; transaction {txn.merchant_reference} is for {txn.amount}{flagged}",
        )
    if outcome.reason == CONFLICTING_FINAL_VERDICT:
        return (
            PAYMENT_IMPORT_STATUS_CONFLICT,
            f"The file says {parsed.status}; transaction {txn.merchant_reference} is {txn.status}{flagged}",
        )
    return (
        verdict_refused(outcome.reason),
        f"The gateway's verdict was refused ({outcome.reason}) for transaction {txn.merchant_reference}{flagged}",
    )


def _note(txn: GatewayTransaction, outcome: VerdictOutcome) -> str:
    """What an applied line did: settled the transaction now, or confirmed its earlier settlement."""
    what = (
        f"settled {txn.status} by this line"
        if outcome.result == APPLIED
        else f"confirmed: already {txn.status} (by {txn.verdict_source or '-'} at "
        f"{txn.settled_at.isoformat() if txn.settled_at else '-'})"
    )
    if txn.status == "SUCCESS" and txn.payment_id is None and txn.attention_reason == AttentionReason.UNAPPLIED:
        what += "; no payment: the bill could not take it (UNAPPLIED, in the reconciliation queue)"
    return what
