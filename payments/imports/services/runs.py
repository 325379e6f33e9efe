"""Import runs: create one from an uploaded file, execute it line by line, resume it after a crash.

- ``import_run_create``: check the caller, the tenant and the whole file (encoding, CSV syntax, header, size);
  a refused file stores nothing. Stores a QUEUED run with the file's text and submits the Celery task
  ``payments.imports.execute_run`` through the kernel's outbox in the same transaction: handed to the broker after
  the commit, or by the outbox's sweep when the broker is down — never lost.
- ``import_run_continue``: submit the next task of a run that is not finished (one per count of processed lines).
- ``import_runs_resubmit_stale``: the beat sweep's part — submit again the runs QUEUED, or RUNNING without
  progress, for longer than ``JOB_RESUBMIT_AFTER_SECONDS`` (their task was lost). Safe: a task skips the lines
  that have a row already.
- ``import_run_execute``: QUEUED → RUNNING, then every line in file order that has no row yet for the run — so a
  run that was killed resumes after its last committed line — each in its own transaction(s) with its row and
  the run's counters; then DONE. A transient database error (lost connection, lock timeout) propagates and
  leaves the run RUNNING for the task's retry; any other unexpected error marks the run FAILED with it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import InterfaceError, OperationalError, transaction

from billing_project.errors import DomainError, NotFound, PermissionDeniedError
from billing_project.outbox import outbox_enqueue
from billing_project.outbox.selectors import outbox_undelivered_about
from billing_project.uuids import uuid_or_404
from masters.access import Caller, caller_for, require_role
from masters.models import Tenant
from payments.imports.domain.csvfile import (
    OFFLINE_OPTIONAL,
    OFFLINE_REQUIRED,
    SETTLEMENT_OPTIONAL,
    SETTLEMENT_REQUIRED,
    FileRefused,
    iter_lines,
    read_file,
)
from payments.imports.errors import (
    PAYMENT_IMPORT_BAD_FILE_NAME,
    PAYMENT_IMPORT_RUN_NOT_FOUND,
    PAYMENT_IMPORT_UNKNOWN_KIND,
    PAYMENT_IMPORT_UNKNOWN_TENANT,
)
from payments.imports.models import ImportKind, ImportRow, ImportRun, ImportStatus
from payments.imports.selectors import IMPORT_ROLES
from payments.imports.services.offline import offline_row_import
from payments.imports.services.settlement import settlement_row_import

logger = logging.getLogger(__name__)

COLUMNS = {
    ImportKind.OFFLINE_COLLECTIONS: (OFFLINE_REQUIRED, OFFLINE_OPTIONAL),
    ImportKind.SETTLEMENT: (SETTLEMENT_REQUIRED, SETTLEMENT_OPTIONAL),
}
FINAL = (ImportStatus.DONE, ImportStatus.FAILED)
OPEN = (ImportStatus.QUEUED, ImportStatus.RUNNING)
TASK = "payments.imports.execute_run"
RowHandler = Callable[..., ImportRow | None]
HANDLERS: dict[ImportKind, RowHandler] = {
    ImportKind.OFFLINE_COLLECTIONS: offline_row_import,
    ImportKind.SETTLEMENT: settlement_row_import,
}


def import_run_create(
    *,
    caller: Caller,
    kind: str,
    tenant_code: str,
    file_name: str,
    content: bytes,
    at: dt.datetime,
    enqueue: bool = True,
) -> ImportRun:
    """Check and store a QUEUED run; with ``enqueue`` its Celery task is submitted through the outbox in the same
    transaction (accepted, will run: handed to the broker after the commit, or when the broker is back).

    Refuses (``DomainError``, nothing stored): an unknown kind or tenant, a caller without a payment role in the
    tenant, a caller the worker could not act as (no user and not a system superuser), and a file that is not
    UTF-8 CSV, is larger than allowed, lacks a required column, names an unknown one or has no data line."""
    if kind not in ImportKind.values:
        raise DomainError(
            PAYMENT_IMPORT_UNKNOWN_KIND, f"Unknown import kind {kind!r}; one of {', '.join(ImportKind.values)}"
        )
    tenant = Tenant.objects.filter(code=tenant_code).first()
    if tenant is None:
        raise DomainError(PAYMENT_IMPORT_UNKNOWN_TENANT, f"No tenant {tenant_code}")
    require_role(caller, tenant_code, IMPORT_ROLES, "import payments")
    if caller.user_id is None and not caller.is_superuser:
        raise PermissionDeniedError(message="An import needs a user (or the management command) to act as")
    name = file_name.strip()
    if not name or len(name) > 255:
        raise DomainError(PAYMENT_IMPORT_BAD_FILE_NAME, "The file name must have 1 to 255 characters")
    required, optional = COLUMNS[ImportKind(kind)]
    try:
        checked = read_file(content, required=required, optional=optional)
    except FileRefused as refused:
        raise DomainError(refused.code, refused.message) from None
    with transaction.atomic(durable=True):
        run = ImportRun.objects.create(
            kind=kind,
            tenant=tenant,
            file_name=name,
            file_sha256=hashlib.sha256(content).hexdigest(),
            content=checked.text,
            uploaded_by_id=caller.user_id,
            uploaded_by_name=caller.username,
            run_as_system=caller.user_id is None,
            total_rows=checked.rows,
            created_at=at,
            updated_at=at,
        )
        if enqueue:
            _submit(run, purpose="start")
    return run


def run_subject(run_id: uuid.UUID | str) -> str:
    """How the outbox names an import run (its messages' ``subject``)."""
    return f"payment_imports.importrun:{run_id}"


def _submit(run: ImportRun, *, purpose: str, **arguments: int) -> bool:
    """Submit the run's task through the outbox, in the caller's transaction; False when a message with this
    purpose exists already."""
    message = outbox_enqueue(
        channel="celery",
        destination=TASK,
        payload={"run_id": str(run.pk), **arguments},
        dedupe_key=f"{run_subject(run.pk)}:{purpose}",
        tenant_code=run.tenant.code,
        subject=run_subject(run.pk),
    )
    return message.is_new


def import_run_continue(*, run_id: uuid.UUID | str, rows_per_task: int) -> bool:
    """Submit the next task of a run that is not finished, through the outbox: one message per count of
    processed lines, so a task delivered twice does not start two chains. True when a message was written."""
    with transaction.atomic(durable=True):
        run = ImportRun.objects.select_related("tenant").filter(pk=run_id, status__in=OPEN).first()
        if run is None:
            return False
        return _submit(run, purpose=f"continue:{run.processed}", rows_per_task=rows_per_task)


def import_runs_resubmit_stale(*, at: dt.datetime, limit: int = 100) -> int:
    """Submit again (through the outbox) the runs QUEUED, or RUNNING without progress, for longer than
    ``JOB_RESUBMIT_AFTER_SECONDS``; returns how many were submitted. Skipped: a run whose task message is still
    undelivered (the outbox retries it) and a run whose row is locked. One message per run and stale period."""
    stale_after = dt.timedelta(seconds=settings.JOB_RESUBMIT_AFTER_SECONDS)
    cutoff = at - stale_after
    ids = list(
        ImportRun.objects.filter(status__in=OPEN, updated_at__lt=cutoff)
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
                ImportRun.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("tenant")
                .filter(pk=run_id, status__in=OPEN, updated_at__lt=cutoff)
                .first()
            )
            if run is not None and _submit(run, purpose=f"resubmit:{period}"):
                submitted += 1
    return submitted


def import_run_get(run_id: uuid.UUID | str) -> ImportRun:
    key = uuid_or_404(run_id, code=PAYMENT_IMPORT_RUN_NOT_FOUND, message=f"No import run {run_id}")
    run = ImportRun.objects.select_related("tenant", "uploaded_by").filter(pk=key).first()
    if run is None:
        raise NotFound(PAYMENT_IMPORT_RUN_NOT_FOUND, f"No import run {run_id}")
    return run


def _start(run_id: uuid.UUID | str, at: dt.datetime) -> ImportRun:
    """Lock the run and move it QUEUED → RUNNING (a RUNNING run is resumed; a final one is answered as is)."""
    with transaction.atomic(durable=True):
        run = import_run_get(run_id)
        run = ImportRun.objects.select_for_update(of=("self",)).select_related("tenant", "uploaded_by").get(pk=run.pk)
        if run.status == ImportStatus.QUEUED:
            run.status, run.started_at, run.updated_at = ImportStatus.RUNNING, at, at
            run.save(update_fields=["status", "started_at", "updated_at"])
    return run


def _finish(run: ImportRun, status: ImportStatus, at: dt.datetime, error: str = "") -> ImportRun:
    with transaction.atomic(durable=True):
        ImportRun.objects.filter(pk=run.pk, status=ImportStatus.RUNNING).update(
            status=status, error=error, finished_at=at, updated_at=at
        )
    return import_run_get(run.pk)


def _caller(run: ImportRun) -> Caller:
    """Who the rows are applied as: the uploader with their present roles, or the command's system superuser."""
    if run.uploaded_by is not None:
        return caller_for(get_user_model().objects.get(pk=run.uploaded_by.pk))
    if run.run_as_system:
        return Caller(user_id=None, username=run.uploaded_by_name, is_superuser=True, roles=())
    raise PermissionDeniedError(message=f"The uploader {run.uploaded_by_name} no longer exists")


def import_run_execute(
    *,
    run_id: uuid.UUID | str,
    at: dt.datetime,
    max_rows: int | None = None,
    on_row: Callable[[ImportRow | None], None] | None = None,
) -> ImportRun:
    """Execute (or resume) a run: every line without a row yet, in file order; answers the run as it is after.

    ``max_rows`` stops after that many lines (the run stays RUNNING: call again to go on). ``on_row`` is called
    after each line with its row. Each line is applied with ``at`` as its write time."""
    run = _start(run_id, at)
    if run.status in FINAL:
        return run
    try:
        caller = _caller(run)
    except DomainError as exc:
        return _finish(run, ImportStatus.FAILED, at, f"{exc.code}: {exc.message}")
    handler = HANDLERS[ImportKind(run.kind)]
    done = set(ImportRow.objects.filter(run=run).values_list("line_number", flat=True))
    handled = 0
    for line in iter_lines(run.content):
        if line.number in done:
            continue
        if max_rows is not None and handled >= max_rows:
            return import_run_get(run.pk)
        try:
            row = handler(run=run, caller=caller, line=line, at=at)
        except (OperationalError, InterfaceError):
            raise  # transient: the run stays RUNNING; the task's retry (or a new call) resumes at this line
        except Exception as exc:  # a bug, not a rule: stop here, keep what was applied, say where
            logger.exception("import run %s failed at line %s", run.pk, line.number)
            return _finish(run, ImportStatus.FAILED, at, f"line {line.number}: {type(exc).__name__}: {exc}")
        handled += 1
        if on_row is not None:
            on_row(row)
    return _finish(run, ImportStatus.DONE, at)
