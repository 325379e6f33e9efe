"""``bill_fetch``: give me a valid bill, creating one if needed (reference §7.4, fixed per DECISIONS.md)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from billing_project import clock
from billing_project.db import is_unique_violation
from billing_project.errors import DomainError
from billing_project.uuids import uuid_or_none
from bills.errors import BILL_GEN_MANDATORY_FIELDS_MISSING, EG_BS_BILL_CONFLICT, FETCH_CRITERION_INVALID
from bills.models import Bill, BillStatus
from bills.selectors import bills_with_details, open_lookup, tenant_lookup_q
from bills.services.generation import bills_generate, is_current
from bills.services.refresh import demand_refresh
from demands.models import ConsumerAccount, Demand, DemandStatus
from demands.services import consumer_accounts_lock
from masters.access import STAFF_ROLES, Caller, own_payer_q, resolve_search_tenant
from masters.models import Role
from masters.selectors import business_services_for, payers_for

MOBILE = re.compile(r"^[0-9]{10}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FETCH_ROLES = (*STAFF_ROLES, Role.SYSTEM)
# Who generated a bill for a caller without a login (an open quick-pay fetch).
ANONYMOUS_ACTOR = "anonymous"


@dataclass(frozen=True)
class FetchCriteria:
    """The reference's GenerateBillCriteria."""

    tenant_id: str | None
    business_service: str | None
    consumer_codes: tuple[str, ...] = ()
    demand_id: str | None = None
    mobile_number: str | None = None
    email: str | None = None
    request_info: Mapping[str, Any] = field(default_factory=dict)


def _validate(criteria: FetchCriteria) -> None:
    problems: dict[str, list[str]] = {}
    if not criteria.tenant_id:
        problems["tenantId"] = ["tenantId is mandatory"]
    elif len(criteria.tenant_id) > 256:
        problems["tenantId"] = ["tenantId is longer than 256 characters"]
    if not criteria.business_service:
        problems["businessService"] = ["businessService is mandatory"]
    elif len(criteria.business_service) > 256:
        problems["businessService"] = ["businessService is longer than 256 characters"]
    if criteria.demand_id is not None and len(criteria.demand_id) > 64:
        problems["demandId"] = ["demandId is longer than 64 characters"]
    if criteria.mobile_number is not None and not MOBILE.match(criteria.mobile_number):
        problems["mobileNumber"] = ["mobileNumber must be 10 digits"]
    if criteria.email is not None and not EMAIL.match(criteria.email):
        problems["email"] = ["email is not an e-mail address"]
    if problems:
        name, messages = next(iter(problems.items()))
        raise DomainError(FETCH_CRITERION_INVALID[name], messages[0], fields=problems)
    if not (criteria.demand_id or criteria.mobile_number or criteria.email or criteria.consumer_codes):
        raise DomainError(
            BILL_GEN_MANDATORY_FIELDS_MISSING,
            "Valid search criteria fields missing, please give some valid criteria like mobileNumber/email "
            "OR 'businessService & consumerCode' OR demandId",
        )


def _accounts(caller: Caller, criteria: FetchCriteria) -> QuerySet[ConsumerAccount]:
    """The consumer accounts the criteria name, within the tenant rule and what the caller may see."""
    assert criteria.tenant_id is not None
    others = bool(criteria.demand_id or criteria.mobile_number or criteria.email)
    if open_lookup(consumer_codes=criteria.consumer_codes, service=criteria.business_service, others=others):
        # DIGIT's quick pay: whoever knows the consumer code gets its bill (the payer's details masked).
        return (
            ConsumerAccount.objects.select_related("tenant")
            .filter(
                tenant_lookup_q(criteria.tenant_id),
                business_service=criteria.business_service,
                consumer_code__in=criteria.consumer_codes,
            )
            .order_by("tenant__code", "business_service", "consumer_code")
        )
    tenant_q = resolve_search_tenant(caller, criteria.tenant_id)
    accounts = ConsumerAccount.objects.select_related("tenant").filter(
        tenant_q, business_service=criteria.business_service
    )
    wanted = Q(pk__in=[])
    if criteria.consumer_codes:
        wanted |= Q(consumer_code__in=criteria.consumer_codes)
    if criteria.demand_id:
        # Only the demand's own consumer (fix [16]).
        demand_uuid = uuid_or_none(criteria.demand_id)
        if demand_uuid is not None:
            wanted |= Q(pk__in=Demand.objects.filter(pk=demand_uuid).values("account_id"))
    if criteria.mobile_number or criteria.email:
        # Unbilled demands are found too (fix [6]), as are consumers whose bill carries that mobile number.
        payers = payers_for(criteria.tenant_id, mobile_number=criteria.mobile_number, email=criteria.email)
        wanted |= Q(pk__in=Demand.objects.filter(payer__in=payers, status=DemandStatus.ACTIVE).values("account_id"))
        bill_q = Q()
        if criteria.mobile_number:
            bill_q &= Q(mobile_number=criteria.mobile_number)
        if criteria.email:
            bill_q &= Q(payer_email__iexact=criteria.email)
        wanted |= Q(pk__in=Bill.objects.filter(bill_q, status=BillStatus.ACTIVE).values("account_id"))
    accounts = accounts.filter(wanted)
    # The consumers whose demands the caller owes. A caller without a login owes nothing: filtering on
    # ``payer__user_id=None`` would match every payer-less demand.
    own = Q(pk__in=Demand.objects.filter(own_payer_q(caller)).values("account_id"))
    if not caller.is_superuser:  # superusers reach every tenant
        staff = caller.tenants_with(FETCH_ROLES)
        # A citizen fetches only the bills of consumers whose demands they owe; staff also their tenants'.
        accounts = accounts.filter(caller.tenant_q("tenant__code", roles=FETCH_ROLES) | own if staff else own)
    return accounts.order_by("tenant__code", "business_service", "consumer_code")


def bill_fetch(*, caller: Caller, criteria: FetchCriteria, at: dt.datetime | None = None) -> list[Bill]:
    """The consumers' current bills, generating a fresh bill where the last one is stale or missing.

    1. Resolve the consumer accounts of the criteria (read only).
    2. For accounts without a current bill, call the business service's demand-refresh URL (no transaction
       is open; the module may update demands, which bumps their revision).
    3. In one transaction with the accounts locked: keep current bills, expire stale ones, build new ones.
    Concurrent fetches for one consumer serialise on the account lock and all answer the same bill.
    """
    _validate(criteria)
    accounts = list(_accounts(caller, criteria))
    if not accounts:
        return []
    now = at or clock.now()
    active = {b.account_id: b for b in Bill.objects.filter(account__in=accounts, status=BillStatus.ACTIVE)}
    needing = [a for a in accounts if a.pk not in active or not is_current(active[a.pk], a, now)]
    if needing:
        _refresh(needing, criteria)
    keys = [(a.tenant.code, a.business_service, a.consumer_code) for a in accounts]
    try:
        with transaction.atomic(durable=True):
            locked = consumer_accounts_lock(keys, at=now)
            result = bills_generate(
                accounts=[locked[k] for k in keys],
                at=now,
                actor=caller.username or ANONYMOUS_ACTOR,
                zone=clock.billing_zone(),
            )
            if result.failed:
                # Raised inside the transaction: the stale bills expired above are rolled back with it, so a
                # failed fetch writes nothing (DESIGN rule 10).
                raise next(iter(result.failed.values()))
    except IntegrityError as exc:  # pragma: no cover - the account lock makes this unreachable; kept as a guard
        if is_unique_violation(exc, Bill, "bills_bill_one_active_per_account"):
            raise DomainError(EG_BS_BILL_CONFLICT, "A concurrent request generated this bill; fetch again") from exc
        raise
    ids = [bill.pk for bill in result.current.values()]
    return list(bills_with_details().filter(pk__in=ids).order_by("consumer_code", "tenant__code"))


def _refresh(accounts: Sequence[ConsumerAccount], criteria: FetchCriteria) -> None:
    groups: dict[tuple[str, str], list[str]] = {}
    for account in accounts:
        groups.setdefault((account.tenant.code, account.business_service), []).append(account.consumer_code)
    for (tenant_code, service_code), codes in sorted(groups.items()):
        service = business_services_for(tenant_code, codes=[service_code]).first()
        if service is None or not service.demand_refresh_url:
            continue
        demand_refresh(
            url=service.demand_refresh_url,
            tenant_id=tenant_code,
            business_service=service_code,
            consumer_codes=sorted(codes),
            request_info=criteria.request_info,
        )
