"""Shared admin pieces: read-only model admins and the "action with a form" flow.

The admin only reads; every state change goes through a service (DESIGN.md, rule 1). The pieces here keep the
apps' admin modules to configuration and thin actions:

- ``ModelAdmin`` / ``TabularInline``: the generic admin classes, subscripted for mypy and plain at run time.
- ``ReadOnlyAdminMixin``: no add, change or delete in the admin; ``AppendOnlyAdminMixin``: no change or delete
  (rows are added through a service-backed add page, e.g. an upload).
- ``apply_each``: call one service per selected object; a ``DomainError`` becomes an error message
  ``"<label>: <code>: <message>"`` and the next object is tried; the successes become one summary message
  (and/or one message per object).
- ``action_with_form``: an admin action that first asks for input (a reason, a comment) on a page that lists
  the selected objects (template ``admin/action_with_form.html`` or one extending it), then, once the form is
  posted back valid, runs ``apply_each`` and returns to the changelist.
- ``tenant_scope_q``: which rows of a kernel table (keyed by a tenant code, e.g. the outbox) a staff user may see.
  The kernel does not know roles; the app that does (``masters``) registers the rule with
  ``tenant_scope_register`` in its ``AppConfig.ready``. Without a rule only superusers see such rows.

This module is part of the kernel: it imports Django and the kernel only, never an app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from rest_framework.authtoken.admin import TokenAdmin
from rest_framework.authtoken.models import TokenProxy

from billing_project.errors import DomainError
from billing_project.models import IdempotencyKey

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
else:  # not subscriptable at run time
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline

T = TypeVar("T")
R = TypeVar("R")

#: The POST key the action page sends back with its form; without it the action (re)shows the page.
APPLY = "apply"
ACTION_WITH_FORM_TEMPLATE = "admin/action_with_form.html"


class AppendOnlyAdminMixin:
    """No change and no delete in the admin (adding stays possible, e.g. through an upload page)."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdminMixin(AppendOnlyAdminMixin):
    """No add, change or delete in the admin: rows are written by the services only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def action_history_text(modeladmin: ModelAdmin, request: HttpRequest) -> str:
    """The description of the admin action being run ("Cancel selected bills" → "Cancel bills")."""
    name = request.POST.get("action", "")
    action = modeladmin.get_actions(request).get(name)
    text = str(action[2]) if action else name.replace("_", " ")
    return text.replace("selected ", "").strip().capitalize()


def record_history(modeladmin: ModelAdmin, request: HttpRequest, obj: Any, text: str) -> None:
    """Write ``text`` to ``obj``'s admin history (the "History" page of its admin) as done by the user.

    This is the admin's own log of who did what (``django.contrib.admin.LogEntry``), not business data: the
    service has already written its own audit rows (demand history, amendment transitions, ...)."""
    if text and isinstance(obj, modeladmin.model) and getattr(request.user, "pk", None) is not None:
        modeladmin.log_change(request, obj, text[:2000])


def apply_each(
    modeladmin: ModelAdmin,
    request: HttpRequest,
    objects: Iterable[T],
    *,
    perform: Callable[[T], R],
    label: Callable[[T], str] = str,
    done_message: str = "",
    report: Callable[[T, R], tuple[str, int]] | None = None,
    history: str = "",
) -> int:
    """Call ``perform`` (one service call) per object, in order; return how many succeeded.

    A ``DomainError`` becomes the error message ``"<label(obj)>: <code>: <message>"`` and the next object is
    tried. After a success, ``report(obj, result)`` (if given) returns one ``(text, level)`` message; at the
    end ``done_message.format(successes)`` (if given) is a success message when at least one succeeded.

    Every success is written to the object's admin history (``history``, by default the action's name),
    so each state change staff make in the admin shows under "History" with who and when.
    """
    done = 0
    text = history or action_history_text(modeladmin, request)
    for obj in objects:
        try:
            result = perform(obj)
        except DomainError as exc:
            modeladmin.message_user(request, f"{label(obj)}: {exc.code}: {exc.message}", messages.ERROR)
            continue
        done += 1
        record_history(modeladmin, request, obj, text)
        if report is not None:
            text, level = report(obj, result)
            modeladmin.message_user(request, text, level)
    if done and done_message:
        modeladmin.message_user(request, done_message.format(done), messages.SUCCESS)
    return done


def action_with_form(
    modeladmin: ModelAdmin,
    request: HttpRequest,
    objects: Iterable[T],
    *,
    action: str,
    form_class: type[forms.Form],
    title: str,
    submit_label: str,
    perform: Callable[[T, Mapping[str, Any]], R],
    label: Callable[[T], str] = str,
    done_message: str = "",
    report: Callable[[T, R], tuple[str, int]] | None = None,
    template: str = ACTION_WITH_FORM_TEMPLATE,
    context: Mapping[str, Any] | None = None,
) -> TemplateResponse | None:
    """An admin action that asks for input first, then calls ``perform(obj, cleaned_data)`` per object.

    The first POST (from the changelist) and every invalid post-back render ``template`` with the form, the
    selected objects as ``rows`` (``(label, obj)`` pairs, in the order of ``objects``), ``action`` (the action's
    name, posted back), ``submit_label`` and ``title``, plus ``context``. A valid post-back (it carries
    ``apply``) runs ``apply_each`` with ``label``, ``done_message`` and ``report`` and returns ``None``: the
    admin goes back to the changelist and shows the messages.
    """
    form = form_class(request.POST if APPLY in request.POST else None)
    selected = list(objects)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        given = "; ".join(f"{form.fields[k].label or k.replace('_', ' ')}: {v}" for k, v in data.items() if v)
        apply_each(
            modeladmin,
            request,
            selected,
            perform=lambda obj: perform(obj, data),
            label=label,
            done_message=done_message,
            report=report,
            history=f"{action_history_text(modeladmin, request)} — {given}" if given else "",
        )
        return None
    page = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "action": action,
        "submit_label": submit_label,
        "form": form,
        "rows": [(label(obj), obj) for obj in selected],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
        **(context or {}),
    }
    return TemplateResponse(request, template, page)


#: ``(request, field) -> Q``: the rows whose tenant code in ``field`` the request's user may see.
TenantScope = Callable[[HttpRequest, str], Q]
_tenant_scope: list[TenantScope] = []


def tenant_scope_register(scope: TenantScope) -> None:
    """Set the rule of ``tenant_scope_q`` (one rule; registering again replaces it)."""
    _tenant_scope[:] = [scope]


def tenant_scope_q(request: HttpRequest, field: str) -> Q:
    """Superusers see every row; other staff what the registered rule allows (nothing without a rule)."""
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_superuser", False):
        return ~Q(pk__in=[])
    if not _tenant_scope:
        return Q(pk__in=[])
    return _tenant_scope[0](request, field)


# Technical pages of the kernel (superusers only: no billing role grants them, masters/permissions.py) ------------


def masked(secret: str) -> str:
    """A secret as staff may see it: its first four characters and its length, never in full."""
    return f"{secret[:4]}… ({len(secret)} characters)" if secret else ""


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ("created_at", "method", "path", "status", "response_status", "completed_at")
    list_filter = ("status", "method", "created_at")
    search_fields = ("=key", "path")
    date_hierarchy = "created_at"
    fields = (
        "key",
        "method",
        "path",
        "status",
        "response_status",
        "response_content_type",
        "created_at",
        "completed_at",
    )
    readonly_fields = fields


admin.site.unregister(TokenProxy)


@admin.register(TokenProxy)
class MaskedTokenAdmin(ReadOnlyAdminMixin, TokenAdmin):
    """API tokens, never shown in full: ``manage.py create_api_client`` creates one and prints the key once;
    the admin lists who holds one and since when."""

    list_display = ("masked_key", "user", "created")
    fields = ("masked_key", "user", "created")
    readonly_fields = fields

    @admin.display(description="key")
    def masked_key(self, obj: TokenProxy) -> str:
        return masked(obj.key)

    list_display_links = None

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """No page per token (Django's would name it by its key): back to the list."""
        return HttpResponseRedirect(reverse("admin:authtoken_tokenproxy_changelist"))


def object_action(
    modeladmin: ModelAdmin,
    request: HttpRequest,
    obj: Any,
    *,
    form_class: type[forms.Form],
    title: str,
    submit_label: str,
    perform: Callable[[Mapping[str, Any]], Any],
    history: Callable[[Mapping[str, Any]], str],
    done_message: str,
    intro: str = "",
    facts: list[tuple[str, Any]] | None = None,
    template: str = "admin/object_action.html",
) -> HttpResponse:
    """A button on an object's own page that asks first (a reason, a comment: ``form_class``), then makes one
    service call (``perform(cleaned_data)``). A ``DomainError`` is shown on the page with its code and
    nothing changes; a success is written to the object's history and goes back to the object's page."""
    form = form_class(request.POST if request.method == "POST" else None)
    opts = modeladmin.model._meta
    page_url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    error: DomainError | None = None
    if form.is_bound and form.is_valid():
        try:
            perform(form.cleaned_data)
        except DomainError as exc:
            error = exc
        else:
            record_history(modeladmin, request, obj, history(form.cleaned_data))
            modeladmin.message_user(request, done_message, messages.SUCCESS)
            return HttpResponseRedirect(page_url)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": opts,
        "form": form,
        "object": obj,
        "intro": intro,
        "facts": facts or [],
        "error": error,
        "submit_label": submit_label,
        "page_url": page_url,
    }
    return TemplateResponse(request, template, context)


class ObjectButtonsMixin:
    """Buttons on an object's own page (next to "History"): ``object_buttons(request, obj)`` answers
    ``(url, label, element id)`` triples — actions that ask first (``object_action``) and links (print, the
    consumer page)."""

    change_form_template: Any = "admin/change_form_buttons.html"

    def object_buttons(self, request: HttpRequest, obj: Any) -> list[tuple[str, str, str]]:
        return []

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
        buttons = self.object_buttons(request, obj) if obj is not None else []
        return super().change_view(  # type: ignore[misc,no-any-return]
            request, object_id, form_url, {**(extra_context or {}), "object_buttons": buttons}
        )
