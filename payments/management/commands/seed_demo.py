"""Demo data for ``make run``: seed master data, a city, logins and a few demands.

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

from billing_project import clock
from demands.models import Demand
from demands.services import DemandInput, DetailInput, PayerInput, demand_create
from masters.access import caller_for
from masters.services.accounts import api_client_upsert, superuser_ensure, tenant_ensure
from masters.services.mdms import mdms_load

SEED_DIR = Path(__file__).resolve().parents[3] / "masters" / "fixtures" / "mdms"
DEMO_CITY = "pb.amritsar"
PTAN2018 = (dt.datetime(2018, 4, 1, tzinfo=dt.UTC), dt.datetime(2019, 3, 31, 18, 29, 59, tzinfo=dt.UTC))
PTAN2019 = (dt.datetime(2019, 4, 1, tzinfo=dt.UTC), dt.datetime(2020, 3, 31, 18, 29, 59, tzinfo=dt.UTC))
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
        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo logins\n"
                "  admin (http://127.0.0.1:8000/admin/): user admin, password admin\n"
                f"  API client demo-module ({DEMO_CITY}, roles SYSTEM,EMPLOYEE): Authorization: Token {token}\n"
                "  try: curl -X POST -H 'Content-Type: application/json' -H 'Authorization: Token "
                f"{token}' -d '{{\"RequestInfo\": {{}}}}' "
                "'http://127.0.0.1:8000/billing-service/demand/_search?tenantId=pb.amritsar&consumerCode=PT-107-001'\n"
            )
        )
