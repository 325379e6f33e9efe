"""Bulk billing runs: bill every consumer of a (tenant, business service) in chunks (DESIGN §4).

Each chunk is one transaction that locks its consumer accounts, generates their bills set-based, records
per-consumer errors and moves the run's cursor — so progress and bills commit together, and a run that is
killed resumes after the last committed chunk without billing anyone twice (and a consumer who already holds a
current bill is skipped anyway). Memory is bounded by the chunk.

- ``billing_run_create``: record a PENDING run.
- ``billing_run_start``: create it and submit the Celery task ``bills.execute_billing_run`` through the kernel's
  outbox, in the same transaction — the job is recorded with the run and handed to the broker after the commit,
  or later by the outbox's sweep when the broker is down (it is never lost).
- ``billing_run_advance``: one chunk, one transaction.
- ``billing_run_execute``: advance to the end (or for ``max_chunks``); what the task and the command call.
- ``billing_run_cancel``: stop a waiting or running run after the chunk in progress (that chunk's bills stay).
- ``billing_run_resume``: submit a failed, cancelled or stalled run again; it goes on after its last chunk.
- ``billing_run_continue``: submit the next task of a run that is not finished (one per cursor position).
- ``billing_runs_resubmit_stale``: the beat sweep's part — submit again the runs that stayed PENDING, or RUNNING
  without progress, longer than ``JOB_RESUBMIT_AFTER_SECONDS`` (their task was lost with a worker or a broker).
  Safe: a task re-checks the run and resumes from its committed cursor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from billing_project import clock
from billing_project.errors import NOT_FOUND, ConflictError, DomainError, NotFound
from billing_project.outbox import outbox_enqueue
from billing_project.outbox.selectors import outbox_undelivered_about
from bills.errors import BILLING_RUN_REASON_REQUIRED, BILLING_RUN_STATE, INVALID_CHUNK_SIZE
from bills.models import BillingRun, BillingRunError, RunStatus
from bills.services.generation import AccountRef, bills_generate_bulk
from demands.errors import INVALID_TENANTID
from demands.models import ConsumerAccount
from masters.access import Caller, require_role
from masters.errors import EG_BS_BUSINESSSERVICE_NOTFOUND
from masters.models import Role, Tenant
from masters.selectors import business_services_for

RUN_ROLES = (Role.BILLING_ADMIN, Role.EMPLOYEE, Role.SYSTEM)
MAX_CHUNK = 5000
DEFAULT_CHUNK_SIZE = 1000
TASK = "bills.execute_billing_run"
OPEN = (RunStatus.PENDING, RunStatus.RUNNING)
FINISHED = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)
#: A waiting or running run whose progress has not moved for this long may be resumed by staff (its task was lost).
STALLED_AFTER = dt.timedelta(minutes=10)


def _accounts(run: BillingRun) -> QuerySet[ConsumerAccount]:
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
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    at: dt.datetime,
    submit: bool = False,
) -> BillingRun:
    """Record a PENDING run; ``billing_run_advance`` (or the Celery task) does the work. With ``submit`` the task
    is submitted through the outbox in the same transaction (``billing_run_start``)."""
    tenant = Tenant.objects.filter(code=tenant_code).first()
    if tenant is None:
        raise DomainError(INVALID_TENANTID, f"No data found for this tenentID {tenant_code}")
    require_role(caller, tenant_code, RUN_ROLES, "start billing runs")
    if not business_services_for(tenant_code, codes=[business_service]).exists():
        raise DomainError(
            EG_BS_BUSINESSSERVICE_NOTFOUND, f"No Business Service masters found for give codes [{business_service}]"
        )
    if not 1 <= chunk_size <= MAX_CHUNK:
        raise DomainError(INVALID_CHUNK_SIZE, f"chunk_size must be between 1 and {MAX_CHUNK}")
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
        if submit:
            _submit(run, purpose="start")
    return run


def run_subject(run_id: int) -> str:
    """How the outbox names a run (its messages' ``subject``)."""
    return f"bills.billingrun:{run_id}"


def _submit(run: BillingRun, *, purpose: str, **arguments: int) -> bool:
    """Submit the run's task through the outbox, in the caller's transaction; False when a message with this
    purpose exists already (its dedupe key)."""
    message = outbox_enqueue(
        channel="celery",
        destination=TASK,
        payload={"run_id": run.pk, **arguments},
        dedupe_key=f"{run_subject(run.pk)}:{purpose}",
        tenant_code=run.tenant.code,
        subject=run_subject(run.pk),
    )
    return message.is_new


def billing_run_start(
    *,
    caller: Caller,
    tenant_code: str,
    business_service: str,
    consumer_codes: Sequence[str] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    at: dt.datetime,
) -> BillingRun:
    """Create a run and submit its Celery task in the same transaction (through the outbox); returns the run as
    it is now.

    The run is accepted and will run: PENDING until a worker starts it. The task is handed to the broker right
    after the commit; if the broker is down, the outbox's sweep hands it over when it is back (and the stale-run
    sweep submits it again should it be lost). With no broker configured the task runs in-process after the
    commit, so the run returned has already finished.
    """
    run = billing_run_create(
        caller=caller,
        tenant_code=tenant_code,
        business_service=business_service,
        consumer_codes=consumer_codes,
        chunk_size=chunk_size,
        at=at,
        submit=True,
    )
    run.refresh_from_db()
    return run


def billing_run_continue(*, run_id: int, chunks_per_task: int) -> bool:
    """Submit the next task of a run that is not finished, through the outbox: one message per cursor position,
    so a task that is delivered twice does not start two chains. True when a message was written."""
    with transaction.atomic(durable=True):
        run = BillingRun.objects.select_related("tenant").filter(pk=run_id, status__in=OPEN).first()
        if run is None:
            return False
        return _submit(run, purpose=f"continue:{run.cursor}", chunks_per_task=chunks_per_task)


def billing_runs_resubmit_stale(*, at: dt.datetime, limit: int = 100) -> int:
    """Submit again (through the outbox) the runs PENDING, or RUNNING without progress, for longer than
    ``JOB_RESUBMIT_AFTER_SECONDS``; returns how many were submitted.

    Skipped: a run whose task message is still undelivered (the outbox is retrying it, e.g. the broker is down),
    and a run whose row is locked (a chunk is running). One message per run and stale period (its dedupe key), so
    a sweep repeated within the period adds nothing. Safe when the first task is merely slow: tasks re-check the
    run, lock it per chunk and resume from its committed cursor.
    """
    stale_after = dt.timedelta(seconds=settings.JOB_RESUBMIT_AFTER_SECONDS)
    cutoff = at - stale_after
    ids = list(
        BillingRun.objects.filter(status__in=OPEN, updated_at__lt=cutoff)
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    waiting = outbox_undelivered_about([run_subject(run_id) for run_id in ids])
    period = int(at.timestamp() // stale_after.total_seconds())
    submitted = 0
    for run_id in ids:
        if run_subject(run_id) in waiting:
            continue
        with transaction.atomic(durable=True):
            run = (
                BillingRun.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("tenant")
                .filter(pk=run_id, status__in=OPEN, updated_at__lt=cutoff)
                .first()
            )
            if run is not None and _submit(run, purpose=f"resubmit:{period}"):
                submitted += 1
    return submitted


def billing_run_advance(*, run_id: int, actor: str = "billing-run") -> bool:
    """Process the next chunk of a run. Returns True when the run is finished (or was already).

    One durable transaction: lock the run row, take the next ``chunk_size`` accounts after the cursor (keyset
    on the account id, so every chunk costs the same), lock them in the global account lock order, generate
    their bills, record per-consumer errors, and move the cursor and counters. A chunk that fails rolls back
    whole — bills and cursor together — so the next attempt redoes exactly that chunk.
    """
    with transaction.atomic(durable=True):
        run = BillingRun.objects.select_for_update(of=("self",)).select_related("tenant").filter(pk=run_id).first()
        if run is None:
            raise NotFound(NOT_FOUND, f"No billing run {run_id}.")
        if run.status in FINISHED:
            return True
        now = clock.now()
        if run.status == RunStatus.PENDING:
            run.status, run.started_at = RunStatus.RUNNING, now
        chunk = list(
            _accounts(run).filter(pk__gt=run.cursor).order_by("pk").values_list("pk", flat=True)[: run.chunk_size]
        )
        if not chunk:
            run.status, run.finished_at, run.updated_at = RunStatus.COMPLETED, now, now
            run.save()
            return True
        accounts = _lock(run, chunk)
        result = bills_generate_bulk(accounts=accounts, at=now, actor=actor, zone=clock.billing_zone(), run_id=run.pk)
        if result.failed:
            BillingRunError.objects.bulk_create(
                BillingRunError(
                    run=run, consumer_code=account.consumer_code, code=error.code, message=error.message, created_at=now
                )
                for account in accounts
                if (error := result.failed.get(account.pk)) is not None
            )
        run.processed += len(chunk)
        run.bills_created += len(result.created)
        run.failed += len(result.failed)
        run.skipped += len(chunk) - len(result.created) - len(result.failed)
        run.cursor = chunk[-1]
        run.updated_at = now
        run.save()
    return False


def _lock(run: BillingRun, ids: Sequence[int]) -> list[AccountRef]:
    """Lock the chunk's accounts (``SELECT ... FOR UPDATE``) in the order ``consumer_accounts_lock`` uses —
    (tenant code, business service, consumer code) — so a run never deadlocks with fetches or demand writes."""
    rows = (
        ConsumerAccount.objects.select_for_update(of=("self",))
        .filter(pk__in=list(ids))
        .order_by("tenant__code", "business_service", "consumer_code")
        .values_list("pk", "business_service", "consumer_code", "revision")
    )
    return [
        AccountRef(
            pk=pk,
            tenant_id=run.tenant_id,
            tenant_code=run.tenant.code,
            business_service=service,
            consumer_code=code,
            revision=revision,
        )
        for pk, service, code, revision in rows
    ]


def billing_run_execute(
    *, run_id: int, on_progress: Callable[[BillingRun], None] | None = None, max_chunks: int | None = None
) -> BillingRun:
    """Advance a run chunk by chunk until it is finished (or ``max_chunks`` were done); returns the run.

    A ``DomainError`` in a chunk (say, an unusable bill number format) rolls that chunk back and marks the run
    FAILED with the error. Any other exception (a lost connection, a killed worker) propagates and leaves the
    run RUNNING: calling this again resumes it, redoing the chunk that rolled back.
    """
    if not BillingRun.objects.filter(pk=run_id).exists():
        raise NotFound(NOT_FOUND, f"No billing run {run_id}.")
    done, chunks = False, 0
    while not done and (max_chunks is None or chunks < max_chunks):
        try:
            done = billing_run_advance(run_id=run_id)
        except NotFound:
            raise
        except DomainError as exc:
            _fail(run_id, f"{exc.code}: {exc.message}")
            done = True
        chunks += 1
        if on_progress is not None:
            on_progress(BillingRun.objects.select_related("tenant").get(pk=run_id))
    return BillingRun.objects.select_related("tenant").get(pk=run_id)


def _fail(run_id: int, message: str) -> None:
    with transaction.atomic(durable=True):
        BillingRun.objects.filter(pk=run_id).update(
            status=RunStatus.FAILED, error=message, finished_at=clock.now(), updated_at=clock.now()
        )


def _run_locked(*, caller: Caller, run_id: int, action: str) -> BillingRun:
    """The run, locked (inside the caller's transaction), after the role check in its tenant."""
    run = BillingRun.objects.select_for_update(of=("self",)).select_related("tenant").filter(pk=run_id).first()
    if run is None or not caller.has_role(run.tenant.code):
        raise NotFound(NOT_FOUND, f"No billing run {run_id}.")
    require_role(caller, run.tenant.code, RUN_ROLES, action)
    return run


def billing_run_cancel(*, caller: Caller, run_id: int, reason: str, at: dt.datetime) -> BillingRun:
    """Cancel a waiting or running run. The chunk in progress (if any) finishes first — it holds the run's row
    lock — and keeps its bills; no further chunk starts (and the stale-run sweep leaves a cancelled run alone).
    ``BILLING_RUN_STATE`` for a finished run."""
    reason = reason.strip()
    if not reason:
        raise DomainError(BILLING_RUN_REASON_REQUIRED, "Say why the run is cancelled.")
    with transaction.atomic(durable=True):
        run = _run_locked(caller=caller, run_id=run_id, action="cancel billing runs")
        if run.status in FINISHED:
            state = run.get_status_display().lower()
            raise ConflictError(BILLING_RUN_STATE, f"Run {run_id} is {state}: nothing to cancel.")
        run.status, run.finished_at, run.updated_at = RunStatus.CANCELLED, at, at
        run.cancelled_by, run.cancel_reason = caller.username, reason[:1024]
        run.save(update_fields=["status", "finished_at", "updated_at", "cancelled_by", "cancel_reason"])
    return run


def billing_run_resume(*, caller: Caller, run_id: int, at: dt.datetime) -> BillingRun:
    """Submit a FAILED or CANCELLED run again (or a waiting/running one whose progress stalled for
    ``STALLED_AFTER``), through the outbox in the same transaction; it goes on after its last committed chunk, so
    nobody is billed twice. The error is cleared on the row (the admin's history keeps it).
    ``BILLING_RUN_STATE`` otherwise."""
    with transaction.atomic(durable=True):
        run = _run_locked(caller=caller, run_id=run_id, action="resume billing runs")
        stalled = run.status in OPEN and run.updated_at < at - STALLED_AFTER
        if run.status == RunStatus.COMPLETED or (run.status not in FINISHED and not stalled):
            raise ConflictError(
                BILLING_RUN_STATE,
                f"Run {run_id} is {run.get_status_display().lower()}: only a failed, cancelled or stalled run "
                "can be resumed.",
            )
        run.status = RunStatus.RUNNING if run.started_at else RunStatus.PENDING
        run.finished_at, run.error, run.updated_at = None, "", at
        run.cancelled_by, run.cancel_reason = "", ""
        run.save(update_fields=["status", "finished_at", "error", "updated_at", "cancelled_by", "cancel_reason"])
        _submit(run, purpose=f"resume:{at.isoformat()}")
    run.refresh_from_db()
    return run
