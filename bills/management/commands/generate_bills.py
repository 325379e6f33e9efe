"""Bulk bill generation for a (tenant, business service), optionally limited to some consumer codes.

    python manage.py generate_bills --tenant pb.amritsar --business-service PT
        [--consumer-codes PT-1,PT-2] [--chunk-size 1000] [--async]

By default the run executes in this process, one chunk (one transaction) at a time, with a progress bar; a
run that stopped (killed, lost connection) is resumed by ``--resume RUN_ID``. ``--async`` submits the Celery
task ``bills.execute_billing_run`` through the outbox and prints the run id and where its submission stands
(accepted, will run: handed to the workers, or waiting for the broker); follow it in the admin or at
/api/v1/billing-runs/.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing_project import clock
from billing_project.errors import DomainError
from billing_project.outbox.selectors import outbox_delivery_note, outbox_latest_about
from bills.models import BillingRun, RunStatus
from bills.services import DEFAULT_CHUNK_SIZE, billing_run_create, billing_run_execute, billing_run_start, run_subject
from masters.access import Caller

BAR_WIDTH = 30
ERRORS_SHOWN = 20


def progress_line(run: BillingRun) -> str:
    """``[#####-----] 50.0% 5000/10000 consumers, 4990 bills``."""
    done = round(BAR_WIDTH * run.processed / run.total_consumers) if run.total_consumers else BAR_WIDTH
    bar = "#" * done + "-" * (BAR_WIDTH - done)
    return (
        f"[{bar}] {run.progress_percent:5.1f}% {run.processed}/{run.total_consumers} consumers, "
        f"{run.bills_created} bills"
    )


class Command(BaseCommand):
    help = "Generate bills for every consumer of a business service in a tenant (a bulk billing run)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tenant", help="Tenant code, e.g. pb.amritsar")
        parser.add_argument("--business-service", help="Business service code, e.g. PT")
        parser.add_argument("--consumer-codes", default="", help="Comma-separated consumer codes (default: all)")
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="Consumers per transaction")
        parser.add_argument(
            "--async", dest="run_async", action="store_true", help="Queue the Celery task and print the run id"
        )
        parser.add_argument("--resume", type=int, metavar="RUN_ID", help="Resume a run that stopped midway")

    def handle(self, *args: Any, **options: Any) -> None:
        caller = Caller(user_id=None, username="generate_bills", is_superuser=True, roles=())
        if options["resume"] is not None:
            run_id = options["resume"]
        else:
            if not options["tenant"] or not options["business_service"]:
                raise CommandError("--tenant and --business-service are required (or --resume RUN_ID)")
            codes = [code.strip() for code in options["consumer_codes"].split(",") if code.strip()]
            arguments = {
                "caller": caller,
                "tenant_code": options["tenant"],
                "business_service": options["business_service"],
                "consumer_codes": codes or None,
                "chunk_size": options["chunk_size"],
                "at": clock.now(),
            }
            try:
                if options["run_async"]:
                    run = billing_run_start(**arguments)
                    note = outbox_delivery_note(outbox_latest_about(run_subject(run.pk)))
                    self.stdout.write(
                        f"accepted billing run {run.pk} ({run.total_consumers} consumers): {run.status}; "
                        f"the job is {note}"
                    )
                    return
                run_id = billing_run_create(**arguments).pk
            except DomainError as exc:
                raise CommandError(f"{exc.code}: {exc.message}") from exc
        self._execute(run_id)

    def _execute(self, run_id: int) -> None:
        tty = self.stdout.isatty()
        started = time.perf_counter()

        def show(run: BillingRun) -> None:
            self.stdout.write(progress_line(run), ending="\r" if tty else "\n")

        try:
            run = billing_run_execute(run_id=run_id, on_progress=show)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        if tty:
            self.stdout.write("")
        elapsed = time.perf_counter() - started
        summary = (
            f"billing run {run.pk} {run.status}: {run.business_service} in {run.tenant.code}, "
            f"{run.processed}/{run.total_consumers} consumers, {run.bills_created} bills created, "
            f"{run.skipped} skipped, {run.failed} failed, in {elapsed:.1f} s"
        )
        for error in run.errors.order_by("id")[:ERRORS_SHOWN]:
            self.stdout.write(f"  {error.consumer_code}: {error.code} {error.message}")
        if run.failed > ERRORS_SHOWN:
            self.stdout.write(f"  ... and {run.failed - ERRORS_SHOWN} more (see the admin or the API)")
        if run.status == RunStatus.FAILED:
            raise CommandError(f"{summary}: {run.error}")
        self.stdout.write(self.style.SUCCESS(summary))
