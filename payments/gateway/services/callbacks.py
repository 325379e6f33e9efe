"""``gateway_callback_receive``: a server-to-server callback, as the endpoint received it.

Every callback is recorded (``GatewayCallback``: body, signature header, whether it held, outcome) — with
only its first ``REJECTED_BODY_KEPT`` bytes (and the whole body's length and SHA-256) until the signature holds:
the endpoint is open to anyone, so an unverified caller cannot make us store large rows. The
adapter verifies the signature (constant time, timestamp tolerance) and parses the body; an unsigned, tampered
or stale-signed callback is answered 401 and changes nothing, a malformed one 400. A verified one goes through
``gateway_verdict_apply`` (source CALLBACK): applied, duplicate and stale answer 200 (the gateway stops
re-sending), an amount, currency or id mismatch 400 (recorded with its reason; the transaction is not moved
and goes to the reconciliation queue with that reason for staff).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from billing_project.errors import DomainError
from payments.gateway.adapters import adapter_for
from payments.gateway.adapters.base import CallbackRejected
from payments.gateway.domain.verdicts import APPLIED, DUPLICATE, STALE, GatewayVerdict
from payments.gateway.models import CallbackOutcome, GatewayCallback, GatewayTransaction
from payments.gateway.services.verdict import SOURCE_CALLBACK, gateway_verdict_apply

logger = logging.getLogger(__name__)
# What is kept of a callback body whose signature did not hold (bytes).
REJECTED_BODY_KEPT = 2048
RESULT_OUTCOMES = {
    APPLIED: CallbackOutcome.APPLIED,
    DUPLICATE: CallbackOutcome.DUPLICATE,
    STALE: CallbackOutcome.STALE,
}


@dataclass(frozen=True)
class CallbackResult:
    """What to answer: ``http_status`` and a JSON-able body ``{"outcome", "detail"}``."""

    http_status: int
    outcome: str
    detail: str
    callback_id: int


def _signature_header(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if "signature" in name.lower():
            return str(value)[:512]
    return ""


def _text(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _finish(callback: GatewayCallback, outcome: str, detail: str, http_status: int, **fields: object) -> CallbackResult:
    with transaction.atomic(durable=True):
        GatewayCallback.objects.filter(pk=callback.pk).update(outcome=outcome, detail=detail[:4000], **fields)
    return CallbackResult(http_status=http_status, outcome=str(outcome), detail=detail, callback_id=callback.pk)


def gateway_callback_receive(
    *, gateway: str, body: bytes, headers: Mapping[str, str], at: dt.datetime
) -> CallbackResult:
    """Verify, record and apply one callback (see the module docstring). Never raises for bad input."""
    with transaction.atomic(durable=True):
        callback = GatewayCallback.objects.create(
            gateway=gateway[:32],
            raw_body=_text(body[:REJECTED_BODY_KEPT]),
            raw_body_length=len(body),
            raw_body_sha256=hashlib.sha256(body).hexdigest(),
            signature_header=_signature_header(headers),
            received_at=at,
        )
    try:
        adapter = adapter_for(gateway)
    except DomainError as exc:
        return _finish(callback, CallbackOutcome.UNKNOWN_GATEWAY, exc.message, 404)
    try:
        event = adapter.verify_callback(body=body, headers=headers, now=at)
    except CallbackRejected as exc:
        if exc.signature_valid:
            return _finish(
                callback, CallbackOutcome.MALFORMED, exc.message, 400, signature_valid=True, raw_body=_text(body)
            )
        logger.warning("gateway callback refused", extra={"gateway": gateway, "reason": exc.reason})
        return _finish(callback, CallbackOutcome.INVALID_SIGNATURE, exc.reason, 401)
    txn = GatewayTransaction.objects.filter(gateway=adapter.name, merchant_reference=event.merchant_reference).first()
    if txn is None:
        return _finish(
            callback,
            CallbackOutcome.UNKNOWN_TRANSACTION,
            f"no transaction {event.merchant_reference}",
            400,
            signature_valid=True,
            raw_body=_text(body),
            event_id=event.event_id[:128],
        )
    outcome = gateway_verdict_apply(
        transaction_id=txn.pk,
        verdict=GatewayVerdict(
            status=event.status,
            amount=event.amount,
            gateway_transaction_id=event.gateway_transaction_id,
            failure_code=event.failure_code,
            sequence=event.sequence,
            occurred_at=event.occurred_at,
            decline=event.decline,
            currency=event.currency,
        ),
        source=SOURCE_CALLBACK,
        at=at,
    )
    stored = RESULT_OUTCOMES.get(outcome.result, CallbackOutcome.REJECTED)
    return _finish(
        callback,
        stored,
        f"{outcome.result}: {outcome.reason}",
        200 if outcome.result in RESULT_OUTCOMES else 400,
        signature_valid=True,
        raw_body=_text(body),
        event_id=event.event_id[:128],
        transaction_id=txn.pk,
    )
