"""Admin for master data, tenants, roles, payers and id formats, plus the "Upload MDMS files" page.

Non-superuser staff see the rows of the tenants they hold a role in (and those tenants' states, for
master data), and change or delete only rows of tenants where they are BILLING_ADMIN. Id sequences are
read-only: they are drawn by the id generator, never edited by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db.models import ForeignKey, Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from billing_project.admin import ModelAdmin, ReadOnlyAdminMixin, apply_each
from billing_project.admin_site import BillingAdminSite
from billing_project.errors import VALIDATION_ERROR, DomainError
from masters.access import caller_for
from masters.domain.mdms import SUPPORTED_MASTERS
from masters.errors import MdmsInvalid
from masters.models import (
    BusinessService,
    GLCode,
    IdFormat,
    IdSequence,
    Payer,
    Role,
    TaxHeadMaster,
    TaxPeriod,
    Tenant,
    UserRole,
)
from masters.services import (
    ROLE_GRANTERS,
    SUPERUSER_ONLY_ROLES,
    BusinessServiceChanges,
    BusinessServiceOptions,
    TaxHeadChanges,
    TaxHeadOptions,
    TaxPeriodChanges,
    business_service_create,
    business_service_update,
    id_format_create,
    id_format_update,
    mdms_load,
    tax_head_create,
    tax_head_update,
    tax_period_create,
    tax_period_update,
    user_role_grant,
    user_role_revoke,
)

if TYPE_CHECKING:
    ModelChoiceField = forms.ModelChoiceField[Any]
else:  # not subscriptable at run time
    ModelChoiceField = forms.ModelChoiceField

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def tenant_context(request: HttpRequest) -> dict[str, str]:
    """The header's tenant label: the tenants of the user's roles ("All tenants" for a superuser)."""
    caller = caller_for(request.user)
    if caller.user_id is None:
        return {}
    if caller.is_superuser:
        return {"tenant_label": "All tenants"}
    codes = sorted(caller.tenants_with())
    names = dict(Tenant.objects.filter(code__in=codes).values_list("code", "name"))
    return {"tenant_label": ", ".join(f"{names.get(code) or code} ({code})" for code in codes)}


if isinstance(admin.site, BillingAdminSite):
    admin.site.add_context(tenant_context)
MASTER_WRITERS = (Role.BILLING_ADMIN, Role.SUPERUSER)


class TenantScopedAdmin(ModelAdmin):
    """Rows of the caller's tenants (and their states) only; writes need BILLING_ADMIN in the row's tenant."""

    tenant_field = "tenant"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        codes = caller_for(request.user).master_tenant_codes()
        if codes is None:
            return queryset
        return queryset.filter(**{f"{self.tenant_field}__code__in": codes})

    def _may_write(self, request: HttpRequest, obj: Model | None) -> bool:
        if obj is None:
            return True
        tenant = getattr(obj, self.tenant_field)
        return caller_for(request.user).has_role(tenant.code, MASTER_WRITERS)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and self._may_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self._may_write(request, obj)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        caller = caller_for(request.user)
        if db_field.name == self.tenant_field and not caller.is_superuser:
            kwargs["queryset"] = Tenant.objects.filter(caller.tenant_q("code", roles=MASTER_WRITERS))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ServiceRefused(Exception):
    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


class ServiceWrittenAdmin(TenantScopedAdmin):
    """Master data added and changed through the catalogue services (the form checks the fields, the service
    validates across rows and writes, in its own durable transaction); never deleted here — a load or a
    service keeps rows. A refusal is shown with its code and nothing is written."""

    #: The fields ``create`` takes besides the tenant, and the ones ``update`` may change.
    create_keys: frozenset[str] = frozenset()
    change_keys: frozenset[str] = frozenset()

    def create(self, *, tenant_code: str, data: dict[str, Any]) -> Model:
        raise NotImplementedError

    def update(self, *, pk: int, changes: dict[str, Any]) -> Model:
        raise NotImplementedError

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # The service's durable transaction does the write, so the admin does not open one around it.
        try:
            return self._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[attr-defined,no-any-return]
        except ServiceRefused as refused:
            self.message_user(request, f"{refused.error.message} [{refused.error.code}]", messages.ERROR)
            for name, problems in (refused.error.fields or {}).items():
                for problem in problems:
                    self.message_user(request, f"{name}: {problem}", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = dict(form.cleaned_data)
        try:
            if change:
                changes = {name: data[name] for name in form.changed_data}
                fixed = sorted(set(changes) - self.change_keys)
                if fixed:
                    raise DomainError(VALIDATION_ERROR, f"Cannot be changed here: {', '.join(fixed)}.")
                saved = self.update(pk=obj.pk, changes=changes) if changes else obj
            else:
                fields = {name: data[name] for name in self.create_keys if name in data}
                saved = self.create(tenant_code=data[self.tenant_field].code, data=fields)
        except DomainError as exc:
            raise ServiceRefused(exc) from exc
        obj.pk = saved.pk


def _keys(typed: Any) -> frozenset[str]:
    return frozenset(typed.__annotations__)


@admin.register(Tenant)
class TenantAdmin(ReadOnlyAdminMixin, ModelAdmin):
    """Read-only: tenants are created by ``tenant_ensure`` (commands, MDMS loads, seed data)."""

    list_display = ("code", "name", "state", "is_active", "created_at")
    list_filter = ("is_active", ("state", admin.RelatedOnlyFieldListFilter))
    search_fields = ("code", "name")
    list_select_related = ("state",)
    readonly_fields = ("created_at",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        queryset = super().get_queryset(request)
        codes = caller_for(request.user).master_tenant_codes()
        return queryset if codes is None else queryset.filter(code__in=codes)


class UserRoleGrantForm(forms.ModelForm):  # type: ignore[type-arg]
    """Grant a role: the user by name (staff need no access to the user list), the tenant, the role."""

    username = forms.CharField(max_length=150, help_text="The login name of the user to give the role to.")

    class Meta:
        model = UserRole
        fields = ("tenant", "role")

    def clean_username(self) -> str:
        from django.contrib.auth import get_user_model

        name = str(self.cleaned_data["username"]).strip()
        user = get_user_model().objects.filter(username=name).first()
        if user is None:
            raise forms.ValidationError(f"No user named {name!r}.")
        self.instance.user = user
        return name


@admin.register(UserRole)
class UserRoleAdmin(ModelAdmin):
    """Roles of the caller's tenants. Granting and revoking go through ``user_role_grant`` /
    ``user_role_revoke`` (BILLING_ADMIN of the tenant; SUPERUSER and SYSTEM by superusers only); a grant is
    not edited in place — revoke it and grant another."""

    list_display = ("user", "tenant", "role")
    list_filter = ("role", ("tenant", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__username", "user__email", "tenant__code")
    list_select_related = ("user", "tenant")
    actions = ["revoke_roles"]
    form = UserRoleGrantForm
    fields = ("username", "tenant", "role")

    def get_queryset(self, request: HttpRequest) -> QuerySet[UserRole]:
        return super().get_queryset(request).filter(caller_for(request.user).tenant_q("tenant__code"))

    def get_actions(self, request: HttpRequest) -> Any:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_change_permission(self, request: HttpRequest, obj: UserRole | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: UserRole | None = None) -> bool:
        return False  # revoking is the "Revoke selected roles" action (a service call)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("masters.delete_userrole")

    def changeform_view(
        self, request: HttpRequest, object_id: str | None = None, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # The grant is the service's own durable transaction, so the admin does not open one around it.
        return self._changeform_view(request, object_id, form_url, extra_context)  # type: ignore[attr-defined,no-any-return]

    def formfield_for_choice_field(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "role" and not request.user.is_superuser:
            kwargs["choices"] = [(v, label) for v, label in Role.choices if v not in SUPERUSER_ONLY_ROLES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        caller = caller_for(request.user)
        if db_field.name == "tenant" and not caller.is_superuser:
            kwargs["queryset"] = Tenant.objects.filter(caller.tenant_q("code", roles=ROLE_GRANTERS))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: UserRole, form: Any, change: bool) -> None:
        try:
            saved = user_role_grant(
                caller=caller_for(request.user), user_id=obj.user_id, tenant_code=obj.tenant.code, role=obj.role
            )
        except DomainError as exc:
            raise PermissionDenied(f"{exc.code}: {exc.message}") from exc
        obj.pk = saved.pk

    @admin.action(description="Revoke selected roles", permissions=["revoke"])
    def revoke_roles(self, request: HttpRequest, queryset: QuerySet[UserRole]) -> None:
        caller = caller_for(request.user)
        apply_each(
            self,
            request,
            queryset.select_related("user", "tenant"),
            perform=lambda grant: user_role_revoke(caller=caller, user_role_id=grant.pk),
            label=str,
            done_message="Revoked {} role(s).",
            history="Revoked",
        )


class MdmsFilesInput(forms.FileInput):
    allow_multiple_selected = True


class MdmsFilesField(forms.FileField):
    """One or more uploaded files, as a list."""

    widget = MdmsFilesInput

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        items = list(data) if isinstance(data, list | tuple) else [data] if data else []
        if not items:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        single = super().clean
        return [single(item, initial) for item in items]


class MdmsUploadForm(forms.Form):
    documents = MdmsFilesField(
        label="MDMS files",
        help_text="One or more MDMS JSON documents; all are loaded together, or none when one is invalid.",
        widget=MdmsFilesInput(attrs={"accept": ".json,application/json"}),
    )

    def clean_documents(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data["documents"]
        too_big = [upload.name for upload in files if (upload.size or 0) > MAX_UPLOAD_BYTES]
        if too_big:
            raise forms.ValidationError(
                f"Larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: {', '.join(str(name) for name in too_big)}"
            )
        return files


@admin.register(BusinessService)
class BusinessServiceAdmin(ServiceWrittenAdmin):
    change_list_template = "admin/masters/businessservice/change_list.html"
    list_display = (
        "code",
        "business_service",
        "tenant",
        "type",
        "part_payment_allowed",
        "is_advance_allowed",
        "is_bill_amendment_enabled",
        "fractional_payment_allowed",
        "min_amount_payable",
        "is_active",
    )
    list_filter = (
        ("tenant", admin.RelatedOnlyFieldListFilter),
        "type",
        "is_active",
        "part_payment_allowed",
        "is_advance_allowed",
        "is_bill_amendment_enabled",
    )
    search_fields = ("code", "business_service")
    list_select_related = ("tenant",)
    readonly_fields = ("updated_at",)
    create_keys = frozenset({"code", "business_service"}) | _keys(BusinessServiceOptions)
    change_keys = _keys(BusinessServiceChanges)

    def create(self, *, tenant_code: str, data: dict[str, Any]) -> Model:
        return business_service_create(tenant_code=tenant_code, **data)

    def update(self, *, pk: int, changes: dict[str, Any]) -> Model:
        return business_service_update(business_service_id=pk, **changes)

    def get_urls(self) -> list[URLPattern]:
        upload = path(
            "upload-mdms/",
            self.admin_site.admin_view(self.upload_mdms_view),
            name="masters_businessservice_upload_mdms",
        )
        return [upload, *super().get_urls()]

    def upload_mdms_view(self, request: HttpRequest) -> HttpResponse:
        """Upload MDMS files and load them with ``mdms_load``; the report or the error become messages."""
        if not request.user.is_superuser:
            # ``mdms_load`` writes the masters of every tenant named in the files; a billing role is per tenant.
            raise PermissionDenied
        form = MdmsUploadForm(request.POST, request.FILES) if request.method == "POST" else MdmsUploadForm()
        if form.is_bound and form.is_valid():
            documents: list[tuple[str, bytes | str]] = [
                (str(upload.name), upload.read()) for upload in form.cleaned_data["documents"]
            ]
            try:
                report = mdms_load(documents=documents)
            except MdmsInvalid as exc:
                self.message_user(request, "The upload was refused; nothing was loaded.", messages.ERROR)
                problems = [f"{name}: {problem}" for name, items in exc.fields.items() for problem in items]
                for problem in problems or [exc.message]:
                    self.message_user(request, problem, messages.ERROR)
            else:
                for line in report.lines():
                    self.message_user(request, line, messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:masters_businessservice_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload MDMS files",
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "supported_masters": SUPPORTED_MASTERS,
        }
        return TemplateResponse(request, "admin/masters/mdms_upload.html", context)


@admin.register(TaxHeadMaster)
class TaxHeadMasterAdmin(ServiceWrittenAdmin):
    list_display = (
        "code",
        "name",
        "service",
        "category",
        "order",
        "tenant",
        "is_debit",
        "is_actual_demand",
        "is_bill_amend",
    )
    list_filter = (
        ("tenant", admin.RelatedOnlyFieldListFilter),
        "service",
        "category",
        "is_debit",
        "is_actual_demand",
    )
    search_fields = ("code", "name", "service")
    list_select_related = ("tenant",)
    readonly_fields = ("updated_at",)
    create_keys = frozenset({"code", "service", "name", "category"}) | _keys(TaxHeadOptions)
    change_keys = _keys(TaxHeadChanges)

    def create(self, *, tenant_code: str, data: dict[str, Any]) -> Model:
        return tax_head_create(tenant_code=tenant_code, **data)

    def update(self, *, pk: int, changes: dict[str, Any]) -> Model:
        return tax_head_update(tax_head_id=pk, **changes)


@admin.register(TaxPeriod)
class TaxPeriodAdmin(ServiceWrittenAdmin):
    list_display = ("code", "service", "financial_year", "period_cycle", "from_date", "to_date", "tenant")
    list_filter = (("tenant", admin.RelatedOnlyFieldListFilter), "service", "period_cycle", "financial_year")
    search_fields = ("code", "service", "financial_year")
    list_select_related = ("tenant",)
    date_hierarchy = "from_date"
    readonly_fields = ("updated_at",)
    create_keys = frozenset({"service", "code", "from_date", "to_date", "period_cycle", "financial_year", "extra"})
    change_keys = _keys(TaxPeriodChanges)

    def create(self, *, tenant_code: str, data: dict[str, Any]) -> Model:
        return tax_period_create(tenant_code=tenant_code, **data)

    def update(self, *, pk: int, changes: dict[str, Any]) -> Model:
        return tax_period_update(tax_period_id=pk, **changes)


@admin.register(GLCode)
class GLCodeAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    """Read-only: GL codes come with the MDMS files (no service edits them)."""

    list_display = ("code", "gl_code", "cb", "tenant")
    list_filter = (("tenant", admin.RelatedOnlyFieldListFilter), "cb")
    search_fields = ("code", "gl_code", "cb")
    list_select_related = ("tenant",)


@admin.register(Payer)
class PayerAdmin(ReadOnlyAdminMixin, TenantScopedAdmin):
    """Read-only: payers are registered and changed through the payer services (REST API, demands)."""

    list_display = ("name", "mobile_number", "email", "type", "tenant", "active", "user")
    list_filter = (("tenant", admin.RelatedOnlyFieldListFilter), "type", "active")
    search_fields = ("name", "mobile_number", "email")
    list_select_related = ("tenant", "user")
    raw_id_fields = ("user",)
    readonly_fields = ("uuid", "created_at", "updated_at")


@admin.register(IdFormat)
class IdFormatAdmin(ServiceWrittenAdmin):
    list_display = ("id_name", "format", "tenant")
    list_filter = (("tenant", admin.RelatedOnlyFieldListFilter), "id_name")
    search_fields = ("id_name", "format")
    list_select_related = ("tenant",)
    create_keys = frozenset({"id_name", "format"})
    change_keys = frozenset({"format"})

    def create(self, *, tenant_code: str, data: dict[str, Any]) -> Model:
        return id_format_create(tenant_code=tenant_code, **data)

    def update(self, *, pk: int, changes: dict[str, Any]) -> Model:
        return id_format_update(id_format_id=pk, **changes)


class SequenceUsedFilter(admin.SimpleListFilter):
    title = "used"
    parameter_name = "used"

    def lookups(self, request: HttpRequest, model_admin: ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Numbers drawn"), ("no", "Never drawn")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(last_value__gt=0)
        if self.value() == "no":
            return queryset.filter(last_value=0)
        return queryset


@admin.register(IdSequence)
class IdSequenceAdmin(ModelAdmin):
    """Read-only: a hand edit could hand out a number twice."""

    list_display = ("name", "last_value")
    list_filter = (SequenceUsedFilter,)
    search_fields = ("name",)
    readonly_fields = ("name", "last_value")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IdSequence | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: IdSequence | None = None) -> bool:
        return False
