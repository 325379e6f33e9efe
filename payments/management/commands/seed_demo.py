"""Demo data for ``make run``: seed master data, a city, logins, a few demands and an amendment to approve.

It lives in the top app (payments) because demo data spans every app below it. Idempotent: running it
again changes nothing that is already there.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from amendments.models import Amendment
from amendments.services import AmendmentInput, LineInput, amendment_create
from billing_project import clock
from demands.models import Demand
from demands.services import DemandInput, DetailInput, PayerInput, demand_create
from masters.access import caller_for
from masters.services import api_client_upsert, mdms_load, staff_user_ensure, superuser_ensure, tenant_ensure

SEED_DIR = Path(__file__).resolve().parents[3] / "masters" / "fixtures" / "mdms"
DEMO_CITY = "pb.amritsar"
OTHER_CITY = "pb.jalandhar"
PTAN2018 = (dt.datetime(2018, 4, 1, tzinfo=dt.UTC), dt.datetime(2019, 3, 31, 18, 29, 59, tzinfo=dt.UTC))
PTAN2019 = (dt.datetime(2019, 4, 1, tzinfo=dt.UTC), dt.datetime(2020, 3, 31, 18, 29, 59, tzinfo=dt.UTC))
DEMO_AMENDMENT_CONSUMER = "PT-107-002"
DEMO_DEMANDS = [
    ("PT-107-001", "Asha Verma", "9876500001", PTAN2018, [("PT_TAX", "800"), ("PT_FIRE_CESS", "20")]),
    ("PT-107-001", "Asha Verma", "9876500001", PTAN2019, [("PT_TAX", "1000"), ("PT_TIME_REBATE", "-50")]),
    ("PT-107-002", "Ravi Singh", "9876500002", PTAN2019, [("PT_TAX", "1500"), ("PT_ADHOC_PENALTY", "75")]),
    ("PT-107-003", "Meena Kaur", "9876500003", PTAN2019, [("PT_TAX", "1200"), ("PT_FIRE_CESS", "30")]),
]
#: A consumer of another city: the Jalandhar cashier sees it, Amritsar's staff do not.
OTHER_DEMANDS = [
    ("PT-201-001", "Kiran Bedi", "9876500101", PTAN2019, [("PT_TAX", "900")]),
]
#: One demo back-office user per billing role: (username = password, city, roles, what they do).
DEMO_STAFF = [
    ("cashier", DEMO_CITY, ["CASHIER"], "counter desk: find a consumer, fetch the bill, take a payment"),
    ("clerk", DEMO_CITY, ["EMPLOYEE"], "demands, bills, billing runs, imports"),
    ("approver", DEMO_CITY, ["AMENDMENT_APPROVER"], "decides amendments"),
    ("billadmin", DEMO_CITY, ["BILLING_ADMIN"], "billing runs, master data, roles, online payments"),
    ("cashier-jal", OTHER_CITY, ["CASHIER"], "a cashier of another city (sees none of Amritsar)"),
]


class Command(BaseCommand):
    help = "Load the seed master data and create demo logins and demands (development only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--base-url",
            default="",
            help="The address the service is served at, for the printed URLs (default: "
            "PAYMENT_GATEWAY_CALLBACK_BASE_URL, which `make run` sets from HOST and PORT).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo creates known passwords and is refused when DJANGO_ENV=production")
        files = sorted(SEED_DIR.rglob("*.json"))
        report = mdms_load(documents=[(str(path.relative_to(SEED_DIR)), path.read_bytes()) for path in files])
        self.stdout.write("master data: " + report.lines()[-1])
        base = (options.get("base_url") or settings.PAYMENT_GATEWAY_CALLBACK_BASE_URL).rstrip("/")
        tenant_ensure(code=DEMO_CITY, name="Amritsar")
        tenant_ensure(code=OTHER_CITY, name="Jalandhar")
        superuser_ensure(username="admin", password="admin", tenant_code="pb")
        for username, city, roles, _ in DEMO_STAFF:
            staff_user_ensure(username=username, password=username, tenant_code=city, roles=roles)
        client, token = api_client_upsert(username="demo-module", tenant_code=DEMO_CITY, roles=["SYSTEM", "EMPLOYEE"])
        created = 0
        other_client, _ = api_client_upsert(username="demo-module-jal", tenant_code=OTHER_CITY, roles=["SYSTEM"])
        demos = [(DEMO_CITY, client, row) for row in DEMO_DEMANDS]
        demos += [(OTHER_CITY, other_client, row) for row in OTHER_DEMANDS]
        for city, module, (code, name, mobile, (start, end), lines) in demos:
            if Demand.objects.filter(tenant__code=city, consumer_code=code, tax_period_from=start).exists():
                continue
            demand_create(
                caller=caller_for(module),
                demands=[
                    DemandInput(
                        tenant_code=city,
                        consumer_code=code,
                        consumer_type="BUILTUP",
                        business_service="PT",
                        tax_period_from=start,
                        tax_period_to=end,
                        payer=PayerInput(name=name, mobile_number=mobile),
                        details=tuple(DetailInput(tax_head_code=h, tax_amount=Decimal(a)) for h, a in lines),
                    )
                ],
                at=clock.now(),
            )
            created += 1
        self.stdout.write(f"demo demands: {created} created")
        if not Amendment.objects.filter(tenant__code=DEMO_CITY, consumer_code=DEMO_AMENDMENT_CONSUMER).exists():
            amendment = amendment_create(
                caller=caller_for(client),
                data=AmendmentInput(
                    tenant_code=DEMO_CITY,
                    consumer_code=DEMO_AMENDMENT_CONSUMER,
                    business_service="PT",
                    reason="ONE_TIME_SETTLEMENT",
                    reason_document_number="OTS/2026/17",
                    details=(LineInput(tax_head_code="PT_ADHOC_PENALTY", tax_amount=Decimal("-75")),),
                ),
                at=clock.now(),
            )
            self.stdout.write(f"demo amendment: {amendment.amendment_id} awaiting approval (approve it in the admin)")
        staff = "".join(
            f"  {username:<12} password {username:<12} {city:<13} {','.join(roles):<19} {what}\n"
            for username, city, roles, what in DEMO_STAFF
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"\nDemo logins — back-office at {base}/admin/ (counter desk {base}/admin/counter/)\n"
                f"  {'admin':<12} password {'admin':<12} {'pb':<13} {'superuser':<19} everything, technical pages\n"
                + staff
                + f"  API client demo-module ({DEMO_CITY}, roles SYSTEM,EMPLOYEE): Authorization: Token {token}\n"
                "  try: curl -X POST -H 'Content-Type: application/json' -H 'Authorization: Token "
                f"{token}' -d '{{\"RequestInfo\": {{}}}}' "
                f"'{base}/billing-service/demand/_search?tenantId=pb.amritsar&consumerCode=PT-107-001'\n"
                "  online payments: run `python manage.py run_sandbox_gateway --port 8089` beside the service "
                f"(callbacks to {settings.PAYMENT_GATEWAY_CALLBACK_BASE_URL}), then "
                f"POST {base}/api/v1/online-payments/ {{bill_id, amount}} and open the answer's redirect_url\n"
            )
        )
