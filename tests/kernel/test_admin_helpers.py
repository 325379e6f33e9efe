"""The kernel's admin pieces: read-only mixins, ``apply_each`` and ``action_with_form`` (page, validation, messages).

A small ModelAdmin over ``Tenant`` (not registered) drives the helpers with real requests, real templates and
real message storage; ``perform`` is the test's own callback, which records its calls and refuses one tenant
with a ``DomainError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory

from billing_project.admin import (
    AppendOnlyAdminMixin,
    ModelAdmin,
    ReadOnlyAdminMixin,
    action_with_form,
    apply_each,
)
from billing_project.errors import DomainError
from masters.models import Tenant

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/masters/tenant/"


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=20, help_text="Mandatory.")


class TenantActions(ReadOnlyAdminMixin, ModelAdmin):
    pass


class TenantUploads(AppendOnlyAdminMixin, ModelAdmin):
    pass


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw")


@pytest.fixture
def tenants(tenant_factory: Any) -> list[Tenant]:
    return [tenant_factory("pb"), tenant_factory("pb.amritsar"), tenant_factory("pb.jalandhar")]


def post(root: Any, data: dict[str, Any]) -> Any:
    request = RequestFactory().post(CHANGELIST, data)
    request.user = root
    request._messages = CookieStorage(request)  # type: ignore[attr-defined]
    return request


def texts(request: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in request._messages]


class Recorder:
    """``perform`` of the tests: records (code, cleaned data) and refuses ``pb.amritsar``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, tenant: Tenant, data: Mapping[str, Any]) -> str:
        if tenant.code == "pb.amritsar":
            raise DomainError("TENANT_REFUSED", f"{tenant.code} refuses")
        self.calls.append((tenant.code, dict(data)))
        return tenant.code.upper()


def run(root: Any, tenants: list[Tenant], recorder: Recorder, **data: Any) -> tuple[Any, Any]:
    request = post(root, {"action": "shout", helpers.ACTION_CHECKBOX_NAME: [str(t.pk) for t in tenants], **data})
    response = action_with_form(
        TenantActions(Tenant, admin.site),
        request,
        tenants,
        action="shout",
        form_class=ReasonForm,
        title="Shout at tenants",
        submit_label="Shout at these tenants",
        perform=recorder,
        label=lambda tenant: tenant.code,
        done_message="Shouted at {} tenant(s).",
        context={"extra": "more"},
    )
    return request, response


def test_first_post_shows_the_page_with_the_form_the_selected_rows_and_the_action(root, tenants):
    recorder = Recorder()
    request, response = run(root, tenants, recorder)

    assert response.template_name == "admin/action_with_form.html"
    response.render()
    html = response.content.decode()
    context = response.context_data
    assert (context["title"], context["action"], context["submit_label"], context["extra"]) == (
        "Shout at tenants",
        "shout",
        "Shout at these tenants",
        "more",
    )
    assert [(label, tenant.pk) for label, tenant in context["rows"]] == [(t.code, t.pk) for t in tenants]
    assert context["form"].is_bound is False
    assert context["opts"] is Tenant._meta
    for tenant in tenants:
        assert f'<input type="hidden" name="_selected_action" value="{tenant.pk}">' in html
        assert f"<li>{tenant.code}</li>" in html
    assert '<input type="hidden" name="action" value="shout">' in html
    assert '<input type="hidden" name="apply" value="yes">' in html
    assert '<input type="submit" class="default" value="Shout at these tenants">' in html
    assert f'<a href="{CHANGELIST}" class="button cancel-link">Go back</a>' in html
    assert f'&rsaquo; <a href="{CHANGELIST}">Tenants</a>' in html
    assert "&rsaquo; Shout at tenants" in html
    assert 'name="reason"' in html
    assert '<div class="help">Mandatory.</div>' in html
    assert recorder.calls == []
    assert texts(request) == []


def test_an_invalid_post_back_shows_the_page_again_with_the_errors_and_performs_nothing(root, tenants):
    recorder = Recorder()
    request, response = run(root, tenants, recorder, apply="yes", reason="")

    assert response.template_name == "admin/action_with_form.html"
    assert response.context_data["form"].errors == {"reason": ["This field is required."]}
    response.render()
    assert "This field is required." in response.content.decode()
    assert recorder.calls == []
    assert texts(request) == []


def test_a_valid_post_back_performs_per_object_in_order_and_reports_errors_and_successes(root, tenants):
    recorder = Recorder()
    request, response = run(root, tenants, recorder, apply="yes", reason="loud")

    assert response is None  # the admin goes back to the changelist
    assert recorder.calls == [("pb", {"reason": "loud"}), ("pb.jalandhar", {"reason": "loud"})]
    assert texts(request) == [
        ("error", "pb.amritsar: TENANT_REFUSED: pb.amritsar refuses"),
        ("success", "Shouted at 2 tenant(s)."),
    ]


def test_no_summary_message_when_nothing_succeeded(root, tenants):
    recorder = Recorder()
    request, response = run(root, [tenants[1]], recorder, apply="yes", reason="loud")

    assert response is None
    assert recorder.calls == []
    assert texts(request) == [("error", "pb.amritsar: TENANT_REFUSED: pb.amritsar refuses")]


def test_apply_each_reports_each_result_and_counts_the_successes(root, tenants):
    request = post(root, {})
    recorder = Recorder()

    done = apply_each(
        TenantActions(Tenant, admin.site),
        request,
        tenants,
        perform=lambda tenant: recorder(tenant, {}),
        report=lambda tenant, result: (f"{tenant.pk}: {result}", messages.INFO),
    )

    assert done == 2
    assert texts(request) == [
        ("info", f"{tenants[0].pk}: PB"),
        ("error", "pb.amritsar: TENANT_REFUSED: pb.amritsar refuses"),  # default label: str(tenant)
        ("info", f"{tenants[2].pk}: PB.JALANDHAR"),
    ]


def test_read_only_and_append_only_mixins(root):
    request = post(root, {})
    read_only, append_only = TenantActions(Tenant, admin.site), TenantUploads(Tenant, admin.site)
    assert (
        read_only.has_add_permission(request),
        read_only.has_change_permission(request),
        read_only.has_delete_permission(request),
        read_only.has_view_permission(request),
    ) == (False, False, False, True)
    assert (
        append_only.has_add_permission(request),
        append_only.has_change_permission(request),
        append_only.has_delete_permission(request),
    ) == (True, False, False)
