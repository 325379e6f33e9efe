"""Bill generation for a set of consumer accounts that the caller has locked (DESIGN §4).

For each account: a current ACTIVE bill (not expired, built from the account's present revision) is kept;
a stale one is marked EXPIRED; then a bill is built from the account's ACTIVE, unpaid demands with the pure
aggregation function. Bill numbers are drawn only for bills that are saved (fix [17]), in one sequence draw
per (tenant, business service). Set-based: a fixed number of queries however many accounts are passed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch

from billing_project.errors import DomainError
from bills.domain.aggregation import BillDraft, DemandData, DemandLineData, UnknownTaxHead, build_bill
from bills.models import Bill, BillAccountDetail, BillDetail, BillingRun, BillStatus
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandStatus
from masters.models import Payer
from masters.selectors import tax_heads_for
from masters.services.idgen import id_generate

BILL_NUMBER_ID_NAME = "billnumberid"


def is_current(bill: Bill, account: ConsumerAccount, at: dt.datetime) -> bool:
    """An ACTIVE bill is current while it has not expired and no demand write happened since it was built."""
    return bill.status == BillStatus.ACTIVE and bill.expiry_date >= at and bill.revision == account.revision


@dataclass
class GenerationResult:
    current: dict[int, Bill] = field(default_factory=dict)  # account id -> the bill to answer with
    created: list[Bill] = field(default_factory=list)
    expired: int = 0
    nothing_due: list[int] = field(default_factory=list)  # accounts with no demand, or only credit left
    failed: dict[int, DomainError] = field(default_factory=dict)


def bills_generate(
    *,
    accounts: Sequence[ConsumerAccount],
    at: dt.datetime,
    actor: str,
    zone: dt.tzinfo,
    run: BillingRun | None = None,
) -> GenerationResult:
    """Give every account a current bill where it has dues. Must run inside the caller's transaction with
    ``accounts`` locked (lock order: account -> demands -> bill -> id sequence)."""
    result = GenerationResult()
    if not accounts:
        return result
    by_id = {a.pk: a for a in accounts}
    with transaction.atomic(savepoint=False):
        active = list(Bill.objects.filter(account_id__in=list(by_id), status=BillStatus.ACTIVE))
        stale = []
        for bill in active:
            if is_current(bill, by_id[bill.account_id], at):
                result.current[bill.account_id] = bill
            else:
                stale.append(bill.pk)
        if stale:
            result.expired = Bill.objects.filter(pk__in=stale, status=BillStatus.ACTIVE).update(
                status=BillStatus.EXPIRED, modified_by=actor, modified_at=at
            )
        needing = [a for a in accounts if a.pk not in result.current]
        drafts = _drafts(needing, at=at, zone=zone, result=result)
        _save(drafts, at=at, actor=actor, run=run, result=result)
    return result


@dataclass(frozen=True)
class _Draft:
    account: ConsumerAccount
    draft: BillDraft
    demands: dict[str, Demand]
    payer: Payer | None


def _drafts(
    accounts: Sequence[ConsumerAccount], *, at: dt.datetime, zone: dt.tzinfo, result: GenerationResult
) -> list[_Draft]:
    if not accounts:
        return []
    demands = (
        Demand.objects.filter(
            account_id__in=[a.pk for a in accounts], status=DemandStatus.ACTIVE, is_payment_completed=False
        )
        .select_related("payer", "tenant")
        .prefetch_related(Prefetch("details", queryset=DemandDetail.objects.order_by("created_at", "pk")))
        .order_by("account_id", "tax_period_from", "pk")
    )
    by_account: dict[int, list[Demand]] = {}
    for demand in demands:
        by_account.setdefault(demand.account_id, []).append(demand)
    orders: dict[tuple[str, str], dict[str, int]] = {}
    out: list[_Draft] = []
    for account in accounts:
        mine = by_account.get(account.pk, [])
        if not mine:
            result.nothing_due.append(account.pk)
            continue
        key = (account.tenant.code, account.business_service)
        if key not in orders:
            orders[key] = {h.code: h.order for h in tax_heads_for(key[0], service=key[1])}
        try:
            draft = build_bill([_demand_data(d) for d in mine], head_order=orders[key], now=at, zone=zone)
        except UnknownTaxHead as exc:
            result.failed[account.pk] = DomainError("EG_BS_TAXHEADCODE_EMPTY", str(exc))
            continue
        if draft is None or not draft.is_billable:
            result.nothing_due.append(account.pk)
            continue
        # Each consumer's bill carries that consumer's own payer (fix [7]): the latest period's payer.
        payer = next((d.payer for d in reversed(mine) if d.payer is not None), None)
        out.append(_Draft(account=account, draft=draft, demands={str(d.pk): d for d in mine}, payer=payer))
    return out


def _demand_data(demand: Demand) -> DemandData:
    return DemandData(
        key=str(demand.pk),
        period_from=demand.tax_period_from,
        period_to=demand.tax_period_to,
        lines=tuple(
            DemandLineData(
                key=str(line.pk),
                tax_head_code=line.tax_head_code,
                tax_amount=line.tax_amount,
                collection_amount=line.collection_amount,
            )
            for line in demand.details.all()
        ),
        bill_expiry_time=demand.bill_expiry_time,
        fixed_bill_expiry_date=demand.fixed_bill_expiry_date,
        additional_details=demand.additional_details,
    )


def bill_number_placeholders(tenant_code: str, business_service: str) -> dict[str, str]:
    """``{module}`` and ``{tenantid}`` of the bill number format (reference §7.7)."""
    suffix = "_" + tenant_code.rsplit(".", 1)[-1] if settings.TENANT_LEVEL_BILL_NUMBERING and "." in tenant_code else ""
    return {"module": business_service, "tenantid": suffix}


def _save(
    drafts: Sequence[_Draft], *, at: dt.datetime, actor: str, run: BillingRun | None, result: GenerationResult
) -> None:
    if not drafts:
        return
    groups: dict[tuple[str, str], list[_Draft]] = {}
    for item in drafts:
        groups.setdefault((item.account.tenant.code, item.account.business_service), []).append(item)
    bills: list[Bill] = []
    details: list[BillDetail] = []
    lines: list[BillAccountDetail] = []
    for (tenant_code, service), items in sorted(groups.items()):
        numbers = id_generate(
            tenant_code=tenant_code,
            id_name=BILL_NUMBER_ID_NAME,
            default_format=settings.BILL_NUMBER_FORMAT,
            placeholders=bill_number_placeholders(tenant_code, service),
            count=len(items),
            at=at,
        )
        for item, number in zip(items, numbers, strict=True):
            payer = item.payer
            bill = Bill(
                id=uuid.uuid4(),
                account=item.account,
                tenant=item.account.tenant,
                business_service=service,
                consumer_code=item.account.consumer_code,
                bill_number=number,
                bill_date=at,
                status=BillStatus.ACTIVE,
                revision=item.account.revision,
                expiry_date=item.draft.expiry_date,
                total_amount=item.draft.total_amount,
                payer=payer,
                payer_name=payer.name if payer else "",
                payer_address=payer.permanent_address if payer else "",
                payer_email=payer.email if payer else "",  # fix [18]
                mobile_number=payer.mobile_number if payer else "",
                run=run,
                created_by=actor,
                created_at=at,
                modified_by=actor,
                modified_at=at,
            )
            bills.append(bill)
            result.current[item.account.pk] = bill
            for draft_detail in item.draft.details:
                detail = BillDetail(
                    id=uuid.uuid4(),
                    bill=bill,
                    demand_id=uuid.UUID(draft_detail.demand_key),
                    from_period=draft_detail.period_from,
                    to_period=draft_detail.period_to,
                    expiry_date=draft_detail.expiry_date,
                    amount=draft_detail.amount,
                    additional_details=draft_detail.additional_details,
                )
                details.append(detail)
                lines.extend(
                    BillAccountDetail(
                        id=uuid.uuid4(),
                        bill_detail=detail,
                        demand_detail_id=uuid.UUID(line.demand_detail_key),
                        tax_head_code=line.tax_head_code,
                        order=line.order,
                        amount=line.amount,
                    )
                    for line in draft_detail.account_lines
                )
    Bill.objects.bulk_create(bills)
    BillDetail.objects.bulk_create(details)
    BillAccountDetail.objects.bulk_create(lines)
    result.created.extend(bills)
