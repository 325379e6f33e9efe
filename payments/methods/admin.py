"""Admin of payment methods and autopay: read-only records, state changes through the services.

* Payment methods (masked label only, never the token) with status filters and a "Revoke" action;
* Autopay mandates with a "Switch off" action;
* Autopay charges with their next retry date, status filters and a "Retry now" action (FAILED charges;
  ``autopay_charge_retry_now`` — the same rules as a scheduled retry) and a "Resolve (money applied by hand)"
  action for UNAPPLIED charges (``autopay_charge_resolve``, BILLING_ADMIN of the charge's tenant).
Staff who are not superusers see the rows of the tenants (for methods: the states) where they hold a
``MANAGE_ROLES`` role. Domain errors become admin messages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from billing_project import clock
from billing_project.admin import ModelAdmin, ReadOnlyAdminMixin, apply_each
from masters.access import caller_for
from payments.methods.models import AutopayCharge, AutopayMandate, PaymentMethod
from payments.methods.selectors import charges_visible_to, mandates_visible_to, payment_methods_visible_to
from payments.methods.services import (
    autopay_charge_resolve,
    autopay_charge_retry_now,
    autopay_mandate_revoke,
    payment_method_revoke,
)


@admin.register(PaymentMethod)
class PaymentMethodAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["label", "payer", "tenant", "gateway", "status", "is_default", "expiry", "flagged_at", "created_at"]
    list_filter = ["status", "is_default", "gateway", ("flagged_at", admin.EmptyFieldListFilter)]
    search_fields = ["label", "last4", "payer__name", "payer__mobile_number"]
    list_select_related = ["payer", "tenant"]
    # The gateway token is not shown: whoever holds it can charge the card at the gateway.
    fields = readonly_fields = (
        "payer",
        "tenant",
        "gateway",
        "label",
        "brand",
        "last4",
        "expiry_month",
        "expiry_year",
        "status",
        "is_default",
        "flagged_at",
        "flag_reason",
        "created_by",
        "created_at",
        "updated_at",
        "revoked_at",
    )
    actions = ["revoke_methods"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return payment_methods_visible_to(caller_for(request.user))

    @admin.display(description="expiry")
    def expiry(self, obj: PaymentMethod) -> str:
        return f"{obj.expiry_month:02d}/{obj.expiry_year}"

    @admin.action(description="Revoke selected payment methods (switches their autopay off)")
    def revoke_methods(self, request: HttpRequest, queryset: QuerySet[PaymentMethod]) -> None:
        caller, at = caller_for(request.user), clock.now()
        apply_each(
            self,
            request,
            queryset.order_by("pk"),
            perform=lambda row: payment_method_revoke(caller=caller, method_id=row.pk, at=at),
            done_message="Revoked {} payment method(s).",
        )


@admin.register(AutopayMandate)
class AutopayMandateAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "consumer_code",
        "business_service",
        "tenant",
        "payer",
        "payment_method",
        "max_amount",
        "active",
        "created_at",
        "revoked_at",
    ]
    list_filter = ["active", "business_service", "tenant"]
    search_fields = ["consumer_code", "payer__name", "payer__mobile_number"]
    list_select_related = ["payer", "tenant", "payment_method"]
    fields = readonly_fields = (
        "payer",
        "tenant",
        "business_service",
        "consumer_code",
        "payment_method",
        "max_amount",
        "active",
        "created_by",
        "created_at",
        "revoked_by",
        "revoked_at",
    )
    actions = ["switch_off"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return mandates_visible_to(caller_for(request.user))

    @admin.action(description="Switch autopay off for the selected mandates")
    def switch_off(self, request: HttpRequest, queryset: QuerySet[AutopayMandate]) -> None:
        caller, at = caller_for(request.user), clock.now()
        apply_each(
            self,
            request,
            queryset.order_by("pk"),
            perform=lambda row: autopay_mandate_revoke(caller=caller, mandate_id=row.pk, at=at),
            done_message="Switched off {} mandate(s).",
        )


@admin.register(AutopayCharge)
class AutopayChargeAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "created_at",
        "bill_number",
        "consumer_code",
        "amount",
        "status",
        "attempt",
        "next_retry_at",
        "failure_code",
        "last_attempt_at",
    ]
    list_filter = ["status", "failure_code", "next_retry_at"]
    search_fields = ["bill__bill_number", "bill__consumer_code", "failure_code"]
    list_select_related = ["bill", "mandate"]
    date_hierarchy = "created_at"
    fields = readonly_fields = (
        "id",
        "mandate",
        "bill",
        "amount",
        "status",
        "attempt",
        "next_retry_at",
        "gateway_transaction",
        "failure_code",
        "failure_message",
        "superseded_by",
        "created_at",
        "updated_at",
        "last_attempt_at",
        "finished_at",
    )
    actions = ["retry_now", "resolve_applied_by_hand"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return charges_visible_to(caller_for(request.user))

    @admin.display(description="bill", ordering="bill__bill_number")
    def bill_number(self, obj: AutopayCharge) -> str:
        return obj.bill.bill_number

    @admin.display(description="consumer", ordering="bill__consumer_code")
    def consumer_code(self, obj: AutopayCharge) -> str:
        return obj.bill.consumer_code

    @admin.action(description="Retry the selected FAILED charges now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[AutopayCharge]) -> None:
        caller, at = caller_for(request.user), clock.now()
        apply_each(
            self,
            request,
            queryset.order_by("created_at", "pk"),
            perform=lambda row: autopay_charge_retry_now(caller=caller, charge_id=row.pk, at=at),
            done_message="Retried {} charge(s); see their status.",
        )

    @admin.action(description="Resolve the selected UNAPPLIED charges (money applied by hand)")
    def resolve_applied_by_hand(self, request: HttpRequest, queryset: QuerySet[AutopayCharge]) -> None:
        caller, at = caller_for(request.user), clock.now()
        apply_each(
            self,
            request,
            queryset.order_by("created_at", "pk"),
            perform=lambda row: autopay_charge_resolve(caller=caller, charge_id=row.pk, at=at),
            done_message="Resolved {} charge(s); autopay resumes for their consumers.",
        )
