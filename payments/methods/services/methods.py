"""Register, revoke and choose the default of a payer's saved payment methods.

A payment method is the gateway's token and a masked label (``VISA •••• 4242``) — never a card number: every
text field is checked with ``contains_pan`` (13–19 digits passing Luhn, blanks/dashes allowed) and refused with
``PAYMENT_METHOD_CARD_NUMBER_REFUSED``, without echoing the value. The token is unique per gateway
(``payment_methods_paymentmethod_unique_token``); the first ACTIVE method of a payer becomes their default, and
at most one ACTIVE default per payer is database-enforced. Revoking a method switches off the mandates that
use it and cancels their charges that are not in flight.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from billing_project.db import is_unique_violation
from billing_project.errors import ConflictError, DomainError, NotFound
from masters.access import Caller, require_role
from masters.models import Payer
from payments.gateway.adapters import adapter_names
from payments.gateway.errors import GATEWAY_UNKNOWN
from payments.methods.domain.pan import contains_pan
from payments.methods.errors import (
    PAYMENT_METHOD_CARD_NUMBER_REFUSED,
    PAYMENT_METHOD_DUPLICATE,
    PAYMENT_METHOD_EXPIRED,
    PAYMENT_METHOD_INVALID,
    PAYMENT_METHOD_NOT_FOUND,
    PAYMENT_METHOD_NOT_USABLE,
    PAYMENT_METHOD_REVOKED,
)
from payments.methods.models import (
    AutopayCharge,
    AutopayMandate,
    ChargeStatus,
    MethodStatus,
    PaymentMethod,
)
from payments.methods.selectors import MANAGE_ROLES
from payments.methods.services.access import may_act_for, payer_for

UNIQUE_TOKEN = "payment_methods_paymentmethod_unique_token"
_LONG_DIGIT_RUN = re.compile(r"\d{5,}")
_LAST4 = re.compile(r"[0-9]{4}")


def gateway_name() -> str:
    """The configured gateway adapter's name (setting ``PAYMENT_GATEWAY``); GATEWAY_UNKNOWN when none is configured
    (production has none by default: a token of no gateway could never be charged)."""
    name = str(getattr(settings, "PAYMENT_GATEWAY", "") or "")
    if name not in adapter_names():
        raise ConflictError(
            GATEWAY_UNKNOWN, f"No payment gateway {name!r} is configured: payment methods cannot be registered"
        )
    return name


def refuse_card_numbers(**values: str) -> None:
    """Raise ``PAYMENT_METHOD_CARD_NUMBER_REFUSED`` naming every field that looks like a card number."""
    offending = sorted(name for name, value in values.items() if value and contains_pan(value))
    if offending:
        raise DomainError(
            PAYMENT_METHOD_CARD_NUMBER_REFUSED,
            "Card numbers are never accepted: register the token and masked label the payment gateway "
            "gave you (it tokenises the card on its own page)",
            fields={name: ["looks like a card number (13-19 digits passing the Luhn check)"] for name in offending},
        )


def expires_at(expiry_month: int, expiry_year: int) -> dt.datetime:
    """The first instant after the card's expiry month (cards are valid through the end of that month, UTC)."""
    last_day = calendar.monthrange(expiry_year, expiry_month)[1]
    return dt.datetime(expiry_year, expiry_month, last_day, tzinfo=dt.UTC) + dt.timedelta(days=1)


def _validate(
    *, gateway_token: str, label: str, brand: str, last4: str, expiry_month: int, expiry_year: int, at: dt.datetime
) -> None:
    problems: dict[str, list[str]] = {}
    if not gateway_token.strip() or len(gateway_token) > 256:
        problems["gateway_token"] = ["the gateway's token is required (at most 256 characters)"]
    if not label.strip() or len(label) > 64:
        problems["label"] = ["a masked label is required (at most 64 characters)"]
    elif _LONG_DIGIT_RUN.search(label):
        problems["label"] = ["the label must be masked: at most 4 digits in a row, e.g. VISA •••• 4242"]
    if len(brand) > 32:
        problems["brand"] = ["at most 32 characters"]
    if last4 and not _LAST4.fullmatch(last4):
        problems["last4"] = ["the last 4 digits, or blank"]
    if not 1 <= expiry_month <= 12:
        problems["expiry_month"] = ["1 to 12"]
    if not 2000 <= expiry_year <= 9999:
        problems["expiry_year"] = ["a four-digit year"]
    if problems:
        name, messages = next(iter(problems.items()))
        raise DomainError(PAYMENT_METHOD_INVALID, f"{name}: {messages[0]}", fields=problems)
    if expires_at(expiry_month, expiry_year) <= at:
        raise DomainError(
            PAYMENT_METHOD_EXPIRED,
            f"The payment method expired at the end of {expiry_month:02d}/{expiry_year}",
            fields={"expiry_year": ["expired"]},
        )


def payment_method_register(
    *,
    caller: Caller,
    payer_id: uuid.UUID | str | None,
    gateway_token: str,
    label: str,
    expiry_month: int,
    expiry_year: int,
    brand: str = "",
    last4: str = "",
    make_default: bool = False,
    at: dt.datetime,
) -> PaymentMethod:
    """Save a tokenised payment method for a payer (the caller's own payer when ``payer_id`` is None)."""
    refuse_card_numbers(gateway_token=gateway_token, label=label, brand=brand, last4=last4)
    _validate(
        gateway_token=gateway_token,
        label=label,
        brand=brand,
        last4=last4,
        expiry_month=expiry_month,
        expiry_year=expiry_year,
        at=at,
    )
    payer = payer_for(caller, payer_id)
    try:
        with transaction.atomic(durable=True):
            Payer.objects.select_for_update().filter(pk=payer.pk).values_list("pk", flat=True).get()
            has_default = PaymentMethod.objects.filter(
                payer=payer, status=MethodStatus.ACTIVE, is_default=True
            ).exists()
            if make_default and has_default:
                PaymentMethod.objects.filter(payer=payer, status=MethodStatus.ACTIVE, is_default=True).update(
                    is_default=False, updated_at=at
                )
            method = PaymentMethod(
                payer=payer,
                tenant=payer.tenant,
                gateway=gateway_name(),
                gateway_token=gateway_token.strip(),
                label=label.strip(),
                brand=brand.strip(),
                last4=last4,
                expiry_month=expiry_month,
                expiry_year=expiry_year,
                status=MethodStatus.ACTIVE,
                is_default=make_default or not has_default,
                created_by=caller.username,
                created_at=at,
                updated_at=at,
            )
            method.save(force_insert=True)
    except IntegrityError as exc:
        if is_unique_violation(exc, PaymentMethod, UNIQUE_TOKEN):
            raise ConflictError(PAYMENT_METHOD_DUPLICATE, "This gateway token is already registered") from exc
        raise
    return method


def _locked_method(caller: Caller, method_id: int | str) -> PaymentMethod:
    try:
        key = int(method_id)
    except (TypeError, ValueError):
        raise NotFound(PAYMENT_METHOD_NOT_FOUND, f"No payment method {method_id}") from None
    payer_id = PaymentMethod.objects.filter(pk=key).values_list("payer_id", flat=True).first()
    if payer_id is None:
        raise NotFound(PAYMENT_METHOD_NOT_FOUND, f"No payment method {method_id}")
    # Lock order: payer, then its method (registration locks the payer too).
    payer = Payer.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=payer_id)
    if not may_act_for(caller, payer):
        raise NotFound(PAYMENT_METHOD_NOT_FOUND, f"No payment method {method_id}")
    return PaymentMethod.objects.select_for_update(of=("self",)).select_related("payer").get(pk=key)


def payment_method_revoke(*, caller: Caller, method_id: int | str, at: dt.datetime) -> PaymentMethod:
    """Revoke a payment method (idempotent). Its active mandates are switched off and their charges that are
    not in flight (SCHEDULED, FAILED) are CANCELLED (``PAYMENT_METHOD_REVOKED``)."""
    with transaction.atomic(durable=True):
        method = _locked_method(caller, method_id)
        if method.status == MethodStatus.REVOKED:
            return method
        mandates = list(
            AutopayMandate.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(payment_method=method, active=True)
            .order_by("pk")
        )
        if not caller.is_superuser and (caller.user_id is None or method.payer.user_id != caller.user_id):
            # Staff switch off a mandate only in a tenant where they hold the role (as for opting out).
            for mandate in mandates:
                require_role(caller, mandate.tenant.code, MANAGE_ROLES, "switch off autopay in this tenant")
        method.status = MethodStatus.REVOKED
        method.is_default = False
        method.revoked_at = at
        method.updated_at = at
        method.save(update_fields=["status", "is_default", "revoked_at", "updated_at"])
        for mandate in mandates:
            mandates_switch_off(mandate, actor=caller.username, code=PAYMENT_METHOD_REVOKED, at=at)
    return method


def mandates_switch_off(mandate: AutopayMandate, *, actor: str, code: str, at: dt.datetime) -> None:
    """Deactivate a (locked) mandate and cancel its charges that are not in flight. Inside a transaction."""
    with transaction.atomic(savepoint=False):
        AutopayMandate.objects.filter(pk=mandate.pk).update(active=False, revoked_at=at, revoked_by=actor)
        mandate.active, mandate.revoked_at, mandate.revoked_by = False, at, actor
        AutopayCharge.objects.filter(mandate=mandate, status__in=(ChargeStatus.SCHEDULED, ChargeStatus.FAILED)).update(
            status=ChargeStatus.CANCELLED,
            next_retry_at=None,
            failure_code=code,
            failure_message="Autopay was switched off",
            updated_at=at,
            finished_at=at,
        )


def payment_method_set_default(*, caller: Caller, method_id: int | str, at: dt.datetime) -> PaymentMethod:
    """Make an ACTIVE payment method its payer's default (the previous default stays, not default)."""
    with transaction.atomic(durable=True):
        method = _locked_method(caller, method_id)
        if method.status != MethodStatus.ACTIVE:
            raise ConflictError(PAYMENT_METHOD_NOT_USABLE, f"Payment method {method.pk} is {method.status}")
        PaymentMethod.objects.filter(payer_id=method.payer_id, is_default=True).exclude(pk=method.pk).update(
            is_default=False, updated_at=at
        )
        method.is_default = True
        method.updated_at = at
        method.save(update_fields=["is_default", "updated_at"])
    return method


def expired_q(at: dt.datetime, prefix: str = "") -> Q:
    """Methods whose expiry month ended before ``at`` (UTC); ``prefix`` to filter through a relation."""
    current = timezone.localtime(at, dt.UTC)
    return Q(**{f"{prefix}expiry_year__lt": current.year}) | Q(
        **{f"{prefix}expiry_year": current.year, f"{prefix}expiry_month__lt": current.month}
    )


def payment_methods_expire(*, at: dt.datetime) -> int:
    """Mark ACTIVE methods whose expiry month has ended EXPIRED (set-based); returns how many."""
    with transaction.atomic(durable=True):
        return PaymentMethod.objects.filter(expired_q(at), status=MethodStatus.ACTIVE).update(
            status=MethodStatus.EXPIRED, is_default=False, updated_at=at
        )
