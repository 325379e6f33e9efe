"""Demo data for ``make run``: seed master data, a city, a demo superuser and an API client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from masters.services.accounts import api_client_upsert, superuser_ensure, tenant_ensure
from masters.services.mdms import mdms_load

SEED_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "mdms"
DEMO_CITY = "pb.amritsar"


class Command(BaseCommand):
    help = "Load the seed master data and create demo logins (development only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("seed_demo creates known passwords and is refused when DJANGO_ENV=production")
        files = sorted(SEED_DIR.rglob("*.json"))
        report = mdms_load(documents=[(str(path.relative_to(SEED_DIR)), path.read_bytes()) for path in files])
        self.stdout.write("master data: " + report.lines()[-1])
        tenant_ensure(code=DEMO_CITY, name="Amritsar")
        superuser_ensure(username="admin", password="admin", tenant_code="pb")
        _, token = api_client_upsert(username="demo-module", tenant_code=DEMO_CITY, roles=["SYSTEM", "EMPLOYEE"])
        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo logins\n"
                "  admin (http://127.0.0.1:8000/admin/): user admin, password admin\n"
                f"  API client demo-module ({DEMO_CITY}, roles SYSTEM,EMPLOYEE): Authorization: Token {token}\n"
            )
        )
