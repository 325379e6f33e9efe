"""``manage.py import_payments``: create, execute in-process, print each line's outcome."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from payments.imports.models import ImportRow, ImportRun, ImportStatus
from tests.payments.conftest import line, lines_of, make_bill, pt_demand
from tests.payments.imports.conftest import offline_csv

pytestmark = pytest.mark.django_db
D = Decimal


def test_the_command_imports_a_file_and_prints_every_line(employee, tmp_path):
    make_bill(employee, pt_demand("PT-1", details=(line("PT_TAX", "1000"),)))
    path = tmp_path / "may.csv"
    path.write_bytes(
        offline_csv(
            "PT-1,PT,400,CASH,R-1,2024-05-01", "PT-404,PT,5,CASH,R-2,2024-05-01", "PT-1,PT,400,CASH,R-1,2024-05-01"
        )
    )
    out = io.StringIO()

    call_command("import_payments", str(path), "--kind", "offline", "--tenant", "pb.amritsar", stdout=out)

    run = ImportRun.objects.get()
    first = ImportRow.objects.get(run=run, line_number=2)
    assert out.getvalue().splitlines() == [
        f"import run {run.pk}: 3 line(s) of may.csv",
        "line 2: APPLIED",
        "line 3: REJECTED PAYMENT_IMPORT_UNKNOWN_CONSUMER: No consumer PT-404 of PT in pb.amritsar",
        f"line 4: DUPLICATE (of row {first.pk})",
        f"import run {run.pk} DONE: 3/3 lines, 1 applied, 1 duplicate, 1 rejected",
    ]
    assert (run.uploaded_by_id, run.uploaded_by_name, run.run_as_system) == (None, "import_payments", True)
    assert first.payment.created_by == "import_payments"
    assert lines_of("PT-1") == [("PT_TAX", D("1000.00"), D("400.00"))]

    resumed = io.StringIO()
    call_command("import_payments", "--resume", str(run.pk), stdout=resumed)
    assert resumed.getvalue().splitlines() == [
        f"import run {run.pk} DONE: 3/3 lines, 1 applied, 1 duplicate, 1 rejected"
    ]
    assert ImportRun.objects.get().status == ImportStatus.DONE


def test_a_refused_file_or_bad_arguments_fail_the_command(seed, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"name\nx\n")
    with pytest.raises(CommandError, match="^PAYMENT_IMPORT_MISSING_COLUMNS: The header lacks"):
        call_command("import_payments", str(path), "--kind", "settlement", "--tenant", "pb.amritsar")
    with pytest.raises(CommandError, match="FILE, --kind and --tenant are required"):
        call_command("import_payments", "--kind", "offline")
    with pytest.raises(CommandError, match="^Cannot read"):
        call_command("import_payments", str(tmp_path / "missing.csv"), "--kind", "offline", "--tenant", "pb.amritsar")
    with pytest.raises(CommandError, match="^PAYMENT_IMPORT_RUN_NOT_FOUND"):
        call_command("import_payments", "--resume", "0b9e3c1e-0000-0000-0000-000000000000")
    assert ImportRun.objects.count() == 0
