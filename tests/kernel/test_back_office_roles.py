"""Billing roles give the back-office: entry, pages per role, technical pages for superusers, the header."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from masters.models import Role
from masters.permissions import ROLE_PERMISSIONS, RoleBackend

pytestmark = pytest.mark.django_db


def login(user_factory: Callable[..., Any], username: str, roles: dict[str, list[str]], **kw: Any) -> Client:
    user = user_factory(username, roles, **kw)
    client = Client()
    assert client.login(username=username, password="pw-" + username)
    client.user = user  # type: ignore[attr-defined]
    return client


def test_an_approver_works_in_the_admin_with_no_permission_picked_by_hand(user_factory: Callable[..., Any]) -> None:
    client = login(user_factory, "asha", {"pb.amritsar": [Role.AMENDMENT_APPROVER]})
    index = client.get("/admin/")
    assert index.status_code == 200
    assert client.user.user_permissions.count() == 0  # type: ignore[attr-defined]
    assert not client.user.is_staff  # type: ignore[attr-defined]
    assert "You don’t have permission" not in index.content.decode()
    assert client.get("/admin/amendments/amendment/").status_code == 200
    assert client.get("/admin/payments/payment/").status_code == 403
    assert client.get("/admin/auth/user/").status_code == 403


def test_the_login_form_admits_staff_roles_and_refuses_citizens(user_factory: Callable[..., Any]) -> None:
    user_factory("cash", {"pb.amritsar": [Role.CASHIER]})
    user_factory("citizen", {"pb.amritsar": [Role.CITIZEN]})
    user_factory("module", {"pb.amritsar": [Role.SYSTEM]})
    ok = Client().post("/admin/login/?next=/admin/", {"username": "cash", "password": "pw-cash"})
    assert (ok.status_code, ok["Location"]) == (302, "/admin/")
    for name in ("citizen", "module"):
        refused = Client().post("/admin/login/", {"username": name, "password": "pw-" + name})
        assert refused.status_code == 200
        assert "a correct username and password of a back-office account" in refused.content.decode()


def test_a_role_taken_away_takes_its_pages_away(user_factory: Callable[..., Any]) -> None:
    client = login(user_factory, "cash", {"pb.amritsar": [Role.CASHIER]})
    assert client.get("/admin/payments/payment/").status_code == 200
    client.user.tenant_roles.all().delete()  # type: ignore[attr-defined]
    assert client.get("/admin/payments/payment/").status_code == 302  # back to the login page


def test_apps_in_daily_order_and_technical_pages_for_superusers_only(user_factory: Callable[..., Any]) -> None:
    cashier = login(user_factory, "cash", {"pb.amritsar": [Role.CASHIER]})
    apps = [app["app_label"] for app in cashier.get("/admin/").context["app_list"]]
    assert apps == ["payments", "bills", "demands", "amendments", "gateway", "masters"]
    root = login(user_factory, "root", {}, superuser=True)
    apps = [app["app_label"] for app in root.get("/admin/").context["app_list"]]
    assert apps[:3] == ["payments", "bills", "demands"]
    assert apps[-4:] == ["kernel", "authtoken", "django_celery_beat", "auth"]
    for page in ("/admin/kernel/idempotencykey/", "/admin/authtoken/tokenproxy/", "/admin/django_celery_beat/"):
        assert root.get(page).status_code == 200
        assert cashier.get(page).status_code in (403, 404)


def test_tokens_are_never_shown_in_full(user_factory: Callable[..., Any]) -> None:
    module = user_factory("module", {"pb.amritsar": [Role.SYSTEM]})
    token = Token.objects.create(user=module)
    root = login(user_factory, "root", {}, superuser=True)
    page = root.get("/admin/authtoken/tokenproxy/").content.decode()
    assert f"{token.key[:4]}… (40 characters)" in page
    assert token.key not in page
    change = root.get(f"/admin/authtoken/tokenproxy/{module.pk}/change/")
    assert (change.status_code, change["Location"]) == (302, "/admin/authtoken/tokenproxy/")


def test_the_header_names_the_product_and_the_tenant(user_factory: Callable[..., Any], tenant_factory: Any) -> None:
    tenant_factory("pb.amritsar").__class__.objects.filter(code="pb.amritsar").update(name="Amritsar")
    client = login(user_factory, "cash", {"pb.amritsar": [Role.CASHIER]})
    page = client.get("/admin/").content.decode()
    assert "Billing back-office" in page
    assert '<span class="bo-tenant" title="Your tenants">Amritsar (pb.amritsar)</span>' in page
    assert "Django administration" not in page


def test_every_role_permission_names_a_real_permission() -> None:
    from django.contrib.auth.models import Permission

    real = {f"{app}.{code}" for app, code in Permission.objects.values_list("content_type__app_label", "codename")}
    for role, perms in ROLE_PERMISSIONS.items():
        unknown = {p for p in perms if p != "kernel.use_back_office"} - real
        assert unknown == set(), role


def test_the_backend_grants_nothing_to_an_inactive_user(user_factory: Callable[..., Any]) -> None:
    user = user_factory("cash", {"pb.amritsar": [Role.CASHIER]})
    user.is_active = False
    assert RoleBackend().get_all_permissions(user) == set()


def test_the_role_table_of_the_docs_is_the_code() -> None:
    """docs/back-office.md shows role → pages → actions as ``role_pages_table()`` makes it from the code."""
    from pathlib import Path

    from masters.permissions import role_pages_table

    text = (Path(__file__).resolve().parents[2] / "docs" / "back-office.md").read_text()
    documented = text.split("<!-- roles:start -->\n", 1)[1].split("<!-- roles:end -->", 1)[0]
    assert documented == role_pages_table(), "update docs/back-office.md with role_pages_table()"
