"""DIGIT identity: a token that is not ours is validated by egov-user, and its user becomes the caller.

``authenticate_token`` is the kernel's ``EXTERNAL_TOKEN_AUTHENTICATOR`` (``settings.py`` wires it in when
``DIGIT_USER_SERVICE_URL`` is set): ``BearerTokenAuthentication`` calls it for every token that is not one of our
API tokens, whether it came in ``RequestInfo.authToken``, the ``auth-token`` header or ``Authorization``.

1. The answer for the token is looked up in the ``digit_identity`` cache (Redis) under ``sha256(token)`` — the
   token itself is never stored. A miss asks egov-user (``user_service.user_details``); its answer, or its
   refusal, is cached for ``DIGIT_USER_CACHE_SECONDS``.
2. The user is synchronised (``digit_user_sync``): a ``DigitUser`` row links the DIGIT uuid to a local login whose
   username is that uuid (audit fields record it), and the login's ``UserRole`` rows are the DIGIT roles mapped by
   ``DIGIT_ROLE_MAP`` (only in tenants known here). Writes happen only when something changed.
3. The caller is built from the validated user — never from the ``RequestInfo.userInfo`` the client sent.

Refusals: an unknown or expired token is a 401 whose text names ``InvalidAccessTokenException`` (what DIGIT's web
apps look for to send the user back to the login page); an egov-user that is down or slow is a 503
``DIGIT_USER_SERVICE_UNAVAILABLE`` within the configured time. A cache (Redis) that is down only costs the cache.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import IntegrityError, transaction
from rest_framework import exceptions

from billing_project import clock
from billing_project.api.authentication import IdentityServiceUnavailable
from masters.access import Caller
from masters.digit.roles import map_roles, role_table
from masters.digit.user_service import EgovUser, TokenRejected, UserServiceUnavailable, user_details
from masters.models import DigitUser, PayerType, Tenant, UserRole

logger = logging.getLogger(__name__)

CACHE_ALIAS = "digit_identity"
INVALID_TOKEN_MESSAGE = "InvalidAccessTokenException: the access token is invalid or has expired"
_REJECTED = "rejected"


class DigitIdentityConflict(exceptions.AuthenticationFailed):
    """A local login already has the DIGIT user's uuid as its username (it is never taken over)."""


def token_cache_key(token: str) -> str:
    return "token:" + hashlib.sha256(token.encode()).hexdigest()


def _cache_get(key: str) -> Any:
    try:
        return caches[CACHE_ALIAS].get(key)
    except Exception:  # a cache that is down costs the cache, not the request
        logger.warning("DIGIT identity cache unavailable (get)", exc_info=True)
        return None


def _cache_set(key: str, value: Any) -> None:
    seconds = int(settings.DIGIT_USER_CACHE_SECONDS)
    if seconds <= 0:
        return
    try:
        caches[CACHE_ALIAS].set(key, value, timeout=seconds)
    except Exception:
        logger.warning("DIGIT identity cache unavailable (set)", exc_info=True)


def egov_user_for_token(token: str) -> EgovUser:
    """The egov-user user of the token (cached). Raises ``AuthenticationFailed`` / ``IdentityServiceUnavailable``."""
    key = token_cache_key(token)
    cached = _cache_get(key)
    if cached == _REJECTED:
        raise exceptions.AuthenticationFailed(INVALID_TOKEN_MESSAGE)
    if isinstance(cached, dict):
        try:
            return EgovUser.from_cache(cached)
        except (KeyError, ValueError):
            pass
    try:
        user = user_details(token)
    except TokenRejected:
        _cache_set(key, _REJECTED)
        raise exceptions.AuthenticationFailed(INVALID_TOKEN_MESSAGE) from None
    except UserServiceUnavailable as exc:
        logger.warning("DIGIT token not validated: %s", exc)
        raise IdentityServiceUnavailable(
            f"The user service (egov-user) cannot validate the token now: {exc}. Try again shortly."
        ) from None
    if not user.active:
        _cache_set(key, _REJECTED)
        raise exceptions.AuthenticationFailed(INVALID_TOKEN_MESSAGE)
    _cache_set(key, user.as_cache())
    return user


def mapped_roles(user: EgovUser) -> tuple[tuple[str, str], ...]:
    """Our (tenant, role) pairs for the user's DIGIT roles, by the configured table."""
    return map_roles(user.roles, role_table(settings.DIGIT_ROLE_MAP), default_tenant=user.tenant_id)


def caller_of(user: EgovUser, *, user_id: int, roles: tuple[tuple[str, str], ...]) -> Caller:
    """The caller for a validated DIGIT user. A citizen is also the payer of their uuid and their mobile number."""
    is_citizen = user.type == PayerType.CITIZEN or (not user.type and {r for _, r in roles} <= {"CITIZEN"})
    mobile = user.mobile_number if user.mobile_number.isdigit() and len(user.mobile_number) == 10 else None
    try:
        payer_uuid: str | None = str(uuid.UUID(user.uuid))
    except ValueError:  # payers are stored under UUIDs; another kind of id cannot be one
        payer_uuid = None
    return Caller(
        user_id=user_id,
        username=user.uuid,
        is_superuser=False,
        roles=roles,
        payer_uuid=payer_uuid if is_citizen else None,
        payer_mobile=mobile if is_citizen else None,
    )


def digit_user_sync(*, user: EgovUser, at: dt.datetime) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """The local login of a DIGIT user, created or brought up to date; answers it and the roles it holds here.

    One durable transaction; the ``DigitUser`` row is locked so that two first requests of one user do not both
    create a login. Nothing is written when nothing changed.
    """
    wanted = mapped_roles(user)
    known = set(Tenant.objects.filter(code__in={t for t, _ in wanted}).values_list("code", flat=True))
    held = tuple(pair for pair in wanted if pair[0] in known)
    fields = {
        "user_type": user.type[:16],
        "tenant_code": user.tenant_id[:128],
        "user_name": user.user_name[:256],
        "name": user.name[:256],
        "mobile_number": user.mobile_number[:32],
        "email": user.email[:256],
        "roles": [{"code": r.get("code"), "tenantId": r.get("tenantId")} for r in user.roles],
    }
    for _attempt in range(2):
        try:
            with transaction.atomic(durable=True):
                return _sync(user, fields, held, at), held
        except IntegrityError:
            # a concurrent first request created the login: the next attempt finds it
            if DigitUser.objects.filter(uuid=user.uuid).exists():
                continue
            raise DigitIdentityConflict(
                f"The DIGIT user {user.uuid} cannot sign in: a local account already has that name."
            ) from None
    raise DigitIdentityConflict(f"The DIGIT user {user.uuid} could not be set up; try again.")


def _sync(user: EgovUser, fields: dict[str, Any], held: tuple[tuple[str, str], ...], at: dt.datetime) -> Any:
    link = DigitUser.objects.select_for_update().select_related("user").filter(uuid=user.uuid).first()
    if link is None:
        login = get_user_model().objects.create_user(username=user.uuid, password=None)
        link = DigitUser.objects.create(uuid=user.uuid, user=login, synced_at=at, **fields)
    elif any(getattr(link, name) != value for name, value in fields.items()):
        for name, value in fields.items():
            setattr(link, name, value)
        link.synced_at = at
        link.save(update_fields=[*fields, "synced_at"])
    current = set(UserRole.objects.filter(user_id=link.user_id).values_list("tenant__code", "role"))
    if current != set(held):
        UserRole.objects.filter(user_id=link.user_id).delete()
        tenants = {t.code: t for t in Tenant.objects.filter(code__in={t for t, _ in held})}
        UserRole.objects.bulk_create([UserRole(user_id=link.user_id, tenant=tenants[t], role=r) for t, r in held])
    return link.user


def authenticate_token(token: str) -> tuple[Any, None]:
    """The kernel's external authenticator: (login, None) for a token egov-user vouches for.

    The login carries its caller (``caller_for`` answers it without reading the roles again).
    """
    user = egov_user_for_token(token)
    key = "login:" + token_cache_key(token)
    cached = _cache_get(key)
    login: Any = None
    roles: tuple[tuple[str, str], ...] = ()
    if isinstance(cached, dict) and cached.get("uuid") == user.uuid and isinstance(cached.get("user_id"), int):
        login = get_user_model().objects.filter(pk=cached["user_id"], is_active=True).first()
        roles = tuple((str(t), str(r)) for t, r in cached.get("roles", []))
    if login is None:
        login, roles = digit_user_sync(user=user, at=clock.now())
        if not login.is_active:
            raise exceptions.AuthenticationFailed("This account is disabled here.")
        _cache_set(key, {"uuid": user.uuid, "user_id": login.pk, "roles": [list(pair) for pair in roles]})
    login._billing_caller = caller_of(user, user_id=login.pk, roles=roles)
    login._digit_user = user
    return login, None


def digit_user_of(login: Any) -> EgovUser | None:
    """The validated egov-user user behind a request's login (None for our own logins)."""
    user = getattr(login, "_digit_user", None)
    return user if isinstance(user, EgovUser) else None


__all__ = [
    "CACHE_ALIAS",
    "INVALID_TOKEN_MESSAGE",
    "DigitIdentityConflict",
    "authenticate_token",
    "caller_of",
    "digit_user_of",
    "digit_user_sync",
    "egov_user_for_token",
    "mapped_roles",
    "token_cache_key",
]
