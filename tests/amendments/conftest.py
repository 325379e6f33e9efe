"""Fixtures of the amendment tests: the demand tests' seed masters (PT, WC with WS_* heads), callers, helpers.

Times are fixed: ``AT`` (creation), ``LATER`` (decisions), ``LATEST`` (afterwards).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from amendments.models import Amendment, AmendmentDocument, AmendmentTaxDetail, AmendmentTransition
from amendments.services import AmendmentInput, DocumentInput, LineInput, amendment_create, amendment_transition
from masters.access import Caller, caller_for
from masters.models import IdSequence, Role, Tenant
from tests.demands import conftest as demand_fixtures
from tests.demands.conftest import AT, LATER, snapshot, wc_demand

# Fixtures of the demand tests, used here too (pytest finds fixtures by module attribute).
seed = demand_fixtures.seed
wc_masters = demand_fixtures.wc_masters
employee_user = demand_fixtures.employee_user
employee = demand_fixtures.employee

LATEST = dt.datetime(2024, 5, 3, 9, 0, tzinfo=dt.UTC)

__all__ = [
    "AT",
    "LATER",
    "LATEST",
    "AmendmentSnapshot",
    "amend",
    "amendment_snapshot",
    "decide",
    "lines",
    "snapshot",
    "wc_demand",
]


@pytest.fixture
def approver(seed: dict[str, Tenant], user_factory: Callable[..., Any]) -> Caller:
    return caller_for(user_factory("approver-asr", {"pb.amritsar": [Role.AMENDMENT_APPROVER]}))


@pytest.fixture
def approver2(seed: dict[str, Tenant], user_factory: Callable[..., Any]) -> Caller:
    return caller_for(user_factory("approver2-asr", {"pb.amritsar": [Role.AMENDMENT_APPROVER]}))


@pytest.fixture
def employee2(seed: dict[str, Tenant], user_factory: Callable[..., Any]) -> Caller:
    return caller_for(user_factory("emp2-asr", {"pb.amritsar": [Role.EMPLOYEE]}))


def lines(*pairs: tuple[str, str]) -> tuple[LineInput, ...]:
    return tuple(LineInput(tax_head_code=code, tax_amount=Decimal(amount)) for code, amount in pairs)


def amend(
    caller: Caller,
    consumer_code: str = "WS-107-001",
    *,
    details: tuple[LineInput, ...] | None = None,
    service: str = "WC",
    tenant: str = "pb.amritsar",
    at: dt.datetime = AT,
    **kwargs: Any,
) -> Amendment:
    kwargs.setdefault("reason", "COURT_CASE_SETTLEMENT")
    kwargs.setdefault("documents", (DocumentInput(document_type="COURTORDER", file_store_id="fs-1"),))
    data = AmendmentInput(
        tenant_code=tenant,
        consumer_code=consumer_code,
        business_service=service,
        details=details if details is not None else lines(("WS_CHARGE", "-100"), ("WS_TIME_PENALTY", "-10")),
        **kwargs,
    )
    return amendment_create(caller=caller, data=data, at=at)


def decide(caller: Caller, amendment: Amendment, action: str, *, at: dt.datetime = LATER, **kwargs: Any) -> Amendment:
    return amendment_transition(caller=caller, amendment_pk=amendment.pk, action=action, at=at, **kwargs)


@dataclass(frozen=True)
class AmendmentSnapshot:
    amendments: tuple[tuple[str, str, str, Any], ...]  # (amendment id, state, status, amended demand)
    lines: int
    documents: int
    transitions: int
    sequences: tuple[tuple[str, int], ...]


def amendment_snapshot() -> AmendmentSnapshot:
    return AmendmentSnapshot(
        amendments=tuple(
            Amendment.objects.order_by("amendment_id").values_list("amendment_id", "state", "status", "amended_demand")
        ),
        lines=AmendmentTaxDetail.objects.count(),
        documents=AmendmentDocument.objects.count(),
        transitions=AmendmentTransition.objects.count(),
        sequences=tuple(IdSequence.objects.order_by("name").values_list("name", "last_value")),
    )
