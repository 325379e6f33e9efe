"""The DIGIT envelope: RequestInfo in, ResponseInfo out, Errors[] for failures.

DIGIT's Jackson mapper reads request keys case-insensitively and ignores unknown keys; clients rely on it
(reference §2.1). ``ci_get`` and ``CaseInsensitiveSerializerMixin`` give the same leniency here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from billing_project.digit.timeconv import to_epoch_ms


def ci_get(data: Mapping[str, Any] | None, key: str, default: Any = None) -> Any:
    """``data[key]`` matching the key case-insensitively (exact match preferred)."""
    if not isinstance(data, Mapping):
        return default
    if key in data:
        return data[key]
    wanted = key.lower()
    for candidate, value in data.items():
        if isinstance(candidate, str) and candidate.lower() == wanted:
            return value
    return default


@dataclass(frozen=True)
class RequestInfo:
    """The caller's RequestInfo. ``user_info`` is kept for echoing only: identity comes from the token."""

    api_id: str | None = None
    ver: str | None = None
    ts: int | None = None
    action: str | None = None
    did: str | None = None
    key: str | None = None
    msg_id: str | None = None
    auth_token: str | None = None
    correlation_id: str | None = None
    user_info: Mapping[str, Any] | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


class RequestInfoError(ValueError):
    pass


def _opt_str(info: Mapping[str, Any], key: str) -> str | None:
    value = ci_get(info, key)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise RequestInfoError(f"RequestInfo.{key} must be a text value")
    return str(value)


def parse_request_info(body: Any) -> RequestInfo:
    """Read ``RequestInfo`` from a request body (keys case-insensitive, unknown keys ignored).

    A missing RequestInfo is accepted (identity comes from the token); a RequestInfo that is not an
    object is refused. A body without ``RequestInfo`` that carries ``authToken`` at its top level is itself the
    RequestInfo: DIGIT's egov-pg-service posts its RequestInfo unwrapped to ``/bill/v2/_search``.
    """
    if not isinstance(body, Mapping):
        raise RequestInfoError("The request body must be a JSON object")
    info = ci_get(body, "RequestInfo")
    if info is None and ci_get(body, "authToken") is not None:
        info = body
    if info is None:
        return RequestInfo()
    if not isinstance(info, Mapping):
        raise RequestInfoError("RequestInfo must be a JSON object")
    ts = ci_get(info, "ts")
    try:
        ts_value = int(ts) if ts not in (None, "") else None
    except (TypeError, ValueError) as exc:
        raise RequestInfoError("RequestInfo.ts must be epoch milliseconds") from exc
    user_info = ci_get(info, "userInfo")
    return RequestInfo(
        api_id=_opt_str(info, "apiId"),
        ver=_opt_str(info, "ver"),
        ts=ts_value,
        action=_opt_str(info, "action"),
        did=_opt_str(info, "did"),
        key=_opt_str(info, "key"),
        msg_id=_opt_str(info, "msgId"),
        auth_token=_opt_str(info, "authToken"),
        correlation_id=_opt_str(info, "correlationId") or _opt_str(info, "corelationId"),
        user_info=user_info if isinstance(user_info, Mapping) else None,
        raw=dict(info),
    )


def status_text(status: int) -> str:
    """Spring's ``HttpStatus.toString()``: ``201 CREATED``, ``200 OK``."""
    phrase = HTTPStatus(status).phrase.upper().replace(" ", "_")
    return f"{status} {phrase}"


def response_info(request_info: RequestInfo | None, status: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """ResponseInfo built from the request, as the reference does (resMsgId stays null)."""
    info = request_info or RequestInfo()
    return {
        "apiId": info.api_id,
        "ver": info.ver,
        "ts": info.ts if info.ts is not None else to_epoch_ms(now) if now else None,
        "resMsgId": None,
        "msgId": info.msg_id,
        "status": status_text(status),
    }


def error_entry(code: str, message: str, description: str | None = None, params: Any = None) -> dict[str, Any]:
    return {"code": code, "message": message, "description": description, "params": params}


def errors_body(errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The reference's error envelope (served with HTTP 400 unless auth failed)."""
    return {"ResponseInfo": None, "Errors": errors}
