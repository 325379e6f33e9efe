"""Reads of bills: the DIGIT search (latest bill per consumer code), the REST listing, effective status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from billing_project.errors import DomainError
from billing_project.uuids import uuid_or_none
from bills.errors import (
    BILL_SEARCH_CONSUMERCODE_BUSINESSSERVICE,
    BILL_SEARCH_TENANT_REQUIRED,
    EGBS_MANDATORY_FIELDS_ERROR,
)
from bills.models import Bill, BillAccountDetail, BillDetail, BillingRun, BillStatus
from masters.access import STAFF_ROLES, Caller, own_payer_q, resolve_search_tenant
from masters.models import Role

READ_ROLES = (*STAFF_ROLES, Role.SYSTEM)


def bills_with_details() -> QuerySet[Bill]:
    """Bills with tenant, account, payer, details and account lines loaded (no N+1 when serialising)."""
    return Bill.objects.select_related("tenant", "account", "payer").prefetch_related(
        Prefetch(
            "details",
            queryset=BillDetail.objects.order_by("from_period", "pk").prefetch_related(
                Prefetch("account_details", queryset=BillAccountDetail.objects.order_by("order", "tax_head_code", "pk"))
            ),
        )
    )


def effective_status(bill: Bill, now: dt.datetime) -> str:
    """What a reader should see: an ACTIVE bill that is past its expiry or behind its account is EXPIRED."""
    if bill.status == BillStatus.ACTIVE and (bill.expiry_date < now or bill.revision != bill.account.revision):
        return BillStatus.EXPIRED
    return bill.status


def bills_visible_to(caller: Caller) -> QuerySet[Bill]:
    """Bills the caller may read: staff and system clients of the bill's tenant; a citizen their own."""
    queryset = bills_with_details()
    if caller.is_superuser:
        return queryset
    own = own_payer_q(caller, "account__demands__payer")
    own_ids = Bill.objects.filter(own).values("pk")
    return queryset.filter(caller.tenant_q("tenant__code", roles=READ_ROLES) | Q(pk__in=own_ids))


def open_lookup(*, consumer_codes: tuple[str, ...], service: str | None, others: bool) -> bool:
    """A lookup by (tenant, business service, consumer code) only, with open endpoints on (DIGIT's quick pay):
    anyone may make it, even without a token; the payer's details are masked (``payer_visible``)."""
    return bool(settings.DIGIT_OPEN_ENDPOINTS and consumer_codes and service and not others)


def tenant_lookup_q(tenant_id: str, field: str = "tenant__code") -> Q:
    """The tenant rule of a lookup without a caller: the tenant, or every city of a state tenant."""
    if "." in tenant_id:
        return Q(**{field: tenant_id})
    return Q(**{field: tenant_id}) | Q(**{f"{field}__startswith": tenant_id + "."})


def payer_visible(caller: Caller, bill: Bill) -> bool:
    """May the caller see who owes the bill? Staff and system clients of its tenant, and the payer themself."""
    if caller.is_superuser or caller.has_role(bill.tenant.code, READ_ROLES):
        return True
    payer = bill.payer
    if payer is None:
        return False
    return (
        (caller.user_id is not None and payer.user_id == caller.user_id)
        or (caller.payer_uuid is not None and str(payer.uuid) == caller.payer_uuid)
        or (bool(caller.payer_mobile) and payer.mobile_number == caller.payer_mobile)
    )


@dataclass(frozen=True)
class BillSearchCriteria:
    """The reference's BillSearchCriteria (§6.1)."""

    tenant_id: str | None
    bill_ids: tuple[str, ...] = ()
    consumer_codes: tuple[str, ...] = ()
    service: str | None = None
    bill_number: str | None = None
    mobile_number: str | None = None
    email: str | None = None
    status: str | None = None
    from_period: dt.datetime | None = None
    to_period: dt.datetime | None = None
    retrieve_oldest: bool = False
    order_by: bool = False


def bill_search(*, caller: Caller, criteria: BillSearchCriteria) -> list[Bill]:
    """Reference §7.5: per consumer code, the latest matching bill (or the earliest non-cancelled one)."""
    if not criteria.tenant_id:
        raise DomainError(BILL_SEARCH_TENANT_REQUIRED, "tenantId is mandatory")
    if not (criteria.bill_ids or criteria.consumer_codes or criteria.mobile_number or criteria.email):
        raise DomainError(
            EGBS_MANDATORY_FIELDS_ERROR,
            "BILL_SEARCH_MANDATORY_FIELDS_MISSING Any one of the fields additional to tenantId is mandatory like "
            "consumerCode,billId, mobileNumber or email",
        )
    if criteria.consumer_codes and not criteria.service:
        raise DomainError(
            BILL_SEARCH_CONSUMERCODE_BUSINESSSERVICE,
            " the consumerCode & Service values should be given together or mobilenumber/email can be given ",
        )
    others = bool(criteria.bill_ids or criteria.mobile_number or criteria.email or criteria.bill_number)
    if open_lookup(consumer_codes=criteria.consumer_codes, service=criteria.service, others=others):
        queryset = bills_with_details().filter(tenant_lookup_q(criteria.tenant_id))
    else:
        queryset = bills_visible_to(caller).filter(resolve_search_tenant(caller, criteria.tenant_id))
    if criteria.bill_ids:
        ids = [key for key in map(uuid_or_none, criteria.bill_ids) if key is not None]
        queryset = queryset.filter(pk__in=ids)
    if criteria.retrieve_oldest:
        queryset = queryset.exclude(status=BillStatus.CANCELLED)
    elif criteria.status:
        queryset = queryset.filter(status=criteria.status)
    if criteria.email:
        queryset = queryset.filter(payer_email__iexact=criteria.email)
    if criteria.mobile_number:
        queryset = queryset.filter(mobile_number=criteria.mobile_number)
    if criteria.service:
        queryset = queryset.filter(business_service=criteria.service)
    if criteria.bill_number:
        queryset = queryset.filter(bill_number=criteria.bill_number)
    if criteria.consumer_codes:
        queryset = queryset.filter(consumer_code__in=criteria.consumer_codes)
    if criteria.from_period is not None:
        queryset = queryset.filter(details__from_period=criteria.from_period)
    if criteria.to_period is not None:
        queryset = queryset.filter(details__to_period=criteria.to_period)
    ranked = (
        queryset.order_by()
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("tenant_id"), F("consumer_code")],
                order_by=[
                    F("created_at").asc() if criteria.retrieve_oldest else F("created_at").desc(),
                    F("bill_number").desc(),
                ],
            )
        )
        .values("pk", "rank")
    )
    chosen = [row["pk"] for row in ranked if row["rank"] == 1]
    # ``orderBy`` asks for consumer-code order; the answer is always in that order, so results are stable.
    return list(bills_with_details().filter(pk__in=chosen).order_by("consumer_code", "tenant__code"))


def billing_runs_visible_to(caller: Caller) -> QuerySet[BillingRun]:
    queryset = BillingRun.objects.select_related("tenant")
    if caller.is_superuser:
        return queryset
    return queryset.filter(caller.tenant_q("tenant__code", roles=READ_ROLES))
