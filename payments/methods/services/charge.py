"""Charging autopay bills through the gateway, recording the outcome, and the retry schedule.

``autopay_charge_run`` (one charge, one attempt):

1. Under the mandate's and the charge's row locks, re-check: the charge is SCHEDULED (or FAILED and due); the
   mandate is active; its method usable; the bill not paid meanwhile (→ CANCELLED ``BILL_PAID``). When the bill
   is no longer current (expired, or its demands changed), the consumer's current bill is fetched (a new one is
   generated, outside our transaction) and the charge is **superseded** by a charge of that bill that continues
   its attempt count. Then the attempt is counted, a fresh ``attempt_reference`` chosen and the IN_PROGRESS
   marker committed.
2. Outside any transaction: ``payments.gateway.services.gateway_payment_initiate`` with the method's token and
   ``transaction_id=attempt_reference`` — a direct charge; the gateway service records the transaction (with
   that id: crash recovery finds it by it) and, on SUCCESS, the one Payment (verdict path).
3. The outcome is recorded on the (re-locked) charge: SUCCESS with its Payment → SUCCEEDED; SUCCESS without one
   (the bill went stale meanwhile) → UNAPPLIED, which blocks the consumer's autopay until the money is refunded
   (sync → CANCELLED ``REFUNDED``) or staff resolve it (``autopay_charge_resolve``); a hard decline → GAVE_UP at
   once and the method flagged (never retried); a soft decline or failure → FAILED with ``next_retry_at`` from
   ``AUTOPAY_RETRY_DELAYS_DAYS`` or GAVE_UP when the schedule is exhausted (the mandate stays active for the next
   bills); PENDING/UNKNOWN → stays IN_PROGRESS with the transaction's id, settled later by
   ``autopay_charges_sync`` once the gateway's pollers/reconciliation finalise the transaction.

Lock order (with ``methods.py``): payer → payment method → mandate → charge; ``_lock`` takes method, mandate,
charge.

``autopay_retries_due`` syncs IN_PROGRESS charges and answers the FAILED charges whose ``next_retry_at`` has
passed; the ``payments.methods.charge`` task runs each (the run re-checks the bill first).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from billing_project.errors import ConflictError, DomainError, NotFound
from billing_project.money import to_money
from billing_project.uuids import uuid_or_404
from bills.models import Bill, BillStatus
from bills.services import FetchCriteria, bill_fetch, is_current
from masters.access import Caller, require_role
from masters.models import Role
from payments.errors import BILL_ALREADY_PAID, BILL_EXPIRED
from payments.gateway.models import DeclineType, GatewayTransaction, TransactionStatus
from payments.gateway.services import gateway_payment_initiate
from payments.methods.domain.retry import next_retry_at
from payments.methods.errors import (
    ATTEMPT_LOST,
    AUTOPAY_CHARGE_NOT_FOUND,
    AUTOPAY_CHARGE_NOT_RETRYABLE,
    AUTOPAY_CHARGE_NOT_UNAPPLIED,
    AUTOPAY_OVER_LIMIT,
    BILL_FETCH_FAILED,
    BILL_PAID,
    GATEWAY_FAILURE,
    MANDATE_REVOKED,
    NOTHING_DUE,
    PAYER_CHANGED,
    PAYMENT_METHOD_NOT_USABLE,
    REFUNDED,
    UNAPPLIED,
)
from payments.methods.models import (
    AutopayCharge,
    AutopayMandate,
    ChargeStatus,
    MethodStatus,
    PaymentMethod,
)
from payments.methods.selectors import MANAGE_ROLES
from payments.methods.services.methods import expires_at
from payments.methods.services.schedule import supersede

logger = logging.getLogger(__name__)

ACTOR = "autopay"
# Who may settle an UNAPPLIED charge by hand (money matters: as for gateway refunds).
RESOLVE_ROLES = (Role.BILLING_ADMIN,)
# Gateway-side validation codes that mean "this bill can no longer be taken": handled like a stale bill.
STALE_BILL_CODES = frozenset({BILL_EXPIRED})
PAID_BILL_CODES = frozenset({BILL_ALREADY_PAID})


def retry_delays_days() -> list[int]:
    """``AUTOPAY_RETRY_DELAYS_DAYS`` (default ``[3, 3, 3]``: three retries, three days apart)."""
    return [int(days) for days in getattr(settings, "AUTOPAY_RETRY_DELAYS_DAYS", [3, 3, 3])]


def lost_attempt_after() -> dt.timedelta:
    """How long an IN_PROGRESS charge without a gateway transaction may wait before it counts as lost."""
    return dt.timedelta(seconds=int(getattr(settings, "AUTOPAY_LOST_ATTEMPT_SECONDS", 900)))


def autopay_caller(tenant_code: str) -> Caller:
    """The identity autopay charges with: a SYSTEM role in the bill's tenant (no login)."""
    return Caller(user_id=None, username=ACTOR, is_superuser=False, roles=((tenant_code, Role.SYSTEM),))


def _method_problem(method: PaymentMethod, at: dt.datetime) -> str | None:
    if method.status != MethodStatus.ACTIVE:
        return f"the payment method is {method.status}"
    if method.flagged_at is not None:
        return f"the payment method was flagged ({method.flag_reason})"
    if expires_at(method.expiry_month, method.expiry_year) <= at:
        return "the payment method expired"
    return None


def _finish(charge: AutopayCharge, status: str, code: str, message: str, at: dt.datetime) -> AutopayCharge:
    charge.status = status
    charge.failure_code, charge.failure_message = code, message
    charge.next_retry_at = None
    charge.updated_at = charge.finished_at = at
    charge.save(
        update_fields=["status", "failure_code", "failure_message", "next_retry_at", "updated_at", "finished_at"]
    )
    return charge


def _lock(charge_id: uuid.UUID | str) -> tuple[AutopayMandate, AutopayCharge]:
    """Lock the charge's payment method, then its mandate, then the charge.

    The one lock order of payment-method rows is payer → payment method → mandate → charge
    (``payment_method_revoke`` locks payer → method → mandates); the outcome of a hard decline updates the
    method, so the method is locked first here, never after the mandate (that inversion could deadlock).
    A mandate's payment method never changes, so reading its id before locking is safe."""
    key = uuid_or_404(charge_id, code=AUTOPAY_CHARGE_NOT_FOUND, message=f"No autopay charge {charge_id}")
    ids = AutopayCharge.objects.filter(pk=key).values_list("mandate_id", "mandate__payment_method_id").first()
    if ids is None:
        raise NotFound(AUTOPAY_CHARGE_NOT_FOUND, f"No autopay charge {charge_id}")
    mandate_id, method_id = ids
    PaymentMethod.objects.select_for_update().filter(pk=method_id).values_list("pk", flat=True).get()
    mandate = (
        AutopayMandate.objects.select_for_update(of=("self",))
        .select_related("payment_method", "tenant")
        .get(pk=mandate_id)
    )
    return mandate, AutopayCharge.objects.select_for_update().get(pk=key)


def _runnable(charge: AutopayCharge, at: dt.datetime) -> bool:
    if charge.status == ChargeStatus.SCHEDULED:
        return True
    return charge.status == ChargeStatus.FAILED and charge.next_retry_at is not None and charge.next_retry_at <= at


def autopay_charge_run(*, charge_id: uuid.UUID | str, at: dt.datetime) -> AutopayCharge:
    """Make one attempt of a SCHEDULED (or due FAILED) charge; returns the charge as it ended (see module doc).

    Safe to call twice: a charge that is not runnable is returned unchanged.
    """
    for _ in range(3):  # at most a couple of bill replacements in one run
        step = _start(charge_id, at)
        if isinstance(step, AutopayCharge):
            return step
        if step[0] == "rebill":
            charge_id = _rebill(step[1], at)
            continue
        return _attempt(step[1], at)
    return AutopayCharge.objects.get(pk=charge_id)


def _start(charge_id: uuid.UUID | str, at: dt.datetime) -> AutopayCharge | tuple[str, AutopayCharge]:
    with transaction.atomic(durable=True):
        mandate, charge = _lock(charge_id)
        if not _runnable(charge, at):
            return charge
        if not mandate.active:
            return _finish(charge, ChargeStatus.CANCELLED, MANDATE_REVOKED, "Autopay was switched off", at)
        problem = _method_problem(mandate.payment_method, at)
        if problem is not None:
            return _finish(charge, ChargeStatus.GAVE_UP, PAYMENT_METHOD_NOT_USABLE, problem, at)
        bill = Bill.objects.select_related("account").get(pk=charge.bill_id)
        if bill.status in (BillStatus.PAID, BillStatus.PARTIALLY_PAID):
            return _finish(charge, ChargeStatus.CANCELLED, BILL_PAID, f"Bill {bill.bill_number} was paid", at)
        if not is_current(bill, bill.account, at):
            return ("rebill", charge)
        charge.attempt += 1
        charge.status = ChargeStatus.IN_PROGRESS
        charge.next_retry_at = None
        charge.gateway_transaction_id = None
        charge.attempt_reference = uuid.uuid4()  # the gateway transaction's id for this attempt
        charge.last_attempt_at = charge.updated_at = at
        charge.save(
            update_fields=[
                "attempt",
                "status",
                "next_retry_at",
                "gateway_transaction_id",
                "attempt_reference",
                "last_attempt_at",
                "updated_at",
            ]
        )
        return ("charge", charge)


def _attempt(charge: AutopayCharge, at: dt.datetime) -> AutopayCharge:
    """The gateway call (no transaction open), then the outcome."""
    mandate = AutopayMandate.objects.select_related("payment_method", "tenant").get(pk=charge.mandate_id)
    method = mandate.payment_method
    try:
        txn = gateway_payment_initiate(
            caller=autopay_caller(mandate.tenant.code),
            bill_id=charge.bill_id,
            amount=to_money(charge.amount),
            payment_method_token=method.gateway_token,
            payment_method_id=method.pk,
            transaction_id=charge.attempt_reference,
            at=at,
        )
    except DomainError as exc:
        return _record_refusal(charge.pk, charge.attempt, exc, at)
    return _record_outcome(charge.pk, txn, at, attempt=charge.attempt)


def _record_refusal(charge_id: uuid.UUID, attempt: int, exc: DomainError, at: dt.datetime) -> AutopayCharge:
    """Our own validation refused the charge before the gateway was called (nothing was charged)."""
    with transaction.atomic(durable=True):
        _, charge = _lock(charge_id)
        if charge.status != ChargeStatus.IN_PROGRESS or charge.attempt != attempt:
            return charge
        if exc.code in PAID_BILL_CODES:
            return _finish(charge, ChargeStatus.CANCELLED, BILL_PAID, exc.message, at)
        if exc.code in STALE_BILL_CODES:
            # The bill went stale between our check and the gateway service's: not an attempt; retry at once
            # (the run fetches the consumer's current bill).
            charge.attempt -= 1
            charge.status, charge.next_retry_at = ChargeStatus.FAILED, at
            charge.failure_code, charge.failure_message = exc.code, exc.message
            charge.updated_at = at
            charge.save()
            return charge
        return _finish(charge, ChargeStatus.GAVE_UP, exc.code, exc.message, at)


def _record_outcome(
    charge_id: uuid.UUID, txn: GatewayTransaction, at: dt.datetime, *, attempt: int | None = None
) -> AutopayCharge:
    """Record what the gateway transaction of the charge's current attempt says."""
    with transaction.atomic(durable=True):
        mandate, charge = _lock(charge_id)
        if charge.status != ChargeStatus.IN_PROGRESS or (attempt is not None and charge.attempt != attempt):
            return charge
        charge.gateway_transaction_id = txn.pk
        charge.updated_at = at
        if txn.status == TransactionStatus.SUCCESS and txn.payment_id is None:
            # Money taken that the bill could not take (it went stale while the answer was pending): the
            # gateway keeps it UNAPPLIED in its reconciliation queue. Never final for autopay: scheduling skips
            # the consumer until staff refund it or apply it by hand (``autopay_charge_resolve``).
            charge.status, charge.next_retry_at, charge.finished_at = ChargeStatus.UNAPPLIED, None, None
            charge.failure_code = UNAPPLIED
            charge.failure_message = (
                f"The gateway took {txn.amount} ({txn.merchant_reference}) but no payment could be recorded: "
                "refund it or apply it by hand from the reconciliation queue"
            )
        elif txn.status == TransactionStatus.SUCCESS:
            charge.status, charge.finished_at = ChargeStatus.SUCCEEDED, at
            charge.failure_code, charge.failure_message, charge.next_retry_at = "", "", None
        elif txn.status == TransactionStatus.FAILURE:
            charge.failure_code = txn.failure_code or GATEWAY_FAILURE
            charge.failure_message = f"Declined by the gateway ({txn.decline_type or 'no decline type'})"
            if txn.decline_type == DeclineType.HARD:
                charge.status, charge.next_retry_at, charge.finished_at = ChargeStatus.GAVE_UP, None, at
                PaymentMethod.objects.filter(pk=mandate.payment_method_id, flagged_at=None).update(
                    flagged_at=at, flag_reason=charge.failure_code[:64], updated_at=at
                )
            else:
                retry = next_retry_at(delays_days=retry_delays_days(), attempt=charge.attempt, failed_at=at)
                if retry is None:
                    charge.status, charge.next_retry_at, charge.finished_at = ChargeStatus.GAVE_UP, None, at
                else:
                    charge.status, charge.next_retry_at = ChargeStatus.FAILED, retry
        charge.save()
        return charge


def _rebill(charge: AutopayCharge, at: dt.datetime) -> uuid.UUID:
    """The charge's bill is no longer current: fetch the consumer's current bill (outside our transaction) and
    move the charge to it. Returns the id of the charge to run next (the same one when it ended)."""
    mandate = AutopayMandate.objects.select_related("tenant").get(pk=charge.mandate_id)
    try:
        bills = bill_fetch(
            caller=autopay_caller(mandate.tenant.code),
            criteria=FetchCriteria(
                tenant_id=mandate.tenant.code,
                business_service=mandate.business_service,
                consumer_codes=(mandate.consumer_code,),
            ),
            at=at,
        )
    except DomainError as exc:
        logger.warning("autopay: fetching the current bill of charge %s failed: %s", charge.pk, exc.code)
        bills = None
    with transaction.atomic(durable=True):
        mandate, locked = _lock(charge.pk)
        if not _runnable(locked, at):
            return locked.pk
        if bills is None:
            # Try again at the next retry run; not an attempt.
            locked.status, locked.next_retry_at, locked.updated_at = ChargeStatus.FAILED, at, at
            locked.failure_code, locked.failure_message = BILL_FETCH_FAILED, "The current bill could not be fetched"
            locked.save()
            return locked.pk
        new_bill = bills[0] if bills else None
        if new_bill is None or new_bill.total_amount <= 0:
            _finish(locked, ChargeStatus.CANCELLED, NOTHING_DUE, "The consumer owes nothing any more", at)
            return locked.pk
        if new_bill.pk == locked.bill_id:  # pragma: no cover - fetched bills are current
            return locked.pk
        if new_bill.payer_id != mandate.payer_id:
            _finish(locked, ChargeStatus.CANCELLED, PAYER_CHANGED, "The consumer's bill names another payer", at)
            return locked.pk
        existing = AutopayCharge.objects.select_for_update().filter(bill=new_bill).first()
        if existing is not None:
            supersede(locked, existing, at)
            return existing.pk
        new = AutopayCharge(
            mandate=mandate,
            bill=new_bill,
            amount=new_bill.total_amount,
            attempt=locked.attempt,
            status=ChargeStatus.SCHEDULED,
            created_at=at,
            updated_at=at,
        )
        if mandate.max_amount is not None and new_bill.total_amount > mandate.max_amount:
            new.status, new.finished_at, new.failure_code = ChargeStatus.GAVE_UP, at, AUTOPAY_OVER_LIMIT
            new.failure_message = f"The bill's {new_bill.total_amount} is above the limit {mandate.max_amount}"
        new.save(force_insert=True)
        supersede(locked, new, at)
        return new.pk


def autopay_charges_sync(*, at: dt.datetime, limit: int = 500) -> int:
    """Settle IN_PROGRESS charges from their gateway transactions (final ones), and recover lost attempts:
    an IN_PROGRESS charge with no transaction recorded after ``AUTOPAY_LOST_ATTEMPT_SECONDS`` adopts the
    transaction the gateway service stored for it — the one whose id is the attempt's ``attempt_reference``,
    which only autopay sets (never "a transaction of the same bill and method": the payer's own charge of that
    card is not autopay's) — or, when there is none (the call never got that far), becomes FAILED and due at
    once without counting the attempt.
    Returns how many charges changed."""
    changed = 0
    final = (TransactionStatus.SUCCESS, TransactionStatus.FAILURE)
    charges = list(
        AutopayCharge.objects.filter(status=ChargeStatus.IN_PROGRESS)
        .filter(
            Q(gateway_transaction__status__in=final)
            | Q(gateway_transaction__isnull=True, last_attempt_at__lte=at - lost_attempt_after())
        )
        .select_related("mandate", "gateway_transaction")
        .order_by("last_attempt_at", "pk")[:limit]
    )
    for charge in charges:
        txn = charge.gateway_transaction
        if txn is None:
            txn = (
                GatewayTransaction.objects.filter(pk=charge.attempt_reference).first()
                if charge.attempt_reference is not None
                else None
            )
            if txn is None:
                changed += _lost(charge.pk, charge.attempt, at)
                continue
        after = _record_outcome(charge.pk, txn, at, attempt=charge.attempt)
        changed += int(after.status != ChargeStatus.IN_PROGRESS or charge.gateway_transaction_id is None)
    return changed + _unapplied_refunded(at=at, limit=limit)


def _unapplied_refunded(*, at: dt.datetime, limit: int) -> int:
    """UNAPPLIED charges whose money the gateway refunded in full: CANCELLED ``REFUNDED``; the consumer's
    current bill is then scheduled afresh by the next run (the payer's consent stands)."""
    changed = 0
    refunded = (
        AutopayCharge.objects.filter(
            status=ChargeStatus.UNAPPLIED, gateway_transaction__refunded_amount=F("gateway_transaction__amount")
        )
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for charge_id in list(refunded):
        with transaction.atomic(durable=True):
            _, charge = _lock(charge_id)
            if charge.status != ChargeStatus.UNAPPLIED:
                continue
            txn = charge.gateway_transaction
            if txn is None or txn.refunded_amount != txn.amount:  # pragma: no cover - refunds only grow
                continue
            _finish(charge, ChargeStatus.CANCELLED, REFUNDED, f"The gateway refunded {txn.amount} in full", at)
            changed += 1
    return changed


def autopay_charge_resolve(*, caller: Caller, charge_id: uuid.UUID | str, at: dt.datetime) -> AutopayCharge:
    """Staff (BILLING_ADMIN of the charge's tenant): the money of an UNAPPLIED charge was applied by hand (a
    counter payment of the consumer's bill from the reconciliation queue): the charge becomes SUCCEEDED and the
    consumer's autopay resumes. A refund needs no call: ``autopay_charges_sync`` notices it."""
    with transaction.atomic(durable=True):
        mandate, charge = _lock(charge_id)
        require_role(caller, mandate.tenant.code, RESOLVE_ROLES, "resolve unapplied autopay charges")
        if charge.status != ChargeStatus.UNAPPLIED:
            raise ConflictError(
                AUTOPAY_CHARGE_NOT_UNAPPLIED, f"Only an UNAPPLIED charge can be resolved; this one is {charge.status}"
            )
        charge.status = ChargeStatus.SUCCEEDED
        charge.failure_code = ""
        charge.failure_message = f"Resolved by {caller.username}: the money was applied by hand"
        charge.updated_at = charge.finished_at = at
        charge.save(update_fields=["status", "failure_code", "failure_message", "updated_at", "finished_at"])
    return charge


def _lost(charge_id: uuid.UUID, attempt: int, at: dt.datetime) -> int:
    with transaction.atomic(durable=True):
        _, charge = _lock(charge_id)
        if charge.status != ChargeStatus.IN_PROGRESS or charge.attempt != attempt or charge.gateway_transaction_id:
            return 0
        reference = charge.attempt_reference
        if reference is not None and GatewayTransaction.objects.filter(pk=reference).exists():
            return 0  # stored just now: the next sync adopts it
        charge.attempt -= 1
        charge.status, charge.next_retry_at, charge.updated_at = ChargeStatus.FAILED, at, at
        charge.failure_code = ATTEMPT_LOST
        charge.failure_message = "The attempt stopped before the gateway service stored a transaction"
        charge.save()
        return 1


def autopay_retries_due(*, at: dt.datetime, limit: int = 500) -> list[uuid.UUID]:
    """Sync IN_PROGRESS charges, then answer the FAILED charges of active mandates whose retry date has passed
    (oldest first). Running them (``autopay_charge_run``) re-checks the bill first."""
    autopay_charges_sync(at=at, limit=limit)
    return list(
        AutopayCharge.objects.filter(status=ChargeStatus.FAILED, next_retry_at__lte=at)
        .order_by("next_retry_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def autopay_charge_retry_now(*, caller: Caller, charge_id: uuid.UUID | str, at: dt.datetime) -> AutopayCharge:
    """Staff: retry a FAILED charge now instead of at its ``next_retry_at`` (same rules as a scheduled retry)."""
    with transaction.atomic(durable=True):
        mandate, charge = _lock(charge_id)
        require_role(caller, mandate.tenant.code, MANAGE_ROLES, "retry autopay charges")
        if charge.status != ChargeStatus.FAILED:
            raise ConflictError(
                AUTOPAY_CHARGE_NOT_RETRYABLE, f"Only a FAILED charge can be retried; this one is {charge.status}"
            )
        charge.next_retry_at = at
        charge.updated_at = at
        charge.save(update_fields=["next_retry_at", "updated_at"])
    return autopay_charge_run(charge_id=charge.pk, at=at)
