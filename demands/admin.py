"""Admin for demands: read-only records (writes go through the services), consumer dues.

"Cancel demand" is a button on the demand's page (and an action of the list): it asks for confirmation and a
reason, then calls ``demand_cancel``; the cancellation shows in the demand's history.

Staff who are not superusers see the demands of the tenants they reach.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from billing_project import clock
from billing_project.admin import (
    ModelAdmin,
    ObjectButtonsMixin,
    ReadOnlyAdminMixin,
    TabularInline,
    action_with_form,
    object_action,
)
from billing_project.money import money_sum
from demands.models import ConsumerAccount, Demand, DemandDetail, DemandHistory, DemandStatus
from demands.selectors import consumer_dues
from demands.services import demand_cancel
from masters.access import caller_for
from masters.selectors import tax_head_names


class CancelDemandForm(forms.Form):
    reason = forms.CharField(
        max_length=1024, widget=forms.Textarea(attrs={"rows": 3}), help_text="Mandatory; kept with the demand."
    )
    confirm = forms.BooleanField(label="Yes, cancel", help_text="Its bills become stale; paid amounts stay recorded.")


class PeriodFilter(admin.SimpleListFilter):
    """Demands by financial year (April–March in the billing time zone) of their period's start."""

    title = "period"
    parameter_name = "period"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        zone = clock.billing_zone()
        starts = model_admin.get_queryset(request).order_by().values_list("tax_period_from", flat=True).distinct()
        years = sorted({_financial_year(start.astimezone(zone)) for start in starts}, reverse=True)
        return [(str(y), f"{y}-{(y + 1) % 100:02d}") for y in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not (value and value.isdigit()):
            return queryset
        zone, year = clock.billing_zone(), int(value)
        start, end = dt.datetime(year, 4, 1, tzinfo=zone), dt.datetime(year + 1, 4, 1, tzinfo=zone)
        return queryset.filter(tax_period_from__gte=start, tax_period_from__lt=end)


def _financial_year(moment: dt.datetime) -> int:
    return moment.year if moment.month >= 4 else moment.year - 1


def _scoped(queryset: QuerySet[Any], request: HttpRequest, field: str = "tenant__code") -> QuerySet[Any]:
    return queryset.filter(caller_for(request.user).tenant_q(field))


class DemandDetailInline(ReadOnlyAdminMixin, TabularInline):
    model = DemandDetail
    fields = ("tax_head", "tax_amount", "collection_amount", "additional_details", "modified_by", "modified_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="tax head")
    def tax_head(self, obj: DemandDetail) -> str:
        name = tax_head_names(obj.demand.tenant.code, [obj.tax_head_code]).get(obj.tax_head_code, "")
        return f"{name} ({obj.tax_head_code})" if name else obj.tax_head_code


class DemandHistoryInline(ReadOnlyAdminMixin, TabularInline):
    model = DemandHistory
    fields = ("revision", "action", "changed_by", "changed_at", "status", "is_payment_completed", "payer_id")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["id"]


@admin.register(Demand)
class DemandAdmin(ObjectButtonsMixin, ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "consumer_code",
        "business_service",
        "tenant",
        "tax_period_from",
        "tax_period_to",
        "status",
        "is_payment_completed",
        "payer",
        "modified_at",
    ]
    list_filter = ["status", "business_service", PeriodFilter, "is_payment_completed", "tenant"]
    search_fields = ["consumer_code", "=id", "payer__name", "=payer__mobile_number"]
    date_hierarchy = "tax_period_from"
    list_select_related = ["tenant", "payer"]
    readonly_fields = (
        "id",
        "account_link",
        "tenant",
        "business_service",
        "consumer_code",
        "consumer_type",
        "payer",
        "tax_period_from",
        "tax_period_to",
        "bill_expiry_time",
        "fixed_bill_expiry_date",
        "minimum_amount_payable",
        "additional_details",
        "is_payment_completed",
        "status",
        "created_by",
        "created_at",
        "modified_by",
        "modified_at",
    )
    fields = readonly_fields
    inlines = [DemandDetailInline, DemandHistoryInline]
    actions = ["cancel_demands"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _scoped(super().get_queryset(request), request)

    @admin.display(description="consumer account")
    def account_link(self, obj: Demand) -> str:
        url = reverse("admin:counter_consumer", args=[obj.account_id])  # served by the payments admin
        return format_html('<a href="{}">{} — the consumer page</a>', url, obj.consumer_code)

    @admin.action(description="Cancel selected demands")
    def cancel_demands(self, request: HttpRequest, queryset: QuerySet[Demand]) -> HttpResponse | None:
        caller, at = caller_for(request.user), clock.now()
        return action_with_form(
            self,
            request,
            queryset.filter(status=DemandStatus.ACTIVE).order_by("consumer_code", "tax_period_from"),
            action="cancel_demands",
            form_class=CancelDemandForm,
            title="Cancel demands",
            submit_label="Cancel these demands",
            perform=lambda demand, data: demand_cancel(
                caller=caller, demand_id=demand.pk, at=at, reason=data["reason"]
            ),
            label=lambda demand: demand.consumer_code,
            done_message="Cancelled {} demand(s).",
        )

    def object_buttons(self, request: HttpRequest, obj: Demand) -> list[tuple[str, str, str]]:
        buttons = [(reverse("admin:counter_consumer", args=[obj.account_id]), "Consumer page", "consumer-page")]
        if obj.status == DemandStatus.ACTIVE and self._may_cancel(request):
            buttons.insert(0, (reverse("admin:demands_demand_cancel", args=[obj.pk]), "Cancel demand", "cancel-demand"))
        return buttons

    def _may_cancel(self, request: HttpRequest) -> bool:
        return request.user.has_perm("demands.change_demand")

    def get_urls(self) -> list[URLPattern]:
        cancel = path("<uuid:pk>/cancel/", self.admin_site.admin_view(self.cancel_view), name="demands_demand_cancel")
        return [cancel, *super().get_urls()]

    def cancel_view(self, request: HttpRequest, pk: Any) -> HttpResponse:
        """Confirm and give a reason, then ``demand_cancel``."""
        demand = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self._may_cancel(request):
            raise PermissionDenied
        return object_action(
            self,
            request,
            demand,
            form_class=CancelDemandForm,
            title=f"Cancel the demand of {demand.consumer_code}",
            submit_label="Cancel the demand",
            intro="The demand is cancelled and its bills become stale; what was paid stays recorded on it.",
            facts=[
                ("Consumer", f"{demand.consumer_code} · {demand.business_service} · {demand.tenant.code}"),
                ("Period", f"{demand.tax_period_from:%d %b %Y} – {demand.tax_period_to:%d %b %Y}"),
                ("Status", demand.get_status_display()),
            ],
            perform=lambda data: demand_cancel(
                caller=caller_for(request.user), demand_id=demand.pk, at=clock.now(), reason=data["reason"]
            ),
            history=lambda data: f"Cancelled — reason: {data['reason']}",
            done_message=f"Cancelled the demand of {demand.consumer_code}.",
        )


@admin.register(ConsumerAccount)
class ConsumerAccountAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["consumer_code", "business_service", "tenant", "revision", "updated_at", "dues_link"]
    list_filter = ["business_service", "tenant"]
    search_fields = ["consumer_code", "=demands__payer__mobile_number", "demands__payer__name"]
    search_help_text = "Consumer code, payer name or mobile number."
    list_select_related = ["tenant"]
    readonly_fields = [
        "tenant",
        "business_service",
        "consumer_code",
        "revision",
        "created_at",
        "updated_at",
        "dues_link",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _scoped(super().get_queryset(request), request)

    @admin.display(description="consumer page")
    def dues_link(self, obj: ConsumerAccount) -> str:
        return format_html(
            '<a href="{}">demands, bills, payments</a>', reverse("admin:counter_consumer", args=[obj.pk])
        )

    def get_urls(self) -> list[URLPattern]:
        return [
            path("<int:pk>/dues/", self.admin_site.admin_view(self.dues_view), name="demands_consumeraccount_dues"),
            *super().get_urls(),
        ]

    def dues_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = get_object_or_404(self.get_queryset(request), pk=pk)
        periods = consumer_dues(account)
        open_periods = [p for p in periods if p.demand.status == DemandStatus.ACTIVE]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Demands of {account.business_service}/{account.consumer_code} ({account.tenant.code})",
            "account": account,
            "periods": periods,
            "total_due": money_sum(p.due for p in open_periods),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/demands/consumer_dues.html", context)
