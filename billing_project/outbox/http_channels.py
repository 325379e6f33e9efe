"""Two HTTP channels: ``webhook`` (signed events for systems that are not DIGIT) and ``http`` (a JSON POST to a
service's API, e.g. DIGIT's egov-workflow-v2).

``webhook``: ``destination`` is the subscriber's URL, ``headers["secret_ref"]`` names the subscriber (its secret is
read at delivery time from ``WebhookSubscription``, never stored in the message), ``headers["event"]`` the event
type. The body is the payload as JSON; the request carries ``X-Billing-Event``, ``X-Billing-Delivery`` (the outbox
message id: the same on every attempt, for the receiver to drop repeats), ``X-Billing-Timestamp`` (Unix seconds)
and ``X-Billing-Signature: sha256=<hex>``, the HMAC-SHA256 with the subscriber's secret of
``"<timestamp>.<body>"``. 2xx is delivered; 408, 429 and 5xx or no answer are retried with backoff; another 4xx is
permanent (PARKED). Every attempt shows in the outbox admin (the delivery log).

``http``: ``destination`` is the URL; the body is the payload as JSON, with ``headers["http_headers"]`` added. The
same status rules; an ``Idempotency-Key`` header carries the message id.

Both bound each attempt by ``OUTBOX_HTTP_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

import httpx
from django.conf import settings

from billing_project.outbox.channels import Channel, Delivery
from billing_project.outbox.errors import PermanentDeliveryError, TransientDeliveryError

WEBHOOK = "webhook"
HTTP = "http"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``"<timestamp>.<body>"`` with the subscriber's secret."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def post_json(url: str, payload: Any, headers: Mapping[str, str]) -> None:
    """One JSON POST by the rules above (2xx delivered; 408/425/429/5xx/no answer transient; other 4xx permanent)."""
    _post(url, json.dumps(payload, separators=(",", ":")).encode(), {"Content-Type": "application/json", **headers})


def _post(url: str, body: bytes, headers: Mapping[str, str]) -> None:
    timeout = float(settings.OUTBOX_HTTP_TIMEOUT_SECONDS)
    try:
        answer = httpx.post(url, content=body, headers=dict(headers), timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        raise TransientDeliveryError(f"{type(exc).__name__}: {exc}") from exc
    if 200 <= answer.status_code < 300:
        return
    text = answer.text[:300]
    if answer.status_code in (408, 425, 429) or answer.status_code >= 500:
        retry_after = answer.headers.get("Retry-After")
        raise TransientDeliveryError(
            f"HTTP {answer.status_code}: {text}",
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )
    raise PermanentDeliveryError(f"HTTP {answer.status_code}: {text}")


def deliver_webhook(delivery: Delivery) -> None:
    from billing_project.models import WebhookSubscription

    reference = delivery.headers.get("secret_ref")
    subscription = WebhookSubscription.objects.filter(pk=int(reference)).first() if reference is not None else None
    if subscription is None or not subscription.active:
        raise PermanentDeliveryError("the webhook subscription is gone or switched off")
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(time.time())
    _post(
        delivery.destination,
        body,
        {
            "Content-Type": "application/json",
            "User-Agent": "billing-service-webhooks",
            "X-Billing-Event": str(delivery.headers.get("event", "")),
            "X-Billing-Delivery": delivery.idempotency_key,
            "X-Billing-Timestamp": str(timestamp),
            "X-Billing-Signature": sign(subscription.secret, timestamp, body),
        },
    )


def deliver_http(delivery: Delivery) -> None:
    extra: Any = delivery.headers.get("http_headers") or {}
    headers = {"Content-Type": "application/json", "Idempotency-Key": delivery.idempotency_key}
    headers.update({str(k): str(v) for k, v in dict(extra).items()})
    _post(delivery.destination, json.dumps(delivery.payload, separators=(",", ":")).encode(), headers)


WEBHOOK_CHANNEL = Channel(
    name=WEBHOOK, deliver=deliver_webhook, max_attempts=12, backoff_base_seconds=30.0, backoff_cap_seconds=3600.0
)
HTTP_CHANNEL = Channel(
    name=HTTP, deliver=deliver_http, max_attempts=20, backoff_base_seconds=15.0, backoff_cap_seconds=1800.0
)
