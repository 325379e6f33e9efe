"""Request id middleware: take X-Request-ID (if sane) or make one, log with it, echo it back."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from billing_project import clock
from billing_project.logging import request_id_var

logger = logging.getLogger("billing.request")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class BillingTimeZoneMiddleware:
    """Pages (admin, prints) show times in the billing time zone: lists, "Today" filters, dates on a page.

    The API faces are left in UTC: REST renders aware datetimes in the active zone, and its answers stay
    as they were (``Z``); the DIGIT face speaks epoch milliseconds.
    """

    API_PREFIXES = ("/api/", "/billing-service/", "/collection-services/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.API_PREFIXES):
            return self.get_response(request)
        with timezone.override(clock.billing_zone()):
            return self.get_response(request)
