"""``manage.py create_api_client --username NAME --tenant TENANT --roles ROLE[,ROLE...]``.

Creates or updates an API client holding exactly those roles in the tenant and prints its token, alone on
the last line (so that ``| tail -n 1`` captures it).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from billing_project.errors import DomainError
from masters.services import VALID_ROLES, api_client_upsert


class Command(BaseCommand):
    help = "Create or update an API client (a token-authenticated user) with roles in one tenant; print its token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True, help="Login name of the client, e.g. pt-module")
        parser.add_argument("--tenant", required=True, help="Tenant code, e.g. pb or pb.amritsar")
        parser.add_argument(
            "--roles",
            required=True,
            help=f"Comma-separated roles held in the tenant (exactly these): {', '.join(VALID_ROLES)}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        roles = [role.strip() for role in options["roles"].split(",") if role.strip()]
        try:
            user, token = api_client_upsert(username=options["username"], tenant_code=options["tenant"], roles=roles)
        except DomainError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        granted = ", ".join(dict.fromkeys(role.upper() for role in roles))
        tenant = options["tenant"]
        self.stdout.write(f"API client {user.get_username()} (id {user.pk}) in {tenant} with roles {granted}")
        self.stdout.write("Send it as 'Authorization: Token <key>' or in RequestInfo.authToken. Token:")
        self.stdout.write(token)
