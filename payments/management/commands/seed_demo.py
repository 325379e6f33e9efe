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
from masters.services import api_client_upsert, mdms_load, superuser_ensure, tenant_ensure

SEED_DIR = Path(__file__).resolve().parents[3] / "masters" / "fixtures" / "mdms"
DEMO_CITY = "pb.amritsar"
PTAN2018 = (dt.datetime(2018, 4, 1, tzinfo=dt.UTC), dt.datetime(2019, 3, 31, 18, 29, 59, tzinfo=dt.UTC))
PTAN2019 = (dt.datetime(2019, 4, 1, tzinfo=dt.UTC), dt.datetime(2020, 3, 31, 18, 29, 59, tzinfo=dt.UTC))
DEMO_AMENDMENT_CONSUMER = "PT-107-002"
DEMO_DEMANDS = [
    ("PT-107-001", "Asha Verma", "9876500001", PTAN2018, [("PT_TAX", "800"), ("PT_FIRE_CESS", "20")]),
    ("PT-107-001", "Asha Verma", "9876500001", PTAN2019, [("PT_TAX", "1000"), ("PT_TIME_REBATE", "-50")]),
    ("PT-107-002", "Ravi Singh", "9876500002", PTAN2019, [("PT_TAX", "1500"), ("PT_ADHOC_PENALTY", "75")]),
]


class Command(BaseCommand):
    help = "Load the seed master data and create demo logins and demands (development only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo creates known passwords and is refused when DJANGO_ENV=production")
        files = sorted(SEED_DIR.rglob("*.json"))
        report = mdms_load(documents=[(str(path.relative_to(SEED_DIR)), path.read_bytes()) for path in files])
        self.stdout.write("master data: " + report.lines()[-1])
        tenant_ensure(code=DEMO_CITY, name="Amritsar")
        superuser_ensure(username="admin", password="admin", tenant_code="pb")
        client, token = api_client_upsert(username="demo-module", tenant_code=DEMO_CITY, roles=["SYSTEM", "EMPLOYEE"])
        created = 0
        for code, name, mobile, (start, end), lines in DEMO_DEMANDS:
            if Demand.objects.filter(tenant__code=DEMO_CITY, consumer_code=code, tax_period_from=start).exists():
                continue
            demand_create(
                caller=caller_for(client),
                demands=[
                    DemandInput(
                        tenant_code=DEMO_CITY,
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
        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo logins\n"
                "  admin (http://127.0.0.1:8000/admin/): user admin, password admin\n"
                f"  API client demo-module ({DEMO_CITY}, roles SYSTEM,EMPLOYEE): Authorization: Token {token}\n"
                "  try: curl -X POST -H 'Content-Type: application/json' -H 'Authorization: Token "
                f"{token}' -d '{{\"RequestInfo\": {{}}}}' "
                "'http://127.0.0.1:8000/billing-service/demand/_search?tenantId=pb.amritsar&consumerCode=PT-107-001'\n"
                "  online payments: run `python manage.py run_sandbox_gateway --port 8089` beside the service, then "
                "POST /api/v1/online-payments/ {bill_id, amount} and open the answer's redirect_url\n"
            )
        )
