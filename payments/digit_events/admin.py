"""Staff see every DIGIT payment message and what happened to it; parked ones can be retried once fixed."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from billing_project import clock
from billing_project.admin import ModelAdmin, ReadOnlyAdminMixin, apply_each
from payments.digit_events.models import DigitPaymentEvent, EventStatus
from payments.digit_events.services import digit_payment_event_retry


@admin.register(DigitPaymentEvent)
class DigitPaymentEventAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = ["received_at", "topic", "partition", "offset", "kind", "payment_id", "status", "error_code"]
    list_filter = ["status", "kind", "topic"]
    search_fields = ["payment_id", "error_code", "tenant_code"]
    date_hierarchy = "received_at"
    readonly_fields = [f.name for f in DigitPaymentEvent._meta.fields]
    actions = ["retry_parked"]

    @admin.action(description="Apply the selected parked messages again", permissions=["view"])
    def retry_parked(self, request: HttpRequest, queryset: QuerySet[DigitPaymentEvent]) -> None:
        if not request.user.has_perm("digit_events.change_digitpaymentevent"):
            self.message_user(request, "You may not retry DIGIT payment messages.", messages.ERROR)
            return
        at = clock.now()

        def report(event: DigitPaymentEvent, result: DigitPaymentEvent) -> tuple[str, int]:
            if result.status == EventStatus.PARKED:
                return f"{event}: still parked: {result.error_code}: {result.error_message}", messages.WARNING
            return f"{event}: {result.status}", messages.SUCCESS

        apply_each(
            self,
            request,
            queryset.filter(status=EventStatus.PARKED).order_by("received_at", "pk"),
            perform=lambda event: digit_payment_event_retry(event_id=event.pk, at=at),
            report=report,
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_staff and super().has_view_permission(request, obj))
