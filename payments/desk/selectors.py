"""Reads of the counter desk: consumer search and the consumer page (one account with everything it has)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from amendments.models import Amendment
from billing_project.money import ZERO, money_sum
from bills.models import Bill, BillStatus
from bills.selectors import effective_status
from bills.services import is_current
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandHistory, DemandStatus
from masters.access import STAFF_ROLES, Caller
from masters.models import BusinessService, Payer, TaxHeadCategory
from masters.selectors import business_services_for, tax_head_names, tax_heads_for
from payments.desk.forms import MODE_LABELS
from payments.models import PaymentDetail

SEARCH_LIMIT = 25


@dataclass(frozen=True)
class ConsumerHit:
    account: ConsumerAccount
    payer: Payer | None
    open_bill: Bill | None


def accounts_visible(caller: Caller) -> QuerySet[ConsumerAccount]:
    """Consumer accounts of the tenants where the caller holds a staff role."""
    return ConsumerAccount.objects.select_related("tenant").filter(caller.tenant_q("tenant__code", STAFF_ROLES))


def consumer_search(*, caller: Caller, query: str, limit: int = SEARCH_LIMIT) -> list[ConsumerHit]:
    """Consumers matching ``query``: consumer code (prefix), payer name (part), mobile number or bill number
    (exact), within the caller's tenants; ordered by tenant and consumer code."""
    text = query.strip()
    if not text:
        return []
    match = (
        Q(consumer_code__istartswith=text)
        | Q(demands__payer__name__icontains=text)
        | Q(bills__bill_number__iexact=text)
    )
    if text.isdigit():
        match |= Q(demands__payer__mobile_number=text) | Q(bills__mobile_number=text)
    ids = list(
        accounts_visible(caller)
        .filter(match)
        .order_by("tenant__code", "consumer_code", "business_service")
        .values_list("pk", flat=True)
        .distinct()[: limit * 4]
    )
    accounts = list(
        accounts_visible(caller)
        .filter(pk__in=list(dict.fromkeys(ids))[:limit])
        .order_by("tenant__code", "consumer_code", "business_service")
    )
    payers = _latest_payers(accounts)
    bills = {b.account_id: b for b in Bill.objects.filter(account__in=accounts, status=BillStatus.ACTIVE)}
    return [ConsumerHit(account=a, payer=payers.get(a.pk), open_bill=bills.get(a.pk)) for a in accounts]


def _latest_payers(accounts: list[ConsumerAccount]) -> dict[int, Payer]:
    found: dict[int, Payer] = {}
    demands = (
        Demand.objects.filter(account__in=accounts, payer__isnull=False)
        .select_related("payer")
        .order_by("account_id", "-tax_period_from", "-created_at")
    )
    for demand in demands:
        if demand.payer is not None:
            found.setdefault(demand.account_id, demand.payer)
    return found


@dataclass(frozen=True)
class Line:
    tax_head_code: str
    tax_head_name: str
    tax: Decimal
    collected: Decimal

    @property
    def due(self) -> Decimal:
        return self.tax - self.collected


@dataclass(frozen=True)
class PeriodRow:
    demand: Demand
    lines: tuple[Line, ...]

    @property
    def tax(self) -> Decimal:
        return money_sum(line.tax for line in self.lines)

    @property
    def collected(self) -> Decimal:
        return money_sum(line.collected for line in self.lines)

    @property
    def due(self) -> Decimal:
        return self.tax - self.collected


@dataclass(frozen=True)
class BillRow:
    bill: Bill
    shown_status: str
    is_current: bool


@dataclass(frozen=True)
class Rules:
    """The business service's payment rules, as the counter shows them before a payment is taken."""

    service: BusinessService | None
    advance_heads: frozenset[str] = frozenset()

    @property
    def refused_modes(self) -> frozenset[str]:
        return (
            frozenset(str(m) for m in (self.service.collection_modes_not_allowed or ()))
            if self.service
            else frozenset()
        )

    @property
    def lines(self) -> list[str]:
        service = self.service
        if service is None:
            return ["No business service master is configured: payments will be refused."]
        modes = ", ".join(MODE_LABELS.get(m, m) for m in sorted(self.refused_modes)) or "none"
        rules = [
            "Part payment is allowed." if service.part_payment_allowed else "Pay the whole bill: no part payment.",
            "Paying more than the bill is kept as advance."
            if service.is_advance_allowed and self.advance_heads
            else "No advance: the amount may not exceed the bill.",
            "Amounts may have paise." if service.fractional_payment_allowed else "Whole rupees only (no paise).",
            f"Not accepted for {service.code}: {modes}.",
        ]
        if service.min_amount_payable:
            rules.append(
                f"A part payment must be at least {service.min_amount_payable}; the whole due is always accepted."
            )
        return rules


@dataclass(frozen=True)
class ConsumerPage:
    account: ConsumerAccount
    payer: Payer | None
    periods: list[PeriodRow]
    bills: list[BillRow]
    payments: list[PaymentDetail]
    amendments: list[Amendment]
    history: list[DemandHistory]
    advance_balance: Decimal
    rules: Rules
    current_bill: Bill | None = None
    total_due: Decimal = ZERO
    errors: list[str] = field(default_factory=list)


def consumer_page(*, account: ConsumerAccount, at: dt.datetime) -> ConsumerPage:
    """Everything the consumer page shows for one account (already scoped by the caller)."""
    tenant = account.tenant.code
    demands = list(
        Demand.objects.filter(account=account)
        .prefetch_related(Prefetch("details", queryset=DemandDetail.objects.order_by("position", "pk")))
        .select_related("payer")
        .order_by("tax_period_from", "created_at")
    )
    names = tax_head_names(tenant, {d.tax_head_code for demand in demands for d in demand.details.all()})
    periods = [
        PeriodRow(
            demand=demand,
            lines=tuple(
                Line(d.tax_head_code, names.get(d.tax_head_code, d.tax_head_code), d.tax_amount, d.collection_amount)
                for d in demand.details.all()
            ),
        )
        for demand in demands
    ]
    service = business_services_for(tenant, codes=[account.business_service]).first()
    advance_heads = frozenset(
        tax_heads_for(
            tenant, service=account.business_service, category=TaxHeadCategory.ADVANCE_COLLECTION
        ).values_list("code", flat=True)
    )
    active = [p for p in periods if p.demand.status == DemandStatus.ACTIVE]
    advance = -money_sum(
        line.due for p in active for line in p.lines if line.tax_head_code in advance_heads and line.due < ZERO
    )
    bills = list(Bill.objects.filter(account=account).select_related("account").order_by("-bill_date", "-created_at"))
    bill_rows = [
        BillRow(
            bill=b,
            shown_status=effective_status(b, at),
            is_current=b.status == BillStatus.ACTIVE and is_current(b, account, at),
        )
        for b in bills
    ]
    current = next((row.bill for row in bill_rows if row.is_current), None)
    payments = list(
        PaymentDetail.objects.filter(bill__account=account)
        .select_related("payment", "bill")
        .order_by("-payment__created_at", "receipt_number")
    )
    amendments = list(
        Amendment.objects.filter(
            tenant=account.tenant, consumer_code=account.consumer_code, business_service=account.business_service
        ).order_by("-created_at")
    )
    history = list(
        DemandHistory.objects.filter(demand__account=account)
        .select_related("demand")
        .order_by("-changed_at", "-id")[:50]
    )
    payer = next((d.payer for d in reversed(demands) if d.payer is not None), None)
    return ConsumerPage(
        account=account,
        payer=payer,
        periods=periods,
        bills=bill_rows,
        payments=payments,
        amendments=amendments,
        history=history,
        advance_balance=advance,
        rules=Rules(service=service, advance_heads=advance_heads),
        current_bill=current,
        total_due=money_sum(p.due for p in active),
    )
