"""The payer registry: citizens (and bodies) who owe demands.

Payers are kept at **state level**, as the reference keeps its users (§2.3): registering under
``pb.amritsar`` stores the payer under ``pb``, and every city of the state shares the registry.

A payer is identified by name (compared case-insensitively, inner blanks collapsed) and mobile number. The
database's unique constraint ``masters_payer_unique_name_mobile`` decides duplicates: the insert is attempted
and a violation becomes ``PAYER_DUPLICATE`` (or, in ``payer_match_or_create``, a re-read of the winner), so
there is no check-then-insert race.

Error codes: ``PAYER_INVALID_NAME``, ``PAYER_INVALID_MOBILE`` (10 digits), ``PAYER_INVALID_EMAIL``,
``PAYER_INVALID_TYPE``, ``PAYER_DUPLICATE`` (409), ``PAYER_USER_ALREADY_LINKED`` (409), ``PAYER_NOT_FOUND``
(404), ``TENANT_NOT_FOUND`` and ``VALIDATION_ERROR`` (a field's length).
"""

from __future__ import annotations

import re
import uuid
from typing import TypedDict, Unpack

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from billing_project.db import is_unique_violation
from billing_project.errors import VALIDATION_ERROR, ConflictError, DomainError, NotFound
from masters.errors import (
    PAYER_DUPLICATE,
    PAYER_INVALID_EMAIL,
    PAYER_INVALID_MOBILE,
    PAYER_INVALID_NAME,
    PAYER_INVALID_TYPE,
    PAYER_NOT_FOUND,
    PAYER_USER_ALREADY_LINKED,
)
from masters.models import Payer, PayerType, Tenant
from masters.selectors import payer_find, state_code_of
from masters.services.catalogue import tenant_require

__all__ = [
    "PayerChanges",
    "payer_match_or_create",
    "payer_register",
    "payer_update",
]

UNIQUE_NAME_MOBILE = "masters_payer_unique_name_mobile"
_MOBILE = re.compile(r"[0-9]{10}")
_NAME_MAX = Payer._meta.get_field("name").max_length or 256


class PayerChanges(TypedDict, total=False):
    name: str
    mobile_number: str
    email: str
    type: str
    gender: str
    father_or_husband_name: str
    correspondence_address: str
    permanent_address: str
    permanent_city: str
    permanent_pincode: str
    active: bool


# --- normalisation and validation ------------------------------------------------------------


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > _NAME_MAX:
        raise DomainError(
            PAYER_INVALID_NAME,
            "A payer needs a name (at most 256 characters).",
            fields={"name": ["Must not be blank and at most 256 characters."]},
        )
    return cleaned


def _clean_mobile(mobile_number: str) -> str:
    cleaned = mobile_number.strip()
    if not _MOBILE.fullmatch(cleaned):
        raise DomainError(
            PAYER_INVALID_MOBILE,
            f"Mobile number {mobile_number!r} is not 10 digits.",
            fields={"mobile_number": ["Must be exactly 10 digits."]},
        )
    return cleaned


def _clean_email(email: str) -> str:
    cleaned = email.strip()
    if cleaned:
        try:
            validate_email(cleaned)
        except DjangoValidationError:
            raise DomainError(
                PAYER_INVALID_EMAIL,
                f"{email!r} is not an e-mail address.",
                fields={"email": ["Enter a valid e-mail address."]},
            ) from None
    return cleaned


def _clean_type(payer_type: str) -> str:
    if payer_type not in PayerType.values:
        raise DomainError(
            PAYER_INVALID_TYPE,
            f"Unknown payer type {payer_type!r}.",
            fields={"type": [f"Must be one of {', '.join(PayerType.values)}."]},
        )
    return payer_type


def _full_clean(payer: Payer) -> None:
    try:
        payer.full_clean(exclude=["tenant", "user"], validate_unique=False, validate_constraints=False)
    except DjangoValidationError as exc:
        fields = {name: [str(m) for m in messages] for name, messages in exc.message_dict.items()}
        raise DomainError(VALIDATION_ERROR, "Invalid payer.", fields=fields) from exc


def _state_tenant(tenant_code: str) -> Tenant:
    return tenant_require(state_code_of(tenant_code))


def _duplicate(name: str, mobile_number: str) -> ConflictError:
    return ConflictError(
        PAYER_DUPLICATE,
        f"A payer named {name!r} with mobile number {mobile_number} is already registered.",
        fields={"name": ["A payer with this name and mobile number is already registered."]},
    )


# --- services --------------------------------------------------------------------------------


def payer_register(
    *,
    tenant_code: str,
    name: str,
    mobile_number: str,
    email: str = "",
    gender: str = "",
    father_or_husband_name: str = "",
    correspondence_address: str = "",
    permanent_address: str = "",
    permanent_city: str = "",
    permanent_pincode: str = "",
    type: str = PayerType.CITIZEN,
    user_id: int | None = None,
) -> Payer:
    """Register a payer in the state registry of ``tenant_code``; ``user_id`` links a citizen's login."""
    payer = Payer(
        tenant=_state_tenant(tenant_code),
        name=_clean_name(name),
        mobile_number=_clean_mobile(mobile_number),
        email=_clean_email(email),
        type=_clean_type(type),
        gender=gender.strip(),
        father_or_husband_name=father_or_husband_name.strip(),
        correspondence_address=correspondence_address.strip(),
        permanent_address=permanent_address.strip(),
        permanent_city=permanent_city.strip(),
        permanent_pincode=permanent_pincode.strip(),
        user_id=user_id,
    )
    _full_clean(payer)
    try:
        with transaction.atomic(durable=True):
            if user_id is not None and Payer.objects.filter(user_id=user_id).exists():
                raise ConflictError(PAYER_USER_ALREADY_LINKED, "That login is already linked to another payer.")
            payer.save(force_insert=True)
    except IntegrityError as exc:
        if is_unique_violation(exc, Payer, UNIQUE_NAME_MOBILE):
            raise _duplicate(payer.name, payer.mobile_number) from exc
        raise
    return payer


def payer_update(*, payer_uuid: uuid.UUID | str, **changes: Unpack[PayerChanges]) -> Payer:
    """Change a payer's details; the registry (tenant) and the linked login stay."""
    cleaned: dict[str, object] = {}
    for key, value in changes.items():
        if key == "name":
            cleaned[key] = _clean_name(str(value))
        elif key == "mobile_number":
            cleaned[key] = _clean_mobile(str(value))
        elif key == "email":
            cleaned[key] = _clean_email(str(value))
        elif key == "type":
            cleaned[key] = _clean_type(str(value))
        elif isinstance(value, str):
            cleaned[key] = value.strip()
        else:
            cleaned[key] = value
    payer: Payer | None = None
    try:
        with transaction.atomic(durable=True):
            payer = Payer.objects.select_for_update(of=("self",)).filter(uuid=payer_uuid).first()
            if payer is None:
                raise NotFound(PAYER_NOT_FOUND, f"No payer {payer_uuid}.")
            for key, value in cleaned.items():
                setattr(payer, key, value)
            _full_clean(payer)
            if cleaned:
                payer.save(update_fields=[*cleaned, "updated_at"])
    except IntegrityError as exc:
        if payer is not None and is_unique_violation(exc, Payer, UNIQUE_NAME_MOBILE):
            raise _duplicate(payer.name, payer.mobile_number) from exc
        raise
    assert payer is not None
    return payer


def payer_match_or_create(*, tenant_code: str, name: str, mobile_number: str, email: str | None = None) -> Payer:
    """The registered payer with this name (case-insensitive) and mobile number, or a new CITIZEN payer.

    The reference's "payer created or matched from name + mobile number" (§7.1 e). An existing payer is
    returned unchanged. Runs in a savepoint, so it can be called on its own or inside the caller's
    transaction (demand creation); when a concurrent request registers the same payer first, the unique
    constraint refuses our insert and the winner is read back.
    """
    clean_name, clean_mobile = _clean_name(name), _clean_mobile(mobile_number)
    clean_email = _clean_email(email or "")
    existing = payer_find(tenant_code, name=clean_name, mobile_number=clean_mobile)
    if existing is not None:
        return existing
    payer = Payer(
        tenant=_state_tenant(tenant_code),
        name=clean_name,
        mobile_number=clean_mobile,
        email=clean_email,
        type=PayerType.CITIZEN,
    )
    _full_clean(payer)
    try:
        with transaction.atomic(savepoint=True):  # inside the caller's transaction: a conflict undoes only this insert
            payer.save(force_insert=True)
    except IntegrityError as exc:
        if not is_unique_violation(exc, Payer, UNIQUE_NAME_MOBILE):
            raise
        winner = payer_find(tenant_code, name=clean_name, mobile_number=clean_mobile)
        if winner is None:
            raise
        return winner
    return payer
