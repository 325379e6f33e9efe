"""The consumer account: the per-consumer lock and the revision every demand write bumps (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F, Q

from demands.models import ConsumerAccount
from masters.models import Tenant

AccountKey = tuple[str, str, str]  # (tenant code, business service, consumer code)


def consumer_accounts_lock(keys: Iterable[AccountKey], *, at: dt.datetime) -> dict[AccountKey, ConsumerAccount]:
    """Create missing accounts and lock all of them (``SELECT ... FOR UPDATE``), in one stable order.

    Must run inside the caller's transaction. The lock order (tenant, service, consumer code) is the same
    for every caller, so two writers touching the same consumers cannot deadlock.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    with transaction.atomic(savepoint=False):
        tenants = {t.code: t for t in Tenant.objects.filter(code__in={k[0] for k in wanted})}
        ConsumerAccount.objects.bulk_create(
            [
                ConsumerAccount(
                    tenant=tenants[tenant], business_service=service, consumer_code=code, created_at=at, updated_at=at
                )
                for tenant, service, code in wanted
            ],
            ignore_conflicts=True,
        )
        codes_by_group: dict[tuple[str, str], list[str]] = {}
        for tenant, service, code in wanted:
            codes_by_group.setdefault((tenant, service), []).append(code)
        match = Q(pk__in=[])
        for (tenant, service), codes in codes_by_group.items():
            match |= Q(tenant=tenants[tenant], business_service=service, consumer_code__in=codes)
        locked = list(
            ConsumerAccount.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(match)
            .order_by("tenant__code", "business_service", "consumer_code")
        )
    return {(a.tenant.code, a.business_service, a.consumer_code): a for a in locked}


def consumer_accounts_lock_by_id(ids: Iterable[int]) -> dict[AccountKey, ConsumerAccount]:
    """Lock existing accounts by id (a bill's ``account_id``) in the order of ``consumer_accounts_lock``: one
    ``SELECT ... FOR UPDATE``, no tenant look-up and no insert (a row another row points to exists).

    Must run inside the caller's transaction. Answers the accounts by key, as ``consumer_accounts_lock`` does."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    with transaction.atomic(savepoint=False):
        locked = list(
            ConsumerAccount.objects.select_for_update(of=("self",))
            .select_related("tenant")
            .filter(pk__in=wanted)
            .order_by("tenant__code", "business_service", "consumer_code")
        )
    return {(a.tenant.code, a.business_service, a.consumer_code): a for a in locked}


def consumer_accounts_bump(accounts: Iterable[ConsumerAccount], *, at: dt.datetime) -> None:
    """Add one to each locked account's revision (the in-memory objects get the new value too)."""
    unique = {account.pk: account for account in accounts}
    with transaction.atomic(savepoint=False):
        ConsumerAccount.objects.filter(pk__in=list(unique)).update(revision=F("revision") + 1, updated_at=at)
    for account in unique.values():
        account.revision += 1
        account.updated_at = at
