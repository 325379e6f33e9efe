"""Bulk billing runs: bill every consumer of a (tenant, business service) in chunks (DESIGN §4).

Each chunk is one transaction that locks its consumer accounts, generates their bills set-based, records
per-consumer errors and moves the run's cursor — so progress and bills commit together, and a run that is
killed resumes after the last committed chunk without billing anyone twice. Memory is bounded by the chunk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from django.db import transaction

from billing_project import clock
from billing_project.errors import DomainError, NotFound
from bills.models import BillingRun, BillingRunError, RunStatus
from bills.services.generation import bills_generate
from demands.models import ConsumerAccount
from demands.services.accounts import consumer_accounts_lock
from masters.access import Caller, require_role
from masters.models import Role, Tenant
from masters.selectors import business_services_for

RUN_ROLES = (Role.BILLING_ADMIN, Role.EMPLOYEE, Role.SYSTEM)
MAX_CHUNK = 5000


def _accounts(run: BillingRun):  # type: ignore[no-untyped-def]
    queryset = ConsumerAccount.objects.filter(tenant_id=run.tenant_id, business_service=run.business_service)
    if run.consumer_codes:
        queryset = queryset.filter(consumer_code__in=run.consumer_codes)
    return queryset


def billing_run_create(
    *,
    caller: Caller,
    tenant_code: str,
    business_service: str,
    consumer_codes: Sequence[str] | None = None,
    chunk_size: int = 500,
    at: dt.datetime,
) -> BillingRun:
    """Record a PENDING run; ``billing_run_advance`` (or the Celery task) does the work."""
    tenant = Tenant.objects.filter(code=tenant_code).first()
    if tenant is None:
        raise DomainError("INVALID TENANTID", f"No data found for this tenentID {tenant_code}")
    require_role(caller, tenant_code, RUN_ROLES, "start billing runs")
    if not business_services_for(tenant_code, codes=[business_service]).exists():
        raise DomainError(
            "EG_BS_BUSINESSSERVICE_NOTFOUND", f"No Business Service masters found for give codes [{business_service}]"
        )
    if not 1 <= chunk_size <= MAX_CHUNK:
        raise DomainError("INVALID_CHUNK_SIZE", f"chunk_size must be between 1 and {MAX_CHUNK}")
    codes = sorted(set(consumer_codes)) if consumer_codes else None
    with transaction.atomic(durable=True):
        run = BillingRun(
            tenant=tenant,
            business_service=business_service,
            consumer_codes=codes,
            chunk_size=chunk_size,
            created_by=caller.username,
            created_at=at,
            updated_at=at,
        )
        run.total_consumers = _accounts(run).count()
        run.save()
    return run


def billing_run_advance(*, run_id: int, actor: str = "billing-run") -> bool:
    """Process the next chunk of a run. Returns True when the run is finished (or was already)."""
    with transaction.atomic(durable=True):
        run = BillingRun.objects.select_for_update().select_related("tenant").filter(pk=run_id).first()
        if run is None:
            raise NotFound("NOT_FOUND", f"No billing run {run_id}.")
        if run.status in (RunStatus.COMPLETED, RunStatus.FAILED):
            return True
        now = clock.now()
        if run.status == RunStatus.PENDING:
            run.status, run.started_at = RunStatus.RUNNING, now
        chunk = list(
            _accounts(run).filter(pk__gt=run.cursor).order_by("pk").values_list("pk", "consumer_code")[: run.chunk_size]
        )
        if not chunk:
            run.status, run.finished_at, run.updated_at = RunStatus.COMPLETED, now, now
            run.save()
            return True
        keys = [(run.tenant.code, run.business_service, code) for _, code in chunk]
        locked = consumer_accounts_lock(keys, at=now)
        accounts = [locked[k] for k in keys]
        result = bills_generate(accounts=accounts, at=now, actor=actor, zone=clock.billing_zone(), run=run)
        created_ids = {b.account_id for b in result.created}
        BillingRunError.objects.bulk_create(
            BillingRunError(
                run=run,
                consumer_code=locked_account.consumer_code,
                code=error.code,
                message=error.message,
                created_at=now,
            )
            for locked_account in accounts
            if (error := result.failed.get(locked_account.pk)) is not None
        )
        run.processed += len(chunk)
        run.bills_created += len(created_ids)
        run.failed += len(result.failed)
        run.skipped += len(chunk) - len(created_ids) - len(result.failed)
        run.cursor = chunk[-1][0]
        run.updated_at = now
        run.save()
    return False


def billing_run_execute(
    *, run_id: int, on_progress: Callable[[BillingRun], None] | None = None, max_chunks: int | None = None
) -> BillingRun:
    """Advance a run chunk by chunk until it is finished (or ``max_chunks`` were done)."""
    done, chunks = False, 0
    while not done and (max_chunks is None or chunks < max_chunks):
        try:
            done = billing_run_advance(run_id=run_id)
        except DomainError as exc:
            _fail(run_id, f"{exc.code}: {exc.message}")
            raise
        chunks += 1
        if on_progress is not None:
            on_progress(BillingRun.objects.get(pk=run_id))
    return BillingRun.objects.get(pk=run_id)


def _fail(run_id: int, message: str) -> None:
    with transaction.atomic(durable=True):
        BillingRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, error=message, finished_at=clock.now(), updated_at=clock.now()
        )
