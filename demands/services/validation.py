"""The reference's demand validations (§7.1 step 2, §7.2 step 2), in its order, with its codes and texts.

Errors are collected per code (a later message for the same code replaces the earlier one, as the
reference's error map does) and raised together as ``ValidationFailed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from billing_project.digit.timeconv import to_epoch_ms
from billing_project.errors import ConflictError, DomainError, ValidationFailed
from demands.domain.rules import AmountLine, Period, amount_rule_violations, containing_period
from demands.errors import (
    EG_BS_DEMAND_DETAILS_EMPTY,
    EG_BS_DEMAND_PERIOD_INVALID,
    EG_BS_DEMAND_STATUS_INVALID,
    EG_BS_DUPLICATE_CONSUMERCODE,
    EG_BS_EMPLOYEE_UUID_NOTALLOWED,
    EG_BS_PAYER_INCOMPLETE,
    EG_BS_TAXHEADS_NOTFOUND,
    EG_BS_TAXPERIODS_BUINESSSERVICE,
    EG_BS_TAXPERIODS_DEMAND,
    EG_BS_USER_UUID_NOTFOUND,
    EG_DEMAND_DEATIL_INVALID,
    INVALID_TENANTID,
)
from demands.models import DemandStatus
from demands.services.inputs import DemandInput, PayerInput
from masters.errors import EG_BS_BUSINESSSERVICE_NOTFOUND
from masters.models import BusinessService, Payer, PayerType, TaxHeadMaster, Tenant
from masters.selectors import business_services_for, payers_for, tax_heads_for, tax_periods_for


@dataclass
class MasterData:
    """The masters one request needs, loaded once per (tenant, business service)."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    services: dict[tuple[str, str], BusinessService] = field(default_factory=dict)
    tax_heads: dict[tuple[str, str], dict[str, TaxHeadMaster]] = field(default_factory=dict)
    periods: dict[tuple[str, str], list[Period]] = field(default_factory=dict)

    def service(self, demand: DemandInput) -> BusinessService:
        return self.services[(demand.tenant_code, demand.business_service)]

    def heads(self, demand: DemandInput) -> dict[str, TaxHeadMaster]:
        return self.tax_heads.get((demand.tenant_code, demand.business_service), {})


def load_masters(demands: Sequence[DemandInput]) -> MasterData:
    data = MasterData()
    tenant_codes = {d.tenant_code for d in demands}
    data.tenants = {t.code: t for t in Tenant.objects.filter(code__in=tenant_codes, is_active=True)}
    for tenant_code in sorted(tenant_codes & set(data.tenants)):
        codes = {d.business_service for d in demands if d.tenant_code == tenant_code}
        for service in business_services_for(tenant_code, codes=codes):
            data.services[(tenant_code, service.code)] = service
        for head in tax_heads_for(tenant_code, services=codes):
            data.tax_heads.setdefault((tenant_code, head.service), {})[head.code] = head
        for period in tax_periods_for(tenant_code, services=codes):
            data.periods.setdefault((tenant_code, period.service), []).append(
                Period(code=period.code, from_date=period.from_date, to_date=period.to_date)
            )
    return data


class DemandErrors:
    """Ordered error map: code -> DomainError."""

    def __init__(self) -> None:
        self._errors: dict[str, DomainError] = {}

    def add(self, code: str, message: str, params: list[object] | None = None) -> None:
        self._errors[code] = DomainError(code, message, params=params)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def raise_if_any(self) -> None:
        if self._errors:
            raise ValidationFailed(list(self._errors.values()))


def _codes(values: Iterable[str]) -> str:
    return "[" + ", ".join(dict.fromkeys(values)) + "]"


def check_masters(demands: Sequence[DemandInput], masters: MasterData, errors: DemandErrors) -> None:
    """Steps a–c: tenant, business service, tax heads, tax period."""
    unknown_tenants = [d.tenant_code for d in demands if d.tenant_code not in masters.tenants]
    if unknown_tenants:
        errors.add(INVALID_TENANTID, f"No data found for this tenentID {_codes(unknown_tenants)}")
        return
    missing_services = [
        d.business_service for d in demands if (d.tenant_code, d.business_service) not in masters.services
    ]
    if missing_services:
        errors.add(
            EG_BS_BUSINESSSERVICE_NOTFOUND,
            f"No Business Service masters found for give codes {_codes(missing_services)}",
        )
    missing_heads: list[str] = []
    services_without_periods: list[str] = []
    for demand in demands:
        if (demand.tenant_code, demand.business_service) not in masters.services:
            continue
        heads = masters.heads(demand)
        if heads:
            missing_heads.extend(d.tax_head_code for d in demand.details if d.tax_head_code not in heads)
        periods = masters.periods.get((demand.tenant_code, demand.business_service), [])
        if not periods:
            services_without_periods.append(demand.business_service)
        elif containing_period(periods, demand.tax_period_from, demand.tax_period_to) is None:
            errors.add(
                EG_BS_TAXPERIODS_DEMAND,
                f"No Tax Periods Found for the given demand with fromDate : {to_epoch_ms(demand.tax_period_from)}"
                f" and toDate : {to_epoch_ms(demand.tax_period_to)}",
            )
    if missing_heads:
        errors.add(EG_BS_TAXHEADS_NOTFOUND, f"No TaxHead masters found for give codes {_codes(missing_heads)}")
    if services_without_periods:
        errors.add(
            EG_BS_TAXPERIODS_BUINESSSERVICE,
            f"No Tax Periods Found for the given BusinessServices value of {_codes(services_without_periods)}",
        )


def check_status(demands: Sequence[DemandInput], errors: DemandErrors) -> None:
    bad = [d.status for d in demands if d.status is not None and d.status not in DemandStatus.values]
    if bad:
        errors.add(
            EG_BS_DEMAND_STATUS_INVALID,
            f"Invalid demand status {_codes(map(str, bad))}; allowed: {', '.join(DemandStatus.values)}",
        )


def check_payers(demands: Sequence[DemandInput], errors: DemandErrors) -> dict[uuid.UUID, Payer]:
    """Step e for payers given by uuid: they must exist in the state registry and not be employees."""
    wanted: dict[str, set[uuid.UUID]] = {}
    for demand in demands:
        if demand.payer is not None and demand.payer.uuid is not None:
            wanted.setdefault(demand.tenant_code, set()).add(demand.payer.uuid)
    found: dict[uuid.UUID, Payer] = {}
    for tenant_code, uuids in wanted.items():
        for payer in payers_for(tenant_code, uuids=[str(u) for u in uuids]):
            found[payer.uuid] = payer
    missing = sorted(str(u) for uuids in wanted.values() for u in uuids if u not in found)
    if missing:
        errors.add(EG_BS_USER_UUID_NOTFOUND, f"No users found for following uuids  {_codes(missing)}")
    employees = sorted(str(p.uuid) for p in found.values() if p.type == PayerType.EMPLOYEE)
    if employees:
        errors.add(
            EG_BS_EMPLOYEE_UUID_NOTALLOWED,
            "Employees cannot own a demand in system. The following uuids belonging to employees are rejected : "
            f"{_codes(employees)}",
        )
    for demand in demands:
        ref = demand.payer
        if ref is not None and ref.uuid is None and not payer_has_identity(ref) and (ref.name or ref.mobile_number):
            errors.add(
                EG_BS_PAYER_INCOMPLETE,
                "A payer without uuid needs both name and mobileNumber to be matched or registered",
            )
    return found


def payer_has_identity(payer: PayerInput) -> bool:
    """Name and a real (not privacy-masked) mobile number: enough to match or register a payer."""
    return bool(payer.name and payer.mobile_number and "*" not in payer.mobile_number)


def check_amounts(lines: Iterable[AmountLine], errors: DemandErrors) -> None:
    """Step f: the amount rule (relaxed for credit lines, DECISIONS [10])."""
    violations = amount_rule_violations(lines)
    if violations:
        joined = ", ".join(f'"{message}"' for message in violations)
        errors.add(EG_DEMAND_DEATIL_INVALID, f"Invalid demand details found with following Values : [ {joined} ]")


def check_shape(demands: Sequence[DemandInput], errors: DemandErrors) -> None:
    """Rules the reference leaves to bean validation: a demand has lines and an ordered period."""
    if any(not d.details for d in demands):
        errors.add(EG_BS_DEMAND_DETAILS_EMPTY, "A demand must have at least one demand detail")
    if any(d.tax_period_from > d.tax_period_to for d in demands):
        errors.add(EG_BS_DEMAND_PERIOD_INVALID, "taxPeriodFrom must not be after taxPeriodTo")


def duplicate_message(consumer_codes: Iterable[str]) -> DomainError:
    return ConflictError(
        EG_BS_DUPLICATE_CONSUMERCODE,
        "Demand already exists in the same period with the same businessService for the given consumercodes : "
        f"{_codes(consumer_codes)}",
    )
