"""The back-office admin site: the product's name and the user's tenants in the header, role-based entry,
apps in the order of a municipal billing office's day, technical pages last, and pages that are not a model's
(counter desk, consumer page, billing runs) registered by the apps.

Who may enter: an active user who is ``is_staff`` *or* holds the ``BACK_OFFICE_PERMISSION`` — which the
permission backend of the ``masters`` app grants to every staff billing role (``masters.permissions``). So a
user given a billing role works in the admin at once, with no Django permission picked by hand.

This module is part of the kernel: it imports Django and the kernel only; the apps register with it
(``register_view``, ``add_context``) from their ``admin.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path, reverse

#: The permission that lets a user into the back-office; granted by the billing roles' permission backend.
BACK_OFFICE_PERMISSION = "kernel.use_back_office"
PRODUCT_NAME = "Billing back-office"

#: Apps in the order of daily use; apps not listed come after these, technical ones last of all.
APP_ORDER = (
    "payments",
    "bills",
    "demands",
    "amendments",
    "gateway",
    "payment_methods",
    "payment_imports",
    "masters",
)
#: Technical pages: shown last, and only to superusers (the permission backend grants them to nobody else).
TECHNICAL_APPS = ("kernel", "authtoken", "django_celery_beat", "auth")


def may_enter(user: Any) -> bool:
    """Active, and staff or holding a back-office billing role."""
    return bool(user.is_active and (user.is_staff or user.has_perm(BACK_OFFICE_PERMISSION)))


class BackOfficeAuthenticationForm(AdminAuthenticationForm):
    """The admin login, open to users whose billing roles give them the back-office."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "invalid_login": "Please enter a correct username and password of a back-office account. Both fields may "
        "be case-sensitive.",
    }

    def confirm_login_allowed(self, user: Any) -> None:
        if not may_enter(user):
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")


@dataclass(frozen=True)
class ExtraView:
    """A back-office page that is not a model's: shown on the index and in the sidebar to those who may."""

    route: str
    view: Callable[..., HttpResponse] | None  # None: a link to a page a ModelAdmin serves under ``name``
    name: str
    title: str = ""
    description: str = ""
    permission: str = ""  # who sees it on the start page: holders of this permission ("" = everyone)
    on_index: bool = True
    order: int = 100  # place on the start page and in the sidebar (the counter desk first)
    query: str = ""  # appended to the link, e.g. a list's filter ("state__exact=APPROVALPENDING")


class BillingAdminSite(admin.AdminSite):
    site_header = PRODUCT_NAME
    site_title = PRODUCT_NAME
    index_title = "Today's work"
    login_form = BackOfficeAuthenticationForm
    enable_nav_sidebar = True

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self._views: list[ExtraView] = []
        self._context: list[Callable[[HttpRequest], Mapping[str, Any]]] = []

    # Registration by the apps ----------------------------------------------------------------------------

    def register_view(self, view: ExtraView) -> None:
        """Serve ``view`` at ``/admin/<route>`` (behind the admin's login); the same name twice replaces it."""
        self._views = [v for v in self._views if v.name != view.name] + [view]

    def add_context(self, provider: Callable[[HttpRequest], Mapping[str, Any]]) -> None:
        """Add what ``provider(request)`` answers to every admin page's context (e.g. the user's tenants)."""
        if provider not in self._context:
            self._context.append(provider)

    # AdminSite -------------------------------------------------------------------------------------------

    def has_permission(self, request: HttpRequest) -> bool:
        return may_enter(request.user)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        extra = [path(v.route, self.admin_view(v.view), name=v.name) for v in self._views if v.view is not None]
        return [*extra, *super().get_urls()]

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        for provider in self._context:
            context.update(provider(request))
        context["back_office_pages"] = self.pages_for(request) if self.has_permission(request) else []
        context["site_url"] = self.site_url_for(request)
        return context

    def pages_for(self, request: HttpRequest) -> list[dict[str, str]]:
        """The extra pages this user may open, as ``{title, description, url}``."""
        return [
            {
                "title": v.title,
                "description": v.description,
                "url": reverse(f"{self.name}:{v.name}") + (f"?{v.query}" if v.query else ""),
            }
            for v in sorted(self._views, key=lambda view: view.order)
            if v.on_index and v.title and (not v.permission or request.user.has_perm(v.permission))
        ]

    def site_url_for(self, request: HttpRequest) -> str:
        """ "View site" leads to the first page of the user's day (the counter desk for a cashier), else the API
        documentation."""
        pages = self.pages_for(request) if self.has_permission(request) else []
        return pages[0]["url"] if pages else reverse("swagger-ui")

    def work_pages(self) -> list[ExtraView]:
        """The pages shown on the start page (for documentation and tests)."""
        return [v for v in sorted(self._views, key=lambda view: view.order) if v.on_index and v.title]

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        apps = super().get_app_list(request, app_label)

        def rank(app: dict[str, Any]) -> tuple[int, int, str]:
            label = app["app_label"]
            if label in TECHNICAL_APPS:
                return (2, TECHNICAL_APPS.index(label), label)
            if label in APP_ORDER:
                return (0, APP_ORDER.index(label), label)
            return (1, 0, label)

        return sorted(apps, key=rank)
