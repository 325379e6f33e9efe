"""Admin for bills and billing runs: read-only records (writes go through the services).

- Bills: filters, search, each period with its tax-head lines, a link to the printable bill, and a
  "Cancel selected bills" action that asks for the reason and calls ``bill_cancel_one`` per bill.
- Billing runs: progress of bulk bill generation and the consumers a run could not bill.

Staff who are not superusers see the rows of the tenants they reach.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from billing_project import clock
from billing_project.admin import ModelAdmin, ReadOnlyAdminMixin, TabularInline, action_with_form
from bills.models import Bill, BillDetail, BillingRun, BillingRunError
from bills.selectors import effective_status
from bills.services import bill_cancel_one
from masters.access import caller_for


def _scoped(queryset: QuerySet[Any], request: HttpRequest, field: str = "tenant__code") -> QuerySet[Any]:
    return queryset.filter(caller_for(request.user).tenant_q(field))


class CancelBillsForm(forms.Form):
    reason = forms.CharField(max_length=256, help_text="Reason code, e.g. OTHER or WRONG_DEMAND")
    reason_message = forms.CharField(max_length=1024, label="Reason message")
    description = forms.CharField(max_length=2048, required=False, widget=forms.Textarea(attrs={"rows": 3}))


class BillDetailInline(ReadOnlyAdminMixin, TabularInline):
    model = BillDetail
    fields = ("from_period", "to_period", "expiry_date", "amount", "amount_paid", "account_lines", "demand")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("account_details")

    @admin.display(description="tax heads")
    def account_lines(self, obj: BillDetail) -> str:
        rows = format_html_join(
            "",
            '<tr><td>{}</td><td style="text-align:right">{}</td></tr>',
            ((line.tax_head_code, line.amount) for line in obj.account_details.all()),
        )
        return format_html("<table><tbody>{}</tbody></table>", rows)


@admin.register(Bill)
class BillAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "bill_number",
        "consumer_code",
        "business_service",
        "tenant",
        "bill_date",
        "expiry_date",
        "total_amount",
        "status",
        "shown_status",
        "payer_name",
        "mobile_number",
        "print_link",
    ]
    list_filter = ["status", "business_service", ("tenant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["bill_number", "consumer_code", "mobile_number"]
    date_hierarchy = "bill_date"
    list_select_related = ["tenant", "account"]
    readonly_fields = (
        "id",
        "bill_number",
        "print_link",
        "tenant",
        "business_service",
        "consumer_code",
        "status",
        "shown_status",
        "bill_date",
        "expiry_date",
        "total_amount",
        "payer",
        "payer_name",
        "mobile_number",
        "payer_email",
        "payer_address",
        "additional_details",
        "file_store_id",
        "revision",
        "run",
        "created_by",
        "created_at",
        "modified_by",
        "modified_at",
    )
    fields = readonly_fields
    inlines = [BillDetailInline]
    actions = ["cancel_bills"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _scoped(super().get_queryset(request).select_related("tenant", "account", "payer"), request)

    @admin.display(description="effective status")
    def shown_status(self, obj: Bill) -> str:
        return effective_status(obj, clock.now())

    @admin.display(description="printable")
    def print_link(self, obj: Bill) -> str:
        return format_html('<a href="{}" target="_blank">print</a>', reverse("bill-print", args=[obj.pk]))

    @admin.action(description="Cancel selected bills")
    def cancel_bills(self, request: HttpRequest, queryset: QuerySet[Bill]) -> HttpResponse | None:
        caller, at = caller_for(request.user), clock.now()
        return action_with_form(
            self,
            request,
            queryset.order_by("bill_number"),
            action="cancel_bills",
            form_class=CancelBillsForm,
            title="Cancel bills",
            submit_label="Cancel these bills",
            template="admin/bills/cancel_bills.html",
            perform=lambda bill, data: bill_cancel_one(
                caller=caller,
                bill_id=bill.pk,
                reason=data["reason"],
                reason_message=data["reason_message"],
                description=data["description"],
                at=at,
            ),
            label=lambda bill: bill.bill_number,
            done_message="Cancelled {} bill(s).",
        )


class BillingRunErrorInline(ReadOnlyAdminMixin, TabularInline):
    model = BillingRunError
    fields = ("consumer_code", "code", "message", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "id",
        "tenant",
        "business_service",
        "status",
        "progress",
        "percent",
        "bills_created",
        "skipped",
        "failed",
        "created_at",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "business_service", ("tenant", admin.RelatedOnlyFieldListFilter)]
    date_hierarchy = "created_at"
    list_select_related = ["tenant"]
    readonly_fields = (
        "id",
        "tenant",
        "business_service",
        "consumer_codes",
        "status",
        "progress",
        "percent",
        "total_consumers",
        "processed",
        "bills_created",
        "skipped",
        "failed",
        "chunk_size",
        "cursor",
        "error",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
    )
    fields = readonly_fields
    inlines = [BillingRunErrorInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _scoped(super().get_queryset(request), request)

    @admin.display(description="processed")
    def progress(self, obj: BillingRun) -> str:
        return f"{obj.processed}/{obj.total_consumers}"

    @admin.display(description="%")
    def percent(self, obj: BillingRun) -> str:
        return f"{obj.progress_percent:.1f} %"
