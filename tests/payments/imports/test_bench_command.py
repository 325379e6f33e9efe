"""The batch-import benchmark command runs end to end (tiny size) and checks what it imported."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command

from payments.imports.models import ImportRow, ImportRun, ImportStatus, RowOutcome
from payments.models import Payment, PaymentApplication


@pytest.mark.django_db
def test_bench_payment_imports_applies_every_line_then_finds_every_line_duplicate():
    out = io.StringIO()
    call_command("bench_payment_imports", "--lines", "3", stdout=out)
    text = out.getvalue()
    assert re.search(r"^first import: 3 lines \(3 applied, 0 duplicate, 0 rejected\) in ", text, re.M)
    assert re.search(r"^re-import: 3 lines \(0 applied, 3 duplicate, 0 rejected\) in ", text, re.M)
    assert re.search(r"lines/second, [0-9.]+ ms per line, [0-9.]+ SQL statements per line", text)
    first, again = ImportRun.objects.order_by("created_at", "pk")
    assert (first.status, first.applied, again.status, again.duplicate) == (ImportStatus.DONE, 3, ImportStatus.DONE, 3)
    assert [row.outcome for row in ImportRow.objects.filter(run=again)] == [RowOutcome.DUPLICATE] * 3
    assert Payment.objects.count() == 3
    assert PaymentApplication.objects.count() == 15


@pytest.mark.django_db
@pytest.mark.parametrize("lines", ["0", "50001"])
def test_bench_payment_imports_refuses_a_count_no_file_may_have(lines):
    with pytest.raises(CommandError, match="--lines must be from 1 to 50000"):
        call_command("bench_payment_imports", "--lines", lines)
    assert not ImportRun.objects.exists()
