"""Admin for bills and billing runs: read-only records (writes go through the services).

- Bills: filters, search, each period with its tax-head lines, a link to the printable bill, and a
  "Cancel selected bills" action that asks for the reason and calls ``bill_cancel_one`` per bill.
- Billing runs: start one (tenant, business service, optionally consumer codes), watch its progress live (the
  run's page polls ``<id>/progress/`` and moves its progress bar without a reload), the consumers it could not
  bill, and on the run's page "Cancel" (asks for the reason) and "Resume" — each one service call
  (``billing_run_start``, ``billing_run_cancel``, ``billing_run_resume``), written to the run's history.

Staff who are not superusers see the rows of the tenants they reach.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from billing_project import clock
from billing_project.admin import (
    ModelAdmin,
    ObjectButtonsMixin,
    ReadOnlyAdminMixin,
    TabularInline,
    action_with_form,
    object_action,
    record_history,
)
from billing_project.admin_site import BillingAdminSite, ExtraView
from billing_project.errors import DomainError
from bills.models import Bill, BillDetail, BillingRun, BillingRunError, BillStatus, RunStatus
from bills.selectors import effective_status
from bills.services import (
    DEFAULT_CHUNK_SIZE,
    FINISHED,
    MAX_CHUNK,
    RUN_ROLES,
    bill_cancel_one,
    billing_run_cancel,
    billing_run_resume,
    billing_run_start,
)
from masters.access import caller_for
from masters.models import BusinessService, Tenant
from masters.selectors import tax_head_names


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
        lines = list(obj.account_details.all())
        names = tax_head_names(obj.bill.tenant.code, {line.tax_head_code for line in lines})
        rows = format_html_join(
            "",
            '<tr><td>{} <span class="bo-muted">{}</span></td><td style="text-align:right">{}</td></tr>',
            ((names.get(line.tax_head_code, ""), line.tax_head_code, line.amount) for line in lines),
        )
        return format_html("<table><tbody>{}</tbody></table>", rows)


class PeriodFilter(admin.SimpleListFilter):
    """Bills by the financial year of their oldest period (April–March, as the tax periods run)."""

    title = "period"
    parameter_name = "period"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = model_admin.get_queryset(request).order_by().values_list("details__from_period__year", flat=True)
        found = sorted({y for y in years if y is not None}, reverse=True)
        return [(str(y), f"{y}-{(y + 1) % 100:02d}") for y in found]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value and value.isdigit():
            year = int(value)
            zone = clock.billing_zone()
            start = dt.datetime(year, 4, 1, tzinfo=zone)
            end = dt.datetime(year + 1, 4, 1, tzinfo=zone)
            return queryset.filter(details__from_period__gte=start, details__from_period__lt=end).distinct()
        return queryset


@admin.register(Bill)
class BillAdmin(ObjectButtonsMixin, ReadOnlyAdminMixin, ModelAdmin):
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
    list_filter = [
        "status",
        "business_service",
        PeriodFilter,
        "bill_date",
        ("tenant", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["bill_number", "consumer_code", "=mobile_number", "payer_name"]
    search_help_text = "Bill number, consumer code, payer name or mobile number."
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

    def object_buttons(self, request: HttpRequest, obj: Bill) -> list[tuple[str, str, str]]:
        buttons = [
            (reverse("admin:counter_consumer", args=[obj.account_id]), "Consumer page", "consumer-page"),
            (reverse("bill-print", args=[obj.pk]), "Print bill", "print-bill"),
        ]
        if obj.status == BillStatus.ACTIVE and request.user.has_perm("bills.change_bill"):
            buttons.insert(0, (reverse("admin:bills_bill_cancel", args=[obj.pk]), "Cancel bill", "cancel-bill"))
        return buttons

    def get_urls(self) -> list[URLPattern]:
        cancel = path("<uuid:pk>/cancel/", self.admin_site.admin_view(self.cancel_view), name="bills_bill_cancel")
        return [cancel, *super().get_urls()]

    def cancel_view(self, request: HttpRequest, pk: Any) -> HttpResponse:
        """The reason first, then ``bill_cancel_one``."""
        bill = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm("bills.change_bill"):
            raise PermissionDenied
        return object_action(
            self,
            request,
            bill,
            form_class=CancelBillsForm,
            title=f"Cancel bill {bill.bill_number}",
            submit_label="Cancel the bill",
            intro="The bill is cancelled; its demands stay open, so the next fetch builds a new bill.",
            facts=[
                ("Consumer", f"{bill.consumer_code} · {bill.business_service} · {bill.tenant.code}"),
                ("Amount", bill.total_amount),
                ("Status", effective_status(bill, clock.now())),
            ],
            perform=lambda data: bill_cancel_one(
                caller=caller_for(request.user),
                bill_id=bill.pk,
                reason=data["reason"],
                reason_message=data["reason_message"],
                description=data["description"],
                at=clock.now(),
            ),
            history=lambda data: f"Cancelled — reason: {data['reason']}: {data['reason_message']}",
            done_message=f"Cancelled bill {bill.bill_number}.",
        )

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


class StartRunForm(forms.Form):
    tenant = forms.ChoiceField(label="City")
    business_service = forms.ChoiceField(label="Business service")
    consumer_codes = forms.CharField(
        label="Only these consumers",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "PT-107-001, PT-107-002 (blank: every consumer)"}),
        help_text="Consumer codes separated by commas, spaces or new lines; blank bills every consumer.",
    )
    chunk_size = forms.IntegerField(
        label="Consumers per chunk", min_value=1, max_value=MAX_CHUNK, initial=DEFAULT_CHUNK_SIZE
    )

    def __init__(self, *args: Any, tenants: list[tuple[str, str]], services: list[tuple[str, str]], **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["tenant"].choices = tenants  # type: ignore[attr-defined]
        self.fields["business_service"].choices = services  # type: ignore[attr-defined]

    def clean_consumer_codes(self) -> list[str]:
        return [code for code in re.split(r"[\s,;]+", self.cleaned_data["consumer_codes"]) if code]


class CancelRunForm(forms.Form):
    reason = forms.CharField(max_length=1024, widget=forms.Textarea(attrs={"rows": 3}), help_text="Mandatory.")


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
    # The counters and status are in the live progress panel above the fields (change_form.html).
    readonly_fields = (
        "id",
        "tenant",
        "business_service",
        "consumer_codes",
        "chunk_size",
        "error",
        "cancelled_by",
        "cancel_reason",
        "created_by",
        "created_at",
        "started_at",
        "updated_at",
    )
    fields = readonly_fields
    inlines = [BillingRunErrorInline]
    change_form_template = "admin/bills/billingrun/change_form.html"
    change_list_template = "admin/bills/billingrun/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _scoped(super().get_queryset(request), request)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("start/", view(self.start_view), name="bills_billingrun_start"),
            path("<int:pk>/progress/", view(self.progress_view), name="bills_billingrun_progress"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="bills_billingrun_cancel"),
            path("<int:pk>/resume/", view(require_POST(self.resume_view)), name="bills_billingrun_resume"),
            *super().get_urls(),
        ]

    def _may_run(self, request: HttpRequest) -> bool:
        return request.user.has_perm("bills.add_billingrun")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return super().changelist_view(request, {**(extra_context or {}), "may_start_run": self._may_run(request)})

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        run = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if run is not None:
            extra.update(run_context(run))
            extra["may_run"] = self._may_run(request) and request.user.has_perm("bills.change_billingrun")
        return super().change_view(request, object_id, form_url, extra)

    def start_view(self, request: HttpRequest) -> HttpResponse:
        """Start a run (``billing_run_start``), then show its page with the live progress bar."""
        if not self._may_run(request):
            raise PermissionDenied
        caller = caller_for(request.user)
        tenants = Tenant.objects.filter(caller.tenant_q("code", RUN_ROLES), state__isnull=False).order_by("code")
        tenant_choices = [(t.code, f"{t.name or t.code} ({t.code})") for t in tenants]
        states = {t.code.split(".")[0] for t in tenants} | {t.code for t in tenants}
        codes = (
            BusinessService.objects.filter(tenant__code__in=states)
            .order_by("code")
            .values_list("code", "business_service")
        )
        service_choices = list(dict.fromkeys((code, f"{code} · {name}") for code, name in codes))
        form = StartRunForm(request.POST or None, tenants=tenant_choices, services=service_choices)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                run = billing_run_start(
                    caller=caller,
                    tenant_code=data["tenant"],
                    business_service=data["business_service"],
                    consumer_codes=data["consumer_codes"] or None,
                    chunk_size=data["chunk_size"],
                    at=clock.now(),
                )
            except DomainError as exc:
                form.add_error(None, f"{exc.message} [{exc.code}]")
            else:
                self.log_addition(request, run, "Started from the admin")
                self.message_user(request, f"Billing run {run.pk} started.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:bills_billingrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Start a billing run",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/bills/billingrun/start.html", context)

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """The run's progress as JSON, polled by its page."""
        run = get_object_or_404(self.get_queryset(request), pk=pk)
        return JsonResponse(run_progress(run))

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Ask for the reason, then ``billing_run_cancel``."""
        run = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm("bills.change_billingrun"):
            raise PermissionDenied
        form = CancelRunForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                billing_run_cancel(
                    caller=caller_for(request.user), run_id=run.pk, reason=form.cleaned_data["reason"], at=clock.now()
                )
            except DomainError as exc:
                self.message_user(request, f"{exc.message} [{exc.code}]", messages.ERROR)
            else:
                record_history(self, request, run, f"Cancelled — reason: {form.cleaned_data['reason']}")
                self.message_user(request, f"Billing run {run.pk} cancelled.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:bills_billingrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Cancel billing run {run.pk}",
            "opts": self.model._meta,
            "form": form,
            "run": run,
        }
        return TemplateResponse(request, "admin/bills/billingrun/cancel.html", context)

    def resume_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = get_object_or_404(self.get_queryset(request), pk=pk)
        if not request.user.has_perm("bills.change_billingrun"):
            raise PermissionDenied
        try:
            billing_run_resume(caller=caller_for(request.user), run_id=run.pk, at=clock.now())
        except DomainError as exc:
            self.message_user(request, f"{exc.message} [{exc.code}]", messages.ERROR)
        else:
            record_history(
                self,
                request,
                run,
                f"Resumed (was {run.get_status_display().lower()}: {run.error or run.cancel_reason or '-'})",
            )
            self.message_user(request, f"Billing run {run.pk} resumed.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:bills_billingrun_change", args=[run.pk]))

    @admin.display(description="processed")
    def progress(self, obj: BillingRun) -> str:
        return f"{obj.processed}/{obj.total_consumers}"

    @admin.display(description="%")
    def percent(self, obj: BillingRun) -> str:
        return f"{obj.progress_percent:.1f} %"


def run_progress(run: BillingRun) -> dict[str, Any]:
    """What the run's page shows live: status, counters, percent, the latest per-consumer errors."""
    errors = list(run.errors.order_by("-id").values("consumer_code", "code", "message")[:20])
    finished = run.finished_at
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": run.get_status_display(),
        "finished": run.status in FINISHED,
        "total": run.total_consumers,
        "processed": run.processed,
        "bills_created": run.bills_created,
        "skipped": run.skipped,
        "failed": run.failed,
        "percent": run.progress_percent,
        "error": run.error,
        "cancel_reason": run.cancel_reason,
        "finished_at": timezone.localtime(finished).strftime("%d %b %Y %H:%M:%S") if finished else "",
        "errors": errors,
    }


def run_context(run: BillingRun) -> dict[str, Any]:
    return {
        "progress": run_progress(run),
        "can_cancel": run.status not in FINISHED,
        "can_resume": run.status in (RunStatus.FAILED, RunStatus.CANCELLED),
    }


if isinstance(admin.site, BillingAdminSite):
    admin.site.register_view(
        ExtraView(
            "",
            None,
            "bills_billingrun_start",
            order=40,
            title="Start a billing run",
            description="Bill every consumer of a business service (or a list of them); watch it run; resume it.",
            permission="bills.add_billingrun",
        )
    )
