"""``bench_bill_generation`` (issue item 8): a tiny run on PostgreSQL, its report, and its clean-up."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bills.models import Bill, BillAccountDetail, BillDetail, BillingRun, RunStatus
from demands.models import ConsumerAccount, Demand, DemandDetail
from masters.models import Payer, Tenant

NUMBER = r"[0-9]+(?:\.[0-9]+)?"


def bench(*args: str) -> str:
    out = StringIO()
    call_command("bench_bill_generation", *args, stdout=out)
    return out.getvalue()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bench_times_the_run_and_the_write_limit_and_cleans_up():
    output = bench("--consumers", "200", "--chunk-size", "20")

    lines = output.splitlines()
    assert re.fullmatch(
        r"database: PostgreSQL 15\.\S+ .*; 200 consumers x 2 periods x 5 tax heads; chunk size 20; "
        rf"load average {NUMBER} {NUMBER} {NUMBER} on [0-9]+ CPUs",
        lines[0],
    ), lines[0]
    assert re.fullmatch(
        rf"setup: 2 tenants x \(200 consumers, 400 demands, 2000 demand lines\) in {NUMBER} s", lines[1]
    ), lines[1]
    assert re.fullmatch(
        r"write limit \(one INSERT \.\.\. SELECT per table into the real bills tables, tenant pb\.benchlimit[0-9]+, "
        rf"rows deleted afterwards\): bills {NUMBER} s, details {NUMBER} s, account lines {NUMBER} s, "
        rf"commit \(deferred FK checks\) {NUMBER} s; total {NUMBER} s = [0-9]+ bills/s",
        lines[2],
    ), lines[2]
    progress = [line.split()[1] for line in lines if re.fullmatch(rf"\s+{NUMBER}% [0-9]+/200", line)]
    assert progress == [f"{n}/200" for n in range(20, 201, 20)]
    run = BillingRun.objects.get()
    assert any(
        re.fullmatch(
            rf"bulk run {run.pk}: 200 bills, 400 details, 2000 account lines in {NUMBER} s = [0-9]+ bills/s "
            r"\(10 chunks\)",
            line,
        )
        for line in lines
    ), output
    assert any(re.fullmatch(rf"ratio to the write limit: {NUMBER} \(target >= 0\.25\)", line) for line in lines)
    assert any(
        re.fullmatch(
            rf"first tenth: [0-9]+ bills/s; last tenth: [0-9]+ bills/s; last/first {NUMBER} \(target >= 0\.80\)", line
        )
        for line in lines
    ), output
    assert lines[-1] == "cleaned up: the write-limit rows and the run tenant's rows"
    # The run record stays: it says what was measured. Every benchmark row is gone.
    assert (run.status, run.total_consumers, run.bills_created) == (RunStatus.COMPLETED, 200, 200)
    assert (
        Bill.objects.count(),
        BillDetail.objects.count(),
        BillAccountDetail.objects.count(),
        Demand.objects.count(),
        DemandDetail.objects.count(),
        ConsumerAccount.objects.count(),
        Payer.objects.count(),
    ) == (0, 0, 0, 0, 0, 0, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_bench_keep_leaves_the_run_tenants_bills():
    output = bench("--consumers", "30", "--chunk-size", "7", "--keep")

    assert output.splitlines()[-1] == "cleaned up: the write-limit rows"
    [tenant] = Tenant.objects.filter(code__startswith="pb.bench").exclude(code__startswith="pb.benchlimit")
    assert Bill.objects.filter(tenant=tenant, status="ACTIVE").count() == 30
    assert BillAccountDetail.objects.filter(bill_detail__bill__tenant=tenant).count() == 300
    assert not Bill.objects.exclude(tenant=tenant).exists()
    assert Demand.objects.filter(tenant=tenant).count() == 60


@pytest.mark.django_db
def test_bench_needs_postgresql(monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with pytest.raises(CommandError, match="bench_bill_generation needs PostgreSQL"):
        bench("--consumers", "10")
    assert not Tenant.objects.filter(code__startswith="pb.bench").exists()


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("args", [("--consumers", "0"), ("--chunk-size", "0"), ("--chunk-size", "5001")])
def test_bench_refuses_bad_sizes(args):
    with pytest.raises(CommandError, match="--consumers must be positive and --chunk-size between 1 and 5000"):
        bench(*args)
    assert not Tenant.objects.filter(code__startswith="pb.bench").exists()
