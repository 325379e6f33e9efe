"""Admin for payments: read-only records (writes go through the services).

Payments with their receipts (one ``PaymentDetail`` per bill) inline, filters (mode, status, created date,
cashier), search (receipt number, transaction number, mobile number) and a link to the printable receipt.
Staff who are not superusers see the payments of the tenants where they hold a payment role.

Actions "Cancel selected payments" and "Dishonour selected payments" ask for a reason and call
``payment_cancel`` / ``payment_dishonour`` per payment; domain errors become admin messages. The "Daily
collection summary" view (``summary/``) totals one billing day's live payments by mode and by business service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, DecimalField, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
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
from billing_project.admin_site import BillingAdminSite, ExtraView
from masters.access import caller_for
from payments.desk import views as desk
from payments.models import Payment, PaymentDetail, PaymentStatus
from payments.selectors import PAYMENT_ROLES
from payments.services import INSTRUMENT_MODES, payment_cancel, payment_dishonour

if isinstance(admin.site, BillingAdminSite):
    for page in (
        ExtraView(
            "counter/",
            desk.desk_search,
            "counter_desk",
            order=10,
            title="Counter desk",
            description="Find a consumer by code, payer name, mobile or bill number; fetch the bill; take a payment.",
            permission=desk.CONSUMER_PERMISSION,
        ),
        ExtraView(
            "",
            None,
            "payments_payment_summary",
            order=20,
            title="Today's collections",
            description="The day's payments by mode and business service, per cashier.",
            permission="payments.view_payment",
        ),
        ExtraView("counter/consumer/<int:account_id>/", desk.consumer_view, "counter_consumer"),
        ExtraView("counter/consumer/<int:account_id>/fetch-bill/", desk.fetch_bill_view, "counter_fetch_bill"),
        ExtraView("counter/consumer/<int:account_id>/pay/", desk.pay_view, "counter_pay"),
        ExtraView("counter/payment/<uuid:payment_id>/", desk.paid_view, "counter_paid"),
    ):
        admin.site.register_view(page)

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=14, decimal_places=2))
LIVE_EXCLUDED = (PaymentStatus.CANCELLED, PaymentStatus.DISHONOURED)


def money_sum(field: str) -> Coalesce:
    """Decimal sum of ``field`` computed by the database, 0.00 when there is no row."""
    return Coalesce(Sum(field), ZERO, output_field=DecimalField(max_digits=14, decimal_places=2))


class ReversePaymentsForm(forms.Form):
    reason = forms.CharField(max_length=1024, widget=forms.Textarea(attrs={"rows": 3}), help_text="Mandatory.")


class SummaryForm(forms.Form):
    day = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    cashier = forms.CharField(max_length=150, required=False)


def payment_label(payment: Payment) -> str:
    """The payment's first receipt number, or its id when it has none."""
    receipts = sorted(detail.receipt_number for detail in payment.details.all())
    return receipts[0] if receipts else str(payment.pk)


class CashierFilter(admin.SimpleListFilter):
    title = "cashier"
    parameter_name = "created_by"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        names = model_admin.get_queryset(request).order_by("created_by").values_list("created_by", flat=True)
        return [(name, name) for name in dict.fromkeys(names)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(created_by=value) if value else queryset


class ServiceFilter(admin.SimpleListFilter):
    title = "business service"
    parameter_name = "service"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = PaymentDetail.objects.filter(payment__in=model_admin.get_queryset(request)).order_by("business_service")
        return [(code, code) for code in codes.values_list("business_service", flat=True).distinct()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(details__business_service=value).distinct() if value else queryset


class PaymentDetailInline(ReadOnlyAdminMixin, TabularInline):
    model = PaymentDetail
    fields = ("receipt_number", "bill", "business_service", "total_due", "total_amount_paid", "receipt_date")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False


@admin.register(Payment)
class PaymentAdmin(ObjectButtonsMixin, ReadOnlyAdminMixin, ModelAdmin):
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
    list_filter = [
        "payment_mode",
        "status",
        "created_at",
        CashierFilter,
        ServiceFilter,
        ("tenant", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "details__receipt_number",
        "details__bill__consumer_code",
        "details__bill__bill_number",
        "payer_name",
        "paid_by",
        "=instrument_number",
        "=transaction_number",
        "=mobile_number",
    ]
    search_help_text = (
        "Receipt number, consumer code, bill number, payer name, cheque/DD number, transaction number or mobile."
    )
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
    actions = ["cancel_payments", "dishonour_payments"]
    change_list_template = "admin/payments/payment_change_list.html"

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

    # Buttons on the payment's page ---------------------------------------------------------------------------

    def object_buttons(self, request: HttpRequest, obj: Payment) -> list[tuple[str, str, str]]:
        buttons = [(reverse("payment-receipt", args=[obj.pk]), "Print receipt", "print-receipt")]
        detail = next(iter(obj.details.all()), None)
        if detail is not None:
            buttons.append(
                (reverse("admin:counter_consumer", args=[detail.bill.account_id]), "Consumer page", "consumer-page")
            )
        if obj.status not in LIVE_EXCLUDED and request.user.has_perm("payments.change_payment"):
            buttons.insert(
                0,
                (
                    reverse("admin:payments_payment_reverse", args=[obj.pk, "cancel"]),
                    "Cancel payment",
                    "cancel-payment",
                ),
            )
            if obj.payment_mode in INSTRUMENT_MODES:
                buttons.insert(
                    1,
                    (
                        reverse("admin:payments_payment_reverse", args=[obj.pk, "dishonour"]),
                        "Dishonour",
                        "dishonour-payment",
                    ),
                )
        return buttons

    def reverse_view(self, request: HttpRequest, pk: Any, kind: str) -> HttpResponse:
        """Cancel or dishonour one payment: the reason first, then ``payment_cancel`` / ``payment_dishonour``."""
        payment = get_object_or_404(self.get_queryset(request), pk=pk)
        if kind not in ("cancel", "dishonour"):
            raise Http404
        if not request.user.has_perm("payments.change_payment"):
            raise PermissionDenied
        service = payment_cancel if kind == "cancel" else payment_dishonour
        verb = "Cancel" if kind == "cancel" else "Dishonour"
        label = payment_label(payment)
        return object_action(
            self,
            request,
            payment,
            form_class=ReversePaymentsForm,
            title=f"{verb} payment {label}",
            submit_label=f"{verb} the payment",
            intro="What the payment applied to the demands is taken back exactly; the bill is cancelled so the "
            "consumer's dues are billed again.",
            facts=[
                ("Receipt", label),
                ("Amount", payment.total_amount_paid),
                ("Mode", payment.get_payment_mode_display()),
                ("Taken by", payment.created_by),
            ],
            perform=lambda data: service(
                caller=caller_for(request.user), payment_id=payment.pk, reason=data["reason"], at=clock.now()
            ),
            history=lambda data: f"{verb}{'led' if kind == 'cancel' else 'ed'} — reason: {data['reason']}",
            done_message=f"{verb}{'led' if kind == 'cancel' else 'ed'} payment {label}.",
        )

    # Actions --------------------------------------------------------------------------------------------------

    @admin.action(description="Cancel selected payments")
    def cancel_payments(self, request: HttpRequest, queryset: QuerySet[Payment]) -> HttpResponse | None:
        return self._reverse_action(
            request, queryset, action="cancel_payments", service=payment_cancel, verb="Cancel", done_verb="Cancelled"
        )

    @admin.action(description="Dishonour selected payments")
    def dishonour_payments(self, request: HttpRequest, queryset: QuerySet[Payment]) -> HttpResponse | None:
        return self._reverse_action(
            request,
            queryset,
            action="dishonour_payments",
            service=payment_dishonour,
            verb="Dishonour",
            done_verb="Dishonoured",
        )

    def _reverse_action(
        self,
        request: HttpRequest,
        queryset: QuerySet[Payment],
        *,
        action: str,
        service: Callable[..., Payment],
        verb: str,
        done_verb: str,
    ) -> HttpResponse | None:
        """Ask for the reason, then call ``service`` per payment; each domain error becomes an error message."""
        caller, at = caller_for(request.user), clock.now()
        return action_with_form(
            self,
            request,
            queryset.order_by("created_at", "id"),
            action=action,
            form_class=ReversePaymentsForm,
            title=f"{verb} payments",
            submit_label=f"{verb} these payments",
            template="admin/payments/reverse_payments.html",
            context={"verb": verb},
            perform=lambda payment, data: service(caller=caller, payment_id=payment.pk, reason=data["reason"], at=at),
            label=payment_label,
            done_message=f"{done_verb} {{}} payment(s).",
        )

    # Daily collection summary ---------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        summary = path("summary/", self.admin_site.admin_view(self.summary_view), name="payments_payment_summary")
        reverse_one = path(
            "<uuid:pk>/reverse/<slug:kind>/",
            self.admin_site.admin_view(self.reverse_view),
            name="payments_payment_reverse",
        )
        return [summary, reverse_one, *super().get_urls()]

    def summary_view(self, request: HttpRequest) -> HttpResponse:
        """Totals of one billing day's payments (not cancelled or dishonoured) by mode and by business service."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SummaryForm(request.GET)
        day, cashier = clock.today(), ""
        if form.is_valid():
            day = form.cleaned_data["day"] or day
            cashier = form.cleaned_data["cashier"].strip()
        zone = clock.billing_zone()
        start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        caller = caller_for(request.user)
        day_payments = Payment.objects.filter(
            caller.tenant_q("tenant__code", PAYMENT_ROLES), created_at__gte=start, created_at__lt=end
        ).exclude(status__in=LIVE_EXCLUDED)
        cashiers = list(day_payments.order_by("created_by").values_list("created_by", flat=True).distinct())
        payments = day_payments.filter(created_by=cashier) if cashier else day_payments
        by_mode = list(
            payments.order_by("payment_mode")
            .values("payment_mode")
            .annotate(count=Count("id"), total=money_sum("total_amount_paid"))
        )
        by_service = list(
            PaymentDetail.objects.filter(payment__in=payments)
            .order_by("business_service")
            .values("business_service")
            .annotate(count=Count("id"), total=money_sum("total_amount_paid"))
        )
        totals = payments.aggregate(count=Count("id"), total=money_sum("total_amount_paid"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Daily collection summary",
            "opts": self.model._meta,
            "form": form,
            "day": day,
            "cashier": cashier,
            "cashiers": cashiers,
            "zone": str(zone),
            "by_mode": by_mode,
            "by_service": by_service,
            "count": totals["count"],
            "grand_total": totals["total"],
        }
        return TemplateResponse(request, "admin/payments/summary.html", context)
