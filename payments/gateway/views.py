"""The payer's return page (HTML): ``GET /pay/return/?merchant_reference=GTX-...``.

The gateway sends the payer here after the checkout, with ``status`` in the query string — which is never
trusted: the page shows our own row. When the row is still open, the page polls the gateway once (outside any
database transaction, at most every 10 seconds per transaction) so that a payer whose callback is late still
sees the result. No login: the reference is an unguessable random id, and the page shows no personal data
beyond the bill it is about.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from billing_project import clock
from billing_project.errors import DomainError
from payments.gateway.models import GatewayTransaction, TransactionStatus
from payments.gateway.selectors import gateway_transaction_by_reference
from payments.gateway.services import gateway_transaction_poll

RETURN_POLL_INTERVAL = dt.timedelta(seconds=10)


def _maybe_poll(txn: GatewayTransaction, at: dt.datetime) -> GatewayTransaction:
    if txn.is_final or not settings.PAYMENT_GATEWAY_RETURN_PAGE_POLL:
        return txn
    if txn.status == TransactionStatus.INITIATED:
        return txn
    if txn.last_polled_at is not None and txn.last_polled_at > at - RETURN_POLL_INTERVAL:
        return txn
    try:
        return gateway_transaction_poll(transaction_id=txn.pk, at=at)
    except DomainError:
        return txn


@require_safe
def gateway_return_page(request: HttpRequest) -> HttpResponse:
    reference = request.GET.get("merchant_reference", "").strip()[:64]
    txn = gateway_transaction_by_reference(reference) if reference else None
    if txn is not None:
        txn = _maybe_poll(txn, clock.now())
    receipts: list[str] = []
    if txn is not None and txn.payment_id:
        receipts = sorted(txn.payment.details.values_list("receipt_number", flat=True)) if txn.payment else []
    context = {"txn": txn, "receipt_numbers": receipts, "zone": settings.BILLING_TIME_ZONE}
    return render(request, "gateway/return.html", context, status=200 if txn is not None else 404)
