"""Import a payment file in this process and print every line's outcome.

    python manage.py import_payments --kind offline --tenant pb.amritsar collections.csv
    python manage.py import_payments --kind settlement --tenant pb.amritsar settlement-2024-05-01.csv
    python manage.py import_payments --resume RUN_ID

The run is created (the whole file checked first: a refused file stores nothing) and executed here, one line per
transaction, as a system superuser named ``import_payments``. A run that stopped (killed, lost connection) is
resumed with ``--resume``: lines already recorded are skipped. Exit status 1 when the file is refused or the run
FAILED; rejected lines are reported but are not a failure of the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from billing_project import clock
from billing_project.errors import DomainError
from masters.access import Caller
from payments.imports.models import ImportKind, ImportRow, ImportStatus
from payments.imports.services import import_run_create, import_run_execute

KINDS = {"offline": ImportKind.OFFLINE_COLLECTIONS, "settlement": ImportKind.SETTLEMENT}
ACTOR = "import_payments"


class Command(BaseCommand):
    help = "Import an offline-collections or settlement CSV file and print each line's outcome."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", nargs="?", help="The CSV file")
        parser.add_argument("--kind", choices=[*KINDS, *ImportKind.values], help="offline (collections) or settlement")
        parser.add_argument("--tenant", help="Tenant code, e.g. pb.amritsar")
        parser.add_argument("--resume", metavar="RUN_ID", help="Resume a run that stopped midway")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["resume"]:
            run_id = options["resume"]
        else:
            if not (options["file"] and options["kind"] and options["tenant"]):
                raise CommandError("FILE, --kind and --tenant are required (or --resume RUN_ID)")
            path = Path(options["file"])
            try:
                content = path.read_bytes()
            except OSError as exc:
                raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
            try:
                run = import_run_create(
                    caller=Caller(user_id=None, username=ACTOR, is_superuser=True, roles=()),
                    kind=KINDS.get(options["kind"], options["kind"]),
                    tenant_code=options["tenant"],
                    file_name=path.name,
                    content=content,
                    at=clock.now(),
                    enqueue=False,
                )
            except DomainError as exc:
                raise CommandError(f"{exc.code}: {exc.message}") from exc
            run_id = run.pk
            self.stdout.write(f"import run {run.pk}: {run.total_rows} line(s) of {run.file_name}")
        try:
            run = import_run_execute(run_id=run_id, at=clock.now(), on_row=self._show)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        summary = (
            f"import run {run.pk} {run.status}: {run.processed}/{run.total_rows} lines, {run.applied} applied, "
            f"{run.duplicate} duplicate, {run.rejected} rejected"
        )
        if run.status == ImportStatus.FAILED:
            raise CommandError(f"{summary}: {run.error}")
        self.stdout.write(self.style.SUCCESS(summary))

    def _show(self, row: ImportRow | None) -> None:
        if row is None:
            return
        text = f"line {row.line_number}: {row.outcome}"
        if row.error_code:
            text += f" {row.error_code}: {row.error_message}"
        elif row.duplicate_of_id is not None:
            text += f" (of row {row.duplicate_of_id})"
        elif row.note:
            text += f" ({row.note})"
        self.stdout.write(text)
