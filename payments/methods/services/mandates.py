"""Autopay opt-in and opt-out.

A mandate names one consumer (tenant, business service, consumer code) and one payment method of the payer.
Opting in needs: a caller who may act for the payer (``access``) and — unless acting for their own payer — a
``MANAGE_ROLES`` role reaching the consumer's tenant; an existing consumer account whose demands name this
payer (nobody puts someone else's bills on their card, nor learns their amounts); a usable method of that
payer (ACTIVE, not flagged, not expired). One active mandate per consumer is database-enforced
(``payment_methods_autopaymandate_one_active_per_consumer`` → ``AUTOPAY_MANDATE_EXISTS``, 409).
Only bills generated after the opt-in are charged.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction

from billing_project.db import is_unique_violation
from billing_project.errors import ConflictError, DomainError, NotFound
from billing_project.money import MoneyError, exact_money
from demands.models import ConsumerAccount, Demand
from masters.access import Caller, require_role
from masters.models import Payer
from payments.methods.errors import (
    AUTOPAY_CONSUMER_NOT_FOUND,
    AUTOPAY_MANDATE_EXISTS,
    AUTOPAY_MANDATE_INVALID,
    AUTOPAY_MANDATE_NOT_FOUND,
    MANDATE_REVOKED,
    PAYMENT_METHOD_NOT_FOUND,
    PAYMENT_METHOD_NOT_USABLE,
)
from payments.methods.models import AutopayMandate, MethodStatus, PaymentMethod
from payments.methods.selectors import MANAGE_ROLES
from payments.methods.services.access import may_act_for
from payments.methods.services.methods import expires_at, mandates_switch_off

ONE_ACTIVE = "payment_methods_autopaymandate_one_active_per_consumer"


def _max_amount(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    try:
        amount: Decimal | None = exact_money(value)
    except MoneyError:
        amount = None
    if amount is None or amount <= 0:
        raise DomainError(
            AUTOPAY_MANDATE_INVALID,
            "max_amount must be a positive amount with at most two decimal places",
            fields={"max_amount": ["a positive amount with at most two decimal places"]},
        )
    return amount


def autopay_mandate_create(
    *,
    caller: Caller,
    tenant_code: str,
    business_service: str,
    consumer_code: str,
    payment_method_id: int | str,
    max_amount: Decimal | None = None,
    at: dt.datetime,
) -> AutopayMandate:
    """Opt a consumer in to autopay with one of the payer's payment methods (the payer is the method's)."""
    limit = _max_amount(max_amount)
    try:
        method_key = int(payment_method_id)
    except (TypeError, ValueError):
        raise NotFound(PAYMENT_METHOD_NOT_FOUND, f"No payment method {payment_method_id}") from None
    method = PaymentMethod.objects.select_related("payer", "payer__tenant").filter(pk=method_key).first()
    if method is None or not may_act_for(caller, method.payer):
        raise NotFound(PAYMENT_METHOD_NOT_FOUND, f"No payment method {payment_method_id}")
    payer: Payer = method.payer
    check_usable(method, at)
    if caller.user_id is None or payer.user_id != caller.user_id:
        require_role(caller, tenant_code, MANAGE_ROLES, "set up autopay for other payers")
    account = (
        ConsumerAccount.objects.select_related("tenant")
        .filter(tenant__code=tenant_code, business_service=business_service, consumer_code=consumer_code)
        .first()
    )
    if account is None or not Demand.objects.filter(account=account, payer=payer).exists():
        raise NotFound(
            AUTOPAY_CONSUMER_NOT_FOUND,
            f"No consumer {business_service}/{consumer_code} in {tenant_code} whose demands name this payer",
        )
    try:
        with transaction.atomic(durable=True):
            # Locked and re-checked: a revocation committed meanwhile must not leave an active mandate behind.
            check_usable(PaymentMethod.objects.select_for_update().get(pk=method.pk), at)
            mandate = AutopayMandate(
                payer=payer,
                tenant=account.tenant,
                business_service=business_service,
                consumer_code=consumer_code,
                payment_method=method,
                max_amount=limit,
                active=True,
                created_by=caller.username,
                created_at=at,
            )
            mandate.save(force_insert=True)
    except IntegrityError as exc:
        if is_unique_violation(exc, AutopayMandate, ONE_ACTIVE):
            raise ConflictError(
                AUTOPAY_MANDATE_EXISTS,
                f"Autopay is already on for {business_service}/{consumer_code}: switch it off first",
            ) from exc
        raise
    return mandate


def check_usable(method: PaymentMethod, at: dt.datetime) -> None:
    """``PAYMENT_METHOD_NOT_USABLE`` (409) unless the method is ACTIVE, not flagged and not expired."""
    if method.flagged_at is not None:
        reason = "flagged after a hard decline"
    elif method.status != MethodStatus.ACTIVE:
        reason = method.status.lower()
    elif expires_at(method.expiry_month, method.expiry_year) <= at:
        reason = "expired"
    else:
        return
    raise ConflictError(PAYMENT_METHOD_NOT_USABLE, f"Payment method {method.pk} cannot be used: {reason}")


def autopay_mandate_revoke(*, caller: Caller, mandate_id: int | str, at: dt.datetime) -> AutopayMandate:
    """Opt out (idempotent): the mandate is switched off and its charges not in flight are CANCELLED."""
    try:
        key = int(mandate_id)
    except (TypeError, ValueError):
        raise NotFound(AUTOPAY_MANDATE_NOT_FOUND, f"No autopay mandate {mandate_id}") from None
    with transaction.atomic(durable=True):
        mandate = (
            AutopayMandate.objects.select_for_update(of=("self",))
            .select_related("payer", "payer__tenant", "tenant")
            .filter(pk=key)
            .first()
        )
        if mandate is None or not _may_manage(caller, mandate):
            raise NotFound(AUTOPAY_MANDATE_NOT_FOUND, f"No autopay mandate {mandate_id}")
        if mandate.active:
            mandates_switch_off(mandate, actor=caller.username, code=MANDATE_REVOKED, at=at)
    return mandate


def _may_manage(caller: Caller, mandate: AutopayMandate) -> bool:
    if caller.user_id is not None and mandate.payer.user_id == caller.user_id:
        return True
    return caller.has_role(mandate.tenant.code, MANAGE_ROLES)
