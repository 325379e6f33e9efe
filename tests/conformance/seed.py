"""Data for the Schemathesis run: the demo data (seed masters, demands, an amendment) and one API client that
holds every staff role in the state ``pb``, so that every operation is reachable.

Run by ``tests/conformance/schemathesis_run.py`` inside a scratch database; prints the client's token last.
"""

from __future__ import annotations

import io

ROLES = ["BILLING_ADMIN", "EMPLOYEE", "CASHIER", "AMENDMENT_APPROVER", "SYSTEM"]


def seed() -> str:
    from django.core.management import call_command

    from masters.services.accounts import api_client_upsert

    call_command("seed_demo", stdout=io.StringIO())
    _, token = api_client_upsert(username="conformance", tenant_code="pb", roles=ROLES)
    return token


if __name__ == "__main__":
    import django

    django.setup()
    print(seed())
