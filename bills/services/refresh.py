"""The business service's demand refresh before a bill is regenerated (reference §7.4.5).

Called outside any database transaction (DESIGN rule 8), with a timeout. A module without a refresh URL is
not called; a failing call fails the fetch with a clear error, as the reference does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from django.conf import settings
from django.db import connection

from billing_project.errors import UpstreamError
from bills.errors import EG_BS_DEMAND_REFRESH_FAILED

logger = logging.getLogger(__name__)


def demand_refresh(
    *,
    url: str,
    tenant_id: str,
    business_service: str,
    consumer_codes: Sequence[str],
    request_info: Mapping[str, Any] | None = None,
) -> None:
    """``POST {url}?tenantId=..&consumerCodes=c1, c2&businessService=..`` with ``{"RequestInfo": ...}``.

    Consumer codes are joined with ", " as the reference's ``Set.toString()`` does. The answer's body is
    ignored; any transport error, timeout or non-2xx status raises ``EG_BS_DEMAND_REFRESH_FAILED``.
    """
    if not url or not consumer_codes:
        return
    if connection.in_atomic_block:
        raise RuntimeError("demand_refresh must not run inside a database transaction")
    params = {"tenantId": tenant_id, "consumerCodes": ", ".join(consumer_codes), "businessService": business_service}
    try:
        response = httpx.post(
            url,
            params=params,
            json={"RequestInfo": dict(request_info or {})},
            timeout=settings.DEMAND_REFRESH_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        logger.warning("demand refresh of %s at %s failed: %s", business_service, url, exc)
        raise UpstreamError(
            EG_BS_DEMAND_REFRESH_FAILED,
            f"The demand refresh of business service {business_service} failed: {type(exc).__name__}",
        ) from exc
    if response.status_code >= 300:
        logger.warning("demand refresh of %s at %s answered %s", business_service, url, response.status_code)
        raise UpstreamError(
            EG_BS_DEMAND_REFRESH_FAILED,
            f"The demand refresh of business service {business_service} answered HTTP {response.status_code}",
        )
