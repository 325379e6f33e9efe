"""The egov-user contract this service relies on, with bounded timeouts.

- ``POST {DIGIT_USER_SERVICE_URL}/user/_details?access_token=<token>`` (what DIGIT's gateway calls): the user a
  token belongs to — ``uuid``, ``userName``, ``name``, ``mobileNumber``, ``emailId``, ``type``, ``roles`` [{code,
  name, tenantId}], ``tenantId``, ``active``. egov-user refuses an unknown or expired token with a 4xx whose body
  names ``InvalidAccessTokenException``.
- ``POST {DIGIT_USER_SERVICE_URL}/user/_search`` with ``{"RequestInfo", "uuid": [...]}``: ``{"user": [...]}``.

Every call ends within ``DIGIT_USER_SERVICE_TIMEOUT`` seconds in all (connect, send and each chunk of the answer
are bounded, and the whole read is checked against one deadline), and its answer is at most 1 MiB. A service that
is down, slow, or answers something that is not its contract raises ``UserServiceUnavailable``: the callers turn
it into a clear 503, never a hang or a 500.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 1 << 20
SEARCH_PAGE = 100


class UserServiceUnavailable(Exception):
    """egov-user could not be asked (down, slow, or an answer outside its contract)."""


class TokenRejected(Exception):
    """egov-user says the token is not (or no longer) valid."""


@dataclass(frozen=True)
class EgovUser:
    """A user as egov-user describes it (``_details`` or one ``_search`` entry)."""

    uuid: str
    user_name: str = ""
    name: str = ""
    mobile_number: str = ""
    email: str = ""
    type: str = ""
    tenant_id: str = ""
    active: bool = True
    roles: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)

    def user_info(self) -> dict[str, Any]:
        """The ``RequestInfo.userInfo`` DIGIT services send on behalf of this user."""
        return {
            "id": self.raw.get("id"),
            "uuid": self.uuid,
            "userName": self.user_name,
            "name": self.name,
            "mobileNumber": self.mobile_number,
            "emailId": self.email or None,
            "type": self.type,
            "tenantId": self.tenant_id,
            "roles": [dict(role) for role in self.roles],
        }

    def as_cache(self) -> dict[str, Any]:
        return {"raw": dict(self.raw)}

    @classmethod
    def from_cache(cls, data: Mapping[str, Any]) -> EgovUser:
        return parse_user(data["raw"])


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def parse_user(data: object) -> EgovUser:
    """An egov-user user object; ``ValueError`` when it has no uuid or is not an object."""
    if not isinstance(data, Mapping):
        raise ValueError("a user must be a JSON object")
    uuid = _text(data, "uuid")
    if not uuid or len(uuid) > 64:
        raise ValueError("a user must have a uuid of at most 64 characters")
    roles = data.get("roles") or []
    if not isinstance(roles, list):
        raise ValueError("roles must be a list")
    return EgovUser(
        uuid=uuid,
        user_name=_text(data, "userName"),
        name=_text(data, "name"),
        mobile_number=_text(data, "mobileNumber"),
        email=_text(data, "emailId"),
        type=_text(data, "type").upper(),
        tenant_id=_text(data, "tenantId").lower(),
        active=data.get("active") is not False,
        roles=tuple(role for role in roles if isinstance(role, Mapping)),
        raw=dict(data),
    )


def _base_url() -> str:
    url: str = settings.DIGIT_USER_SERVICE_URL
    if not url:
        raise UserServiceUnavailable("DIGIT_USER_SERVICE_URL is not configured")
    return url


def _post(path: str, *, params: Mapping[str, str] | None = None, body: Mapping[str, Any]) -> tuple[int, Any]:
    """POST JSON; (status, parsed JSON or None). Raises ``UserServiceUnavailable`` on any transport problem."""
    budget = float(settings.DIGIT_USER_SERVICE_TIMEOUT)
    deadline = time.monotonic() + budget
    timeout = httpx.Timeout(budget, connect=min(float(settings.DIGIT_USER_SERVICE_CONNECT_TIMEOUT), budget))
    url = _base_url() + path
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=False) as client,
            client.stream("POST", url, params=params, json=body) as answer,
        ):
            chunks: list[bytes] = []
            size = 0
            for chunk in answer.iter_bytes():
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise UserServiceUnavailable(f"egov-user answered more than {MAX_ANSWER_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise UserServiceUnavailable(f"egov-user did not answer within {budget:g} s")
                chunks.append(chunk)
            status = answer.status_code
    except httpx.TimeoutException as exc:
        raise UserServiceUnavailable(f"egov-user did not answer within {budget:g} s") from exc
    except httpx.HTTPError as exc:
        raise UserServiceUnavailable(f"egov-user cannot be reached: {type(exc).__name__}") from exc
    raw = b"".join(chunks)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def _names_invalid_token(payload: Any) -> bool:
    return "InvalidAccessTokenException" in json.dumps(payload) if payload is not None else False


def user_details(token: str) -> EgovUser:
    """The user of an access token, as DIGIT's gateway asks egov-user for it.

    ``TokenRejected`` when egov-user refuses the token (400/401/403, or any answer naming
    ``InvalidAccessTokenException``); ``UserServiceUnavailable`` when it cannot say.
    """
    status, payload = _post(
        "/user/_details",
        params={"access_token": token},
        body={"RequestInfo": {"apiId": "billing-service", "authToken": token}},
    )
    if status in (400, 401, 403) or (status >= 400 and _names_invalid_token(payload)):
        raise TokenRejected(f"egov-user refused the token (HTTP {status})")
    if status != 200:
        logger.warning("egov-user /user/_details answered HTTP %s", status)
        raise UserServiceUnavailable(f"egov-user answered HTTP {status}")
    try:
        return parse_user(payload)
    except ValueError as exc:
        logger.warning("egov-user /user/_details answered outside its contract: %s", exc)
        raise UserServiceUnavailable(f"egov-user answered outside its contract: {exc}") from exc


def users_by_uuid(
    uuids: Sequence[str], *, request_info: Mapping[str, Any], tenant_id: str | None = None
) -> dict[str, EgovUser]:
    """egov-user's users with these uuids (``/user/_search``, 100 per call); uuids it does not know are absent."""
    found: dict[str, EgovUser] = {}
    wanted = sorted(set(uuids))
    for start in range(0, len(wanted), SEARCH_PAGE):
        page = wanted[start : start + SEARCH_PAGE]
        body: dict[str, Any] = {"RequestInfo": dict(request_info), "uuid": page, "pageSize": len(page)}
        if tenant_id:
            body["tenantId"] = tenant_id
        status, payload = _post("/user/_search", body=body)
        if status != 200 or not isinstance(payload, Mapping) or not isinstance(payload.get("user"), list):
            logger.warning("egov-user /user/_search answered HTTP %s outside its contract", status)
            raise UserServiceUnavailable(f"egov-user /user/_search answered HTTP {status}")
        for item in payload["user"]:
            try:
                user = parse_user(item)
            except ValueError:
                continue
            if user.uuid in page:
                found[user.uuid] = user
    return found


__all__ = [
    "EgovUser",
    "TokenRejected",
    "UserServiceUnavailable",
    "parse_user",
    "user_details",
    "users_by_uuid",
]
