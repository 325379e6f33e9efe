"""Admin of payment imports: upload a file (the "add" page), follow the runs, read every row's outcome.

- Import runs: the add page is an upload form (kind, tenant, CSV file) that calls ``import_run_create``; the
  run's Celery task is queued once it is committed. The list shows status, progress (processed/total) and the
  counters; the change page is read-only with the rows inline (the first ``INLINE_ROWS`` of the chosen outcome:
  ``?outcome=REJECTED``), with links to the full rows list.
- Import rows: read-only list with filters (outcome, kind, error code, date) and search (key, message, file).

Staff who are not superusers see the runs of the tenants where they hold a payment role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from billing_project import clock
from billing_project.admin import AppendOnlyAdminMixin, ModelAdmin, TabularInline
from billing_project.errors import DomainError
from billing_project.outbox.selectors import outbox_delivery_note, outbox_latest_about
from masters.access import caller_for
from masters.models import Tenant
from payments.imports.domain.csvfile import MAX_FILE_BYTES
from payments.imports.models import ImportKind, ImportRow, ImportRun, RowOutcome
from payments.imports.selectors import IMPORT_ROLES
from payments.imports.services import import_run_create, run_subject

if TYPE_CHECKING:
    ModelChoiceField = forms.ModelChoiceField[Any]
else:  # not subscriptable at run time
    ModelChoiceField = forms.ModelChoiceField

INLINE_ROWS = 500


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportKind.choices)
    tenant = ModelChoiceField(queryset=Tenant.objects.none(), to_field_name="code")
    file = forms.FileField(help_text=f"A UTF-8 CSV file of at most {MAX_FILE_BYTES // (1024 * 1024)} MB.")

    def __init__(self, *args: Any, tenants: QuerySet[Tenant], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tenant"].queryset = tenants  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if (upload.size or 0) > MAX_FILE_BYTES:
            raise forms.ValidationError(f"The file has {upload.size} bytes; at most {MAX_FILE_BYTES} are accepted.")
        return upload


def _visible(request: HttpRequest, field: str = "tenant__code") -> Any:
    return caller_for(request.user).tenant_q(field, IMPORT_ROLES)


class ImportRowInline(AppendOnlyAdminMixin, TabularInline):
    model = ImportRow
    fk_name = "run"
    fields = (
        "line_number",
        "outcome",
        "error_code",
        "error_message",
        "note",
        "payment",
        "gateway_transaction",
        "duplicate_of",
        "settlement_date",
        "raw",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = f"rows (the first {INLINE_ROWS} of the chosen outcome)"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportRow]:
        rows = super().get_queryset(request).select_related("payment", "gateway_transaction", "duplicate_of")
        outcome = request.GET.get("outcome")
        if outcome in RowOutcome.values:
            rows = rows.filter(outcome=outcome)
        # An inline cannot be sliced; a bounded id subquery keeps a 50 000-line run's page small.
        first = rows.order_by("run_id", "line_number").values("pk")[:INLINE_ROWS]
        return rows.filter(pk__in=first).order_by("line_number")


@admin.register(ImportRun)
class ImportRunAdmin(AppendOnlyAdminMixin, ModelAdmin):
    list_display = (
        "created_at",
        "file_name",
        "kind",
        "tenant",
        "status",
        "progress",
        "applied",
        "duplicate",
        "rejected",
        "uploaded_by_name",
    )
    list_filter = ("kind", "status", "created_at")
    search_fields = ("file_name", "file_sha256", "uploaded_by_name")
    date_hierarchy = "created_at"
    list_select_related = ("tenant",)
    fields = (
        "id",
        "kind",
        "tenant",
        "file_name",
        "file_sha256",
        "uploaded_by_name",
        "status",
        "progress",
        "rows_by_outcome",
        "error",
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = [ImportRowInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportRun]:
        return super().get_queryset(request).select_related("tenant").defer("content").filter(_visible(request))

    @admin.display(description="progress")
    def progress(self, obj: ImportRun) -> str:
        return f"{obj.processed}/{obj.total_rows} ({obj.progress_percent:.1f}%)"

    @admin.display(description="rows")
    def rows_by_outcome(self, obj: ImportRun) -> str:
        change = reverse("admin:payment_imports_importrun_change", args=[obj.pk])
        rows = reverse("admin:payment_imports_importrow_changelist")
        counts = {
            RowOutcome.APPLIED: obj.applied,
            RowOutcome.DUPLICATE: obj.duplicate,
            RowOutcome.REJECTED: obj.rejected,
        }
        inline = format_html_join(
            " | ",
            '<a href="{}?outcome={}">{} ({})</a>',
            ((change, outcome, outcome.label, count) for outcome, count in counts.items()),
        )
        return format_html(
            '{} | <a href="{}">all</a> — <a href="{}?run__id__exact={}">every row in the rows list</a>',
            inline,
            change,
            rows,
            obj.pk,
        )

    # The add page is the upload form -----------------------------------------------------------------------

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        caller = caller_for(request.user)
        tenants = Tenant.objects.filter(caller.tenant_q("code", IMPORT_ROLES)).order_by("code")
        form = (
            ImportUploadForm(request.POST, request.FILES, tenants=tenants)
            if request.method == "POST"
            else ImportUploadForm(tenants=tenants)
        )
        if form.is_bound and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                run = import_run_create(
                    caller=caller,
                    kind=form.cleaned_data["kind"],
                    tenant_code=form.cleaned_data["tenant"].code,
                    file_name=str(upload.name or "upload.csv"),
                    content=upload.read(),
                    at=clock.now(),
                )
            except DomainError as exc:
                form.add_error(None, f"{exc.code}: {exc.message}")
            else:
                note = outbox_delivery_note(outbox_latest_about(run_subject(run.pk)))
                self.message_user(
                    request,
                    f"Import of {run.file_name} accepted ({run.total_rows} line(s)); the job is {note}.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:payment_imports_importrun_change", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a payment import file",
            "form": form,
            "opts": self.model._meta,
            "max_mb": MAX_FILE_BYTES // (1024 * 1024),
        }
        return TemplateResponse(request, "admin/payment_imports/importrun/upload.html", context)


class OutcomeErrorFilter(admin.SimpleListFilter):
    title = "error code"
    parameter_name = "error_code"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        codes = (
            model_admin.get_queryset(request)
            .exclude(error_code="")
            .order_by("error_code")
            .values_list("error_code", flat=True)
            .distinct()
        )
        return [(code, code) for code in codes]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(error_code=value) if value else queryset


@admin.register(ImportRow)
class ImportRowAdmin(AppendOnlyAdminMixin, ModelAdmin):
    list_display = ("run", "line_number", "outcome", "error_code", "error_message", "payment", "created_at")
    list_filter = ("outcome", "run__kind", OutcomeErrorFilter, "created_at")
    search_fields = ("row_key", "error_message", "run__file_name")
    list_select_related = ("run", "payment")
    fields = (
        "run",
        "line_number",
        "outcome",
        "error_code",
        "error_message",
        "note",
        "row_key",
        "raw",
        "payment",
        "gateway_transaction",
        "duplicate_of",
        "settlement_date",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ImportRow]:
        return (
            super()
            .get_queryset(request)
            .select_related("run", "payment")
            .defer("run__content")
            .filter(_visible(request, "run__tenant__code"))
        )
