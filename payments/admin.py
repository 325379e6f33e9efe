"""Admin for payments: read-only records (writes go through the services).

Payments with their receipts (one ``PaymentDetail`` per bill) inline, filters (mode, status, created date,
cashier), search (receipt number, transaction number, mobile number) and a link to the printable receipt.
Staff who are not superusers see the payments of the tenants where they hold a payment role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from masters.access import caller_for
from payments.models import Payment, PaymentDetail
from payments.selectors import PAYMENT_ROLES

if TYPE_CHECKING:
    ModelAdmin = admin.ModelAdmin[Any]
    TabularInline = admin.TabularInline[Any, Any]
else:
    ModelAdmin = admin.ModelAdmin
    TabularInline = admin.TabularInline


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CashierFilter(admin.SimpleListFilter):
    title = "cashier"
    parameter_name = "created_by"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        names = model_admin.get_queryset(request).order_by("created_by").values_list("created_by", flat=True)
        return [(name, name) for name in dict.fromkeys(names)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(created_by=value) if value else queryset


class PaymentDetailInline(ReadOnlyMixin, TabularInline):
    model = PaymentDetail
    fields = ("receipt_number", "bill", "business_service", "total_due", "total_amount_paid", "receipt_date")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyMixin, ModelAdmin):
    list_display = [
        "created_at",
        "receipt_numbers",
        "tenant",
        "payment_mode",
        "status",
        "total_amount_paid",
        "payer_name",
        "mobile_number",
        "created_by",
        "receipt_link",
    ]
    list_filter = ["payment_mode", "status", "created_at", CashierFilter]
    search_fields = ["details__receipt_number", "transaction_number", "mobile_number"]
    date_hierarchy = "created_at"
    list_select_related = ["tenant"]
    readonly_fields = (
        "id",
        "receipt_link",
        "tenant",
        "status",
        "payment_mode",
        "total_due",
        "total_amount_paid",
        "instrument_number",
        "instrument_date",
        "instrument_status",
        "ifsc_code",
        "transaction_number",
        "transaction_date",
        "paid_by",
        "payer",
        "payer_name",
        "payer_address",
        "payer_email",
        "mobile_number",
        "additional_details",
        "cancel_reason",
        "cancelled_by",
        "cancelled_at",
        "created_by",
        "created_at",
        "modified_by",
        "modified_at",
    )
    fields = readonly_fields
    inlines = [PaymentDetailInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        caller = caller_for(request.user)
        return (
            super()
            .get_queryset(request)
            .select_related("tenant", "payer")
            .prefetch_related("details")
            .filter(caller.tenant_q("tenant__code", PAYMENT_ROLES))
        )

    @admin.display(description="receipts")
    def receipt_numbers(self, obj: Payment) -> str:
        return ", ".join(detail.receipt_number for detail in obj.details.all())

    @admin.display(description="receipt")
    def receipt_link(self, obj: Payment) -> str:
        return format_html('<a href="{}" target="_blank">receipt</a>', reverse("payment-receipt", args=[obj.pk]))
