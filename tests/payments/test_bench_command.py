"""The counter-payment benchmark command runs end to end (tiny size)."""

from __future__ import annotations

import io
import pstats
import re

import pytest
from django.core.management import CommandError, call_command

from payments.models import Payment, PaymentApplication


@pytest.mark.django_db
def test_bench_counter_payments_takes_the_payments_it_reports():
    out = io.StringIO()
    call_command("bench_counter_payments", "--payments", "3", stdout=out)
    assert "took 3 payments (15 demand lines written back)" in out.getvalue()
    assert re.search(r"payments/second, [0-9.]+ ms per payment, [0-9.]+ SQL statements per payment", out.getvalue())
    assert Payment.objects.count() == 3
    assert PaymentApplication.objects.count() == 15


@pytest.mark.django_db
def test_bench_counter_payments_profiles_the_timed_loop(tmp_path):
    out = io.StringIO()
    path = tmp_path / "counter.prof"
    call_command("bench_counter_payments", "--payments", "2", "--profile", str(path), stdout=out)
    assert f"profile written to {path}" in out.getvalue()
    functions = {name for _, _, name in pstats.Stats(str(path)).stats}  # type: ignore[attr-defined]
    assert "payment_create" in functions


@pytest.mark.django_db
def test_bench_counter_payments_refuses_a_non_positive_count():
    with pytest.raises(CommandError):
        call_command("bench_counter_payments", "--payments", "0")
