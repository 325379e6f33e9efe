"""``gateway_payment_initiate``: start an online payment of a bill.

1. Validate like a counter payment (``payment_validate`` on a PaymentInput with mode ONLINE: the bill ACTIVE
   and current, the business service's amount rules, ONLINE allowed) — nothing is written on a refusal.
2. Commit an INITIATED row with our reference ``GTX-<id hex>`` and the idempotency key derived from it
   (``next_poll_at`` = now + the INITIATED grace: if we crash before storing the gateway's answer, the poller
   and the reconciler find it by reference).
3. Outside any transaction, call the gateway (hosted checkout, or a direct charge of a saved token), retried in
   place on transient errors with the same key; store the answer: PENDING + checkout URL, or the charge's final
   verdict through ``gateway_verdict_apply``. A transient failure that outlives the retries leaves it UNKNOWN
   with a next poll time; a refusal (4xx) makes it FAILURE.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction

from billing_project.errors import DomainError
from billing_project.money import ZERO, InexactMoney, MoneyError, exact_money
from billing_project.uuids import uuid_or_none
from bills.models import Bill
from masters.access import Caller, require_role
from masters.models import Role
from payments.gateway.adapters import adapter_for
from payments.gateway.adapters.base import (
    ChargeRequest,
    Customer,
    GatewayAdapter,
    InitiateRequest,
    PermanentGatewayError,
    TransactionInfo,
    TransientGatewayError,
)
from payments.gateway.domain.verdicts import GatewayVerdict, VerdictOutcome
from payments.gateway.errors import (
    GATEWAY_BILL_NOT_FOUND,
    GATEWAY_RETURN_URL_INVALID,
    amount_invalid,
)
from payments.gateway.models import (
    AttemptKind,
    AttentionReason,
    GatewayTransaction,
    TransactionKind,
    TransactionStatus,
)
from payments.gateway.selectors import gateway_transaction_get
from payments.gateway.services import config
from payments.gateway.services.calls import gateway_call
from payments.gateway.services.schedule import schedule_after_transient
from payments.gateway.services.verdict import (
    SOURCE_CHARGE,
    SOURCE_INITIATE,
    gateway_caller,
    gateway_verdict_apply,
    online_payment_input,
)
from payments.selectors import PAYMENT_ROLES
from payments.services import payment_validate

# Who may start an online payment: staff with a payment role, and citizens (paying their own bills online).
INITIATE_ROLES = (*PAYMENT_ROLES, Role.CITIZEN)


def _amount(value: Decimal) -> Decimal:
    try:
        amount = exact_money(value)
    except InexactMoney:
        raise amount_invalid(f"Invalid amount {value}: at most two decimal places and 12 digits") from None
    except MoneyError:
        raise amount_invalid(f"Not an amount: {value}") from None
    if amount <= ZERO:
        raise amount_invalid("An online payment must be more than zero")
    return amount


def _return_url(value: str) -> str:
    value = value.strip()
    if not value:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        raise DomainError(
            GATEWAY_RETURN_URL_INVALID, "return_url must be an http(s) URL", fields={"return_url": ["not a URL"]}
        ) from None
    if len(value) > 1024:
        raise DomainError(GATEWAY_RETURN_URL_INVALID, "return_url is too long", fields={"return_url": ["too long"]})
    return value


def _bill(bill_id: uuid.UUID | str) -> Bill:
    key = uuid_or_none(bill_id)
    bill = Bill.objects.select_related("tenant").filter(pk=key).first() if key is not None else None
    if bill is None:
        raise DomainError(
            GATEWAY_BILL_NOT_FOUND, f"Bill ID provided does not exist or is in an invalid state: {bill_id}"
        )
    return bill


def gateway_payment_initiate(
    *,
    caller: Caller,
    bill_id: uuid.UUID | str,
    amount: Decimal,
    return_url: str = "",
    payment_method_token: str | None = None,
    payment_method_id: int | None = None,
    transaction_id: uuid.UUID | None = None,
    at: dt.datetime,
    gateway: str | None = None,
) -> GatewayTransaction:
    """Start an online payment of ``amount`` for the bill (see the module docstring); returns the transaction
    as stored after the gateway's answer (PENDING with ``checkout_url``, SUCCESS/FAILURE for a token charge,
    UNKNOWN when the answer was lost). ``gateway`` defaults to ``settings.PAYMENT_GATEWAY``.

    The token parameters are for ``payments.methods`` only (a saved method's charge after its own owner and
    status checks; the REST input has none). ``transaction_id``: the id to give the new transaction, chosen by
    a caller that must find it again after a crash (autopay); a fresh one when None."""
    bill = _bill(bill_id)
    require_role(caller, bill.tenant.code, INITIATE_ROLES, "pay bills online")
    paid = _amount(amount)
    url = _return_url(return_url)
    token = (payment_method_token or "").strip() or None
    adapter = adapter_for(gateway)
    txn_id = transaction_id or uuid.uuid4()
    reference = f"GTX-{txn_id.hex}"
    txn = GatewayTransaction(
        id=txn_id,
        merchant_reference=reference,
        idempotency_key=f"{reference}:{'charge' if token else 'initiate'}",
        gateway=adapter.name,
        kind=TransactionKind.TOKEN_CHARGE if token else TransactionKind.CHECKOUT,
        tenant=bill.tenant,
        bill=bill,
        consumer_code=bill.consumer_code,
        business_service=bill.business_service,
        amount=paid,
        currency=config.currency(),
        return_url=url,
        payer_name=bill.payer_name,
        payer_email=bill.payer_email,
        payer_mobile=bill.mobile_number,
        payment_method_id=payment_method_id,
        next_poll_at=at + config.initiated_grace(),
        created_by=caller.username or "anonymous",
        created_at=at,
        updated_at=at,
    )
    # The counter rules (bill ACTIVE and current, part payment, advance, whole amounts, ONLINE allowed).
    payment_validate(
        caller=gateway_caller(adapter.name),
        payment=online_payment_input(txn, transaction_number=reference, at=at),
        at=at,
    )
    with transaction.atomic(durable=True):
        txn.save(force_insert=True)
    gateway_transaction_send(txn=txn, adapter=adapter, token=token, at=at)
    return gateway_transaction_get(txn.pk)


def gateway_transaction_send(
    *, txn: GatewayTransaction, adapter: GatewayAdapter, token: str | None, at: dt.datetime
) -> None:
    """The initiate / charge call of a committed INITIATED row, and storing its answer. Not in a transaction."""
    description = f"{txn.business_service} {txn.consumer_code} bill {txn.bill.bill_number}"
    try:
        if token is not None:
            info = gateway_call(
                txn=txn,
                kind=AttemptKind.CHARGE,
                summary={"merchant_reference": txn.merchant_reference, "amount": str(txn.amount), "token": "***"},
                call=lambda: adapter.charge_token(
                    ChargeRequest(
                        merchant_reference=txn.merchant_reference,
                        amount=txn.amount,
                        currency=txn.currency,
                        token=token,
                        callback_url=config.callback_url(adapter.name),
                        description=description,
                        idempotency_key=txn.idempotency_key,
                    )
                ),
                at=at,
            )
        else:
            info = gateway_call(
                txn=txn,
                kind=AttemptKind.INITIATE,
                summary={"merchant_reference": txn.merchant_reference, "amount": str(txn.amount)},
                call=lambda: adapter.initiate(
                    InitiateRequest(
                        merchant_reference=txn.merchant_reference,
                        amount=txn.amount,
                        currency=txn.currency,
                        callback_url=config.callback_url(adapter.name),
                        return_url=txn.return_url,
                        description=description,
                        customer=Customer(name=txn.payer_name, mobile=txn.payer_mobile, email=txn.payer_email),
                        idempotency_key=txn.idempotency_key,
                    )
                ),
                at=at,
            )
    except TransientGatewayError as exc:
        schedule_after_transient(transaction_id=txn.pk, error=exc.message, at=at, to_unknown=True)
        return
    except PermanentGatewayError as exc:
        _refused(txn, exc, charge=token is not None, at=at)
        return
    info_store(transaction_id=txn.pk, info=info, source=SOURCE_CHARGE if token else SOURCE_INITIATE, at=at)


def verdict_of(info: TransactionInfo) -> GatewayVerdict:
    return GatewayVerdict(
        status=info.status,
        amount=info.amount,
        gateway_transaction_id=info.gateway_transaction_id,
        failure_code=info.failure_code,
        sequence=None,
        occurred_at=None,
        decline=info.decline,
        currency=info.currency,
    )


def info_store(*, transaction_id: uuid.UUID, info: TransactionInfo, source: str, at: dt.datetime) -> VerdictOutcome:
    """Remember what the gateway holds (its id, the checkout URL), then apply its status as a verdict."""
    with transaction.atomic(durable=True):
        rows = list(GatewayTransaction.objects.select_for_update().filter(pk=transaction_id))
        txn = rows[0]
        changed = False
        if not txn.gateway_transaction_id and info.merchant_reference == txn.merchant_reference:
            txn.gateway_transaction_id = info.gateway_transaction_id
            changed = True
        if info.checkout_url and not txn.checkout_url:
            txn.checkout_url = info.checkout_url[:1024]
            changed = True
        if txn.transient_failures:
            txn.transient_failures = 0
            changed = True
        if changed:
            txn.updated_at = at
            txn.save()
    return gateway_verdict_apply(transaction_id=transaction_id, verdict=verdict_of(info), source=source, at=at)


def _refused(txn: GatewayTransaction, exc: PermanentGatewayError, *, charge: bool, at: dt.datetime) -> None:
    """A 4xx answer to initiate/charge: nothing exists at the gateway. FAILURE; an initiate refusal (our
    request or configuration is wrong) also goes to the reconciliation queue. A refused charge (e.g. an invalid
    token) is a hard decline."""
    with transaction.atomic(durable=True):
        rows = list(GatewayTransaction.objects.select_for_update().filter(pk=txn.pk))
        row = rows[0]
        if row.status not in (TransactionStatus.INITIATED, TransactionStatus.UNKNOWN):
            return
        row.mark_failure()
        row.failure_code = (exc.code or "gateway_refused")[:64]
        row.decline_type = "HARD" if charge else ""
        row.verdict_source = SOURCE_CHARGE if charge else SOURCE_INITIATE
        row.settled_at = at
        row.next_poll_at = None
        if not charge:
            row.needs_attention = True
            row.attention_reason = AttentionReason.INITIATE_REJECTED
            row.attention_note = exc.message[:4000]
        row.updated_at = at
        row.save()
