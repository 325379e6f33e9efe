"""Admin of online payments: gateway transactions (read-only; their attempts and callbacks inline) and the
reconciliation queue (the transactions that need attention, as their own changelist).

Actions call the services, one transaction at a time, and report domain errors as messages: "Poll now"
(``gateway_transaction_poll``), "Reconcile now" (``gateway_transaction_reconcile`` of each selected row, at most
20 — never the whole job inside a request; BILLING_ADMIN of the row's tenant or a superuser),
"Refund" (asks for a reason; ``gateway_refund`` of what is left). Staff who are not superusers see the
transactions of the tenants where they hold a payment role.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from billing_project import clock
from billing_project.admin import ModelAdmin, ReadOnlyAdminMixin, TabularInline, action_with_form, apply_each
from masters.access import caller_for
from payments.gateway.models import (
    GatewayAttempt,
    GatewayCallback,
    GatewayRefund,
    GatewayTransaction,
    ReconciliationQueueItem,
)
from payments.gateway.services import gateway_refund, gateway_transaction_poll, gateway_transaction_reconcile
from payments.selectors import PAYMENT_ROLES


class AttemptInline(ReadOnlyAdminMixin, TabularInline):
    model = GatewayAttempt
    extra = 0
    fields = ("at", "kind", "http_status", "outcome", "gateway_status", "error", "duration_ms", "request_summary")
    readonly_fields = fields
    ordering = ("at", "id")


class CallbackInline(ReadOnlyAdminMixin, TabularInline):
    model = GatewayCallback
    extra = 0
    fields = ("received_at", "event_id", "signature_valid", "outcome", "detail", "raw_body")
    readonly_fields = fields
    ordering = ("received_at", "id")


class RefundForm(forms.Form):
    reason = forms.CharField(max_length=1024, widget=forms.Textarea(attrs={"rows": 3}), help_text="Mandatory.")


def _reference(txn: GatewayTransaction) -> str:
    return txn.merchant_reference


def _refund_message(txn: GatewayTransaction, done: GatewayRefund) -> tuple[str, int]:
    level = messages.SUCCESS if done.status == "SUCCESS" else messages.WARNING
    return f"{txn.merchant_reference}: refund {done.reference} {done.amount} {done.status}", level


class GatewayTransactionAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display: tuple[str, ...] = (
        "merchant_reference",
        "tenant",
        "consumer_code",
        "business_service",
        "amount",
        "status",
        "gateway",
        "kind",
        "needs_attention",
        "attention_reason",
        "poll_count",
        "next_poll_at",
        "created_at",
    )
    list_filter = ["status", "gateway", "needs_attention", "attention_reason", "kind", "business_service"]
    search_fields = ("merchant_reference", "gateway_transaction_id", "consumer_code", "bill__bill_number")
    date_hierarchy = "created_at"
    readonly_fields = (
        "id",
        "merchant_reference",
        "idempotency_key",
        "gateway",
        "gateway_transaction_id",
        "kind",
        "tenant",
        "bill",
        "consumer_code",
        "business_service",
        "amount",
        "currency",
        "status",
        "failure_code",
        "decline_type",
        "checkout_url",
        "return_url",
        "payer_name",
        "payer_email",
        "payer_mobile",
        "payment_method_id",
        "payment",
        "verdict_source",
        "settled_at",
        "last_sequence",
        "poll_count",
        "next_poll_at",
        "last_polled_at",
        "attempt_count",
        "transient_failures",
        "refunded_amount",
        "needs_attention",
        "attention_reason",
        "attention_note",
        "created_by",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields
    inlines = [AttemptInline, CallbackInline]
    actions = ["poll_now", "reconcile_now", "refund"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        caller = caller_for(request.user)
        return (
            super()
            .get_queryset(request)
            .select_related("tenant", "bill", "payment")
            .filter(caller.tenant_q("tenant__code", PAYMENT_ROLES))
        )

    @admin.action(description="Poll the gateway now")
    def poll_now(self, request: HttpRequest, queryset: QuerySet[GatewayTransaction]) -> None:
        at = clock.now()
        apply_each(
            self,
            request,
            queryset.order_by("created_at", "id"),
            perform=lambda txn: gateway_transaction_poll(transaction_id=txn.pk, at=at),
            label=_reference,
            report=lambda txn, done: (f"{txn.merchant_reference}: {done.status}", messages.INFO),
        )

    # "Reconcile now" calls the gateway inside the request: only for a handful of chosen rows.
    RECONCILE_NOW_MAX = 20

    @admin.action(description="Reconcile selected transactions now")
    def reconcile_now(self, request: HttpRequest, queryset: QuerySet[GatewayTransaction]) -> None:
        transactions = list(queryset.order_by("created_at", "id")[: self.RECONCILE_NOW_MAX + 1])
        if len(transactions) > self.RECONCILE_NOW_MAX:
            self.message_user(
                request,
                f"Select at most {self.RECONCILE_NOW_MAX} transactions to reconcile now; the scheduled reconciliation "
                "handles the rest.",
                messages.ERROR,
            )
            return
        caller, at = caller_for(request.user), clock.now()
        apply_each(
            self,
            request,
            transactions,
            perform=lambda txn: gateway_transaction_reconcile(caller=caller, transaction_id=txn.pk, at=at),
            label=_reference,
            report=lambda txn, done: (f"{txn.merchant_reference}: {done.status}", messages.INFO),
        )

    @admin.action(description="Refund (what is left of) selected transactions")
    def refund(self, request: HttpRequest, queryset: QuerySet[GatewayTransaction]) -> HttpResponse | None:
        caller, at = caller_for(request.user), clock.now()
        return action_with_form(
            self,
            request,
            queryset.order_by("created_at", "id"),
            action="refund",
            form_class=RefundForm,
            title="Refund online payments",
            submit_label="Refund these transactions",
            template="admin/gateway/refund.html",
            perform=lambda txn, data: gateway_refund(
                caller=caller, transaction_id=txn.pk, reason=data["reason"], at=at
            ),
            label=_reference,
            report=_refund_message,
        )


class ReconciliationQueueAdmin(GatewayTransactionAdmin):
    """Only the transactions that need a person: open too long, unapplied money, mismatches, refused refunds."""

    list_display = (
        "merchant_reference",
        "tenant",
        "consumer_code",
        "amount",
        "status",
        "attention_reason",
        "attention_note",
        "refunded_amount",
        "updated_at",
    )
    list_filter = ["attention_reason", "status", "gateway"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(needs_attention=True)


admin.site.register(GatewayTransaction, GatewayTransactionAdmin)
admin.site.register(ReconciliationQueueItem, ReconciliationQueueAdmin)
