"""Payers given by egov-user uuid (every DIGIT calculator sends its owner that way).

``payers_ensure_by_uuid`` runs before a demand write's transaction (it may call egov-user): uuids that are not in
the registry are stored under that uuid (``source=EGOV_USER``) and, when ``DIGIT_USER_SERVICE_URL`` is set,
enriched — name, mobile number, e-mail, type, addresses — from ``/user/_search`` (asked as DIGIT's own services
ask it, with the internal microservice user, so that egov-user answers the plain details). Payers registered here
(``source=LOCAL``) are never changed. A uuid egov-user does not know is left out: the demand's validation then
refuses it with the reference's ``EG_BS_USER_UUID_NOTFOUND``. Without a user service the payer is stored with
what the request said about it (a privacy-masked mobile number such as ``******2708`` is kept as it came; blank
details are allowed for these payers).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from billing_project.errors import DomainError
from masters.digit.user_service import EgovUser, UserServiceUnavailable, users_by_uuid
from masters.models import Payer, PayerSource, PayerType, Tenant
from masters.selectors import state_code_of

_MOBILE = re.compile(r"[0-9*]{0,10}")
_STORED = ("name", "mobile_number", "email", "type", "gender", "father_or_husband_name")
_ADDRESS = ("correspondence_address", "permanent_address", "permanent_city", "permanent_pincode")


class UserServiceDown(DomainError):
    """egov-user could not be asked about the demand's payers; nothing was written (retry the request)."""

    code = "DIGIT_USER_SERVICE_UNAVAILABLE"
    http_status = 503


@dataclass(frozen=True)
class PayerHint:
    """What a request says about a payer it names by uuid."""

    uuid: uuid.UUID
    tenant_code: str
    name: str | None = None
    mobile_number: str | None = None
    email: str | None = None


def is_masked(mobile_number: str | None) -> bool:
    """A privacy-masked mobile number as DIGIT's encryption service returns it (``******2708``)."""
    return bool(mobile_number) and "*" in str(mobile_number)


def _mobile(value: str | None) -> str:
    text = (value or "").strip()
    return text if _MOBILE.fullmatch(text) else ""


def _clip(value: Any, model_field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    limit = getattr(Payer._meta.get_field(model_field), "max_length", None) or 256
    return text[:limit]


def _from_egov(user: EgovUser) -> dict[str, Any]:
    raw = user.raw
    user_type = user.type if user.type in PayerType.values else PayerType.CITIZEN
    return {
        "name": _clip(user.name, "name"),
        "mobile_number": _mobile(user.mobile_number),
        "email": _clip(user.email, "email"),
        "type": user_type,
        "gender": _clip(raw.get("gender"), "gender"),
        "father_or_husband_name": _clip(raw.get("fatherOrHusbandName"), "father_or_husband_name"),
        "correspondence_address": _clip(raw.get("correspondenceAddress"), "correspondence_address"),
        "permanent_address": _clip(raw.get("permanentAddress"), "permanent_address"),
        "permanent_city": _clip(raw.get("permanentCity"), "permanent_city"),
        "permanent_pincode": _clip(raw.get("permanentPinCode"), "permanent_pincode"),
        "active": raw.get("active") is not False,
    }


def _from_hint(hint: PayerHint) -> dict[str, Any]:
    return {
        "name": _clip(hint.name, "name"),
        "mobile_number": _mobile(hint.mobile_number),
        "email": _clip(hint.email, "email"),
        "type": PayerType.CITIZEN,
    }


def internal_request_info(tenant_code: str) -> dict[str, Any]:
    """The RequestInfo DIGIT's services use towards egov-user for plain (unmasked) details."""
    state = state_code_of(tenant_code)
    return {
        "apiId": "billing-service",
        "userInfo": {
            "id": 0,
            "uuid": settings.DIGIT_INTERNAL_MICROSERVICE_USER_UUID or None,
            "type": "SYSTEM",
            "tenantId": state,
            "roles": [{"code": "INTERNAL_MICROSERVICE_ROLE", "name": "Internal Microservice Role", "tenantId": state}],
        },
    }


def payers_ensure_by_uuid(*, hints: Iterable[PayerHint]) -> set[uuid.UUID]:
    """Store (or refresh) the egov-user payers the hints name; answers the uuids now in the registry.

    One durable transaction per call after the egov-user calls. Raises ``UserServiceDown`` (503) when egov-user
    cannot be asked; nothing is written then.
    """
    by_uuid: dict[uuid.UUID, PayerHint] = {}
    for hint in hints:
        by_uuid.setdefault(hint.uuid, hint)
    if not by_uuid:
        return set()
    local = set(Payer.objects.filter(uuid__in=list(by_uuid), source=PayerSource.LOCAL).values_list("uuid", flat=True))
    wanted = {key: hint for key, hint in by_uuid.items() if key not in local}
    rows: dict[uuid.UUID, dict[str, Any]] = {}
    if settings.DIGIT_USER_SERVICE_URL and wanted:
        by_state: dict[str, list[str]] = {}
        for key, hint in wanted.items():
            by_state.setdefault(state_code_of(hint.tenant_code), []).append(str(key))
        for state, uuids in sorted(by_state.items()):
            try:
                found = users_by_uuid(uuids, request_info=internal_request_info(state), tenant_id=state)
            except UserServiceUnavailable as exc:
                raise UserServiceDown(
                    message=f"The user service (egov-user) cannot be asked about the payers now: {exc}. Try again."
                ) from None
            for text, user in found.items():
                rows[uuid.UUID(text)] = _from_egov(user)
    else:
        existing = set(Payer.objects.filter(uuid__in=list(wanted)).values_list("uuid", flat=True))
        rows = {key: _from_hint(hint) for key, hint in wanted.items() if key not in existing}
    if rows:
        _upsert(rows, {key: wanted[key].tenant_code for key in rows})
    return local | set(Payer.objects.filter(uuid__in=list(by_uuid)).values_list("uuid", flat=True))


def _upsert(rows: Mapping[uuid.UUID, dict[str, Any]], tenants: Mapping[uuid.UUID, str]) -> None:
    """Insert new egov-user payers and update the stored ones whose details changed (LOCAL rows are left alone)."""
    states = {state_code_of(code) for code in tenants.values()}
    by_code = {tenant.code: tenant for tenant in Tenant.objects.filter(code__in=states)}
    with transaction.atomic(durable=True):
        stored = {
            payer.uuid: payer
            for payer in Payer.objects.select_for_update().filter(uuid__in=list(rows), source=PayerSource.EGOV_USER)
        }
        new: list[Payer] = []
        for key, values in sorted(rows.items()):
            state = state_code_of(tenants[key])
            current = stored.get(key)
            if current is None:
                if state in by_code:
                    new.append(Payer(uuid=key, tenant=by_code[state], source=PayerSource.EGOV_USER, **values))
                continue
            changed = [name for name, value in values.items() if getattr(current, name) != value]
            if changed:
                for name in changed:
                    setattr(current, name, values[name])
                current.save(update_fields=[*changed, "updated_at"])
        # A row with the same uuid inserted meanwhile (by a concurrent request, or registered here) wins.
        Payer.objects.bulk_create(new, ignore_conflicts=True)


__all__ = [
    "PayerHint",
    "UserServiceDown",
    "internal_request_info",
    "is_masked",
    "payers_ensure_by_uuid",
]
