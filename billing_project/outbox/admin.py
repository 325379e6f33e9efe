"""The outbox in the admin: read-only, filtered and searched; retry and discard through the services.

Staff see the messages of the tenants they reach (``billing_project.admin.tenant_scope_q``; messages without a
tenant are for superusers). Retrying and discarding need the ``kernel.change_outboxmessage`` permission.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from billing_project import clock
from billing_project.admin import ModelAdmin, ReadOnlyAdminMixin, action_with_form, apply_each, tenant_scope_q
from billing_project.models import WebhookSubscription
from billing_project.outbox.models import OutboxMessage
from billing_project.outbox.services import outbox_message_discard, outbox_message_retry


class DiscardForm(forms.Form):
    reason = forms.CharField(max_length=500, help_text="Why the message must not be sent (kept on the message).")


def _pretty(value: Any) -> str:
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = (
        "created_at",
        "channel",
        "destination",
        "status",
        "attempts",
        "next_attempt_at",
        "tenant_code",
        "subject",
        "recipient",
        "error_excerpt",
    )
    list_filter = ("status", "channel", "tenant_code", ("created_at", admin.DateFieldListFilter))
    search_fields = ("dedupe_key", "destination", "subject", "recipient")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "id")
    actions = ["retry_messages", "discard_messages"]
    fields = (
        "id",
        "channel",
        "destination",
        "status",
        "dedupe_key",
        "tenant_code",
        "subject",
        "recipient",
        "payload_pretty",
        "headers_pretty",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "claimed_by",
        "claimed_until",
        "last_error",
        "created_at",
        "delivered_at",
        "handled_by",
        "handled_at",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(tenant_scope_q(request, "tenant_code"))

    @admin.display(description="payload")
    def payload_pretty(self, obj: OutboxMessage) -> str:
        return _pretty(obj.payload)

    @admin.display(description="headers")
    def headers_pretty(self, obj: OutboxMessage) -> str:
        return _pretty(obj.headers)

    @admin.display(description="last error")
    def error_excerpt(self, obj: OutboxMessage) -> str:
        first = obj.last_error.splitlines()[0] if obj.last_error else ""
        return first if len(first) <= 80 else first[:79] + "…"

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("kernel.change_outboxmessage"))

    @admin.action(description="Retry selected messages now", permissions=["retry"])
    def retry_messages(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        actor, at = request.user.get_username(), clock.now()
        apply_each(
            self,
            request,
            queryset.order_by("created_at", "id"),
            perform=lambda message: outbox_message_retry(message_id=message.pk, actor=actor, at=at),
            label=lambda message: f"{message.channel} {message.destination} ({message.pk})",
            done_message="{} message(s) will be delivered again now.",
        )

    @admin.action(description="Discard selected messages", permissions=["retry"])
    def discard_messages(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> HttpResponse | None:
        actor, at = request.user.get_username(), clock.now()
        return action_with_form(
            self,
            request,
            queryset.order_by("created_at", "id"),
            action="discard_messages",
            form_class=DiscardForm,
            title="Discard outbox messages",
            submit_label="Discard these messages (they will not be sent)",
            perform=lambda message, data: outbox_message_discard(
                message_id=message.pk, actor=actor, reason=data["reason"], at=at
            ),
            label=lambda message: f"{message.channel} {message.destination} ({message.status}, {message.pk})",
            done_message="Discarded {} message(s).",
        )


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(ModelAdmin):
    """Subscribers of signed webhooks; their deliveries are the outbox messages of channel ``webhook`` (recipient =
    the subscription's name), each with its attempts and last error."""

    list_display = ["name", "url", "active", "events", "tenant_codes", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]
    fields = ["name", "url", "secret", "events", "tenant_codes", "active"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)
