"""Admin for amendments: read-only records (writes go through the services).

Amendments with their lines, documents and transition history inline; filters by state, status, reason and
business service. "Approve", "Reject" and "Send back" are buttons on the amendment's own page (and actions of
the list): each asks for a comment first and calls ``amendment_transition``; domain errors (self-approval,
wrong state, missing role) are shown with their code. Staff who are not superusers see the amendments of the
tenants they reach.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from amendments.domain.workflow import WORKFLOW_ACTIONS, Action
from amendments.models import Amendment, AmendmentDocument, AmendmentTaxDetail, AmendmentTransition
from amendments.selectors import READ_ROLES
from amendments.services import amendment_transition
from billing_project import clock
from billing_project.admin import ModelAdmin, ReadOnlyAdminMixin, TabularInline, action_with_form, record_history
from billing_project.admin_site import BillingAdminSite, ExtraView
from billing_project.errors import DomainError
from masters.access import caller_for
from masters.selectors import tax_head_names

#: Per decision: the admin action's name, the verb on its page and the verb of its summary message.
DECISIONS: dict[Action, tuple[str, str, str]] = {
    Action.APPROVE: ("approve_amendments", "Approve", "Approved"),
    Action.REJECT: ("reject_amendments", "Reject", "Rejected"),
    Action.SEND_BACK: ("send_back_amendments", "Send back", "Sent back"),
}


class DecisionForm(forms.Form):
    comment = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Recorded with the action."
    )


class LineInline(ReadOnlyAdminMixin, TabularInline):
    model = AmendmentTaxDetail
    readonly_fields = ("position", "tax_head", "tax_amount", "id")
    fields = readonly_fields
    extra = 0

    @admin.display(description="tax head")
    def tax_head(self, obj: AmendmentTaxDetail) -> str:
        name = tax_head_names(obj.amendment.tenant.code, [obj.tax_head_code]).get(obj.tax_head_code, "")
        return f"{name} ({obj.tax_head_code})" if name else obj.tax_head_code


class DocumentInline(ReadOnlyAdminMixin, TabularInline):
    model = AmendmentDocument
    readonly_fields = ("document_type", "file_store_id", "document_uid", "status")
    fields = readonly_fields
    extra = 0


class TransitionInline(ReadOnlyAdminMixin, TabularInline):
    model = AmendmentTransition
    readonly_fields = ("at", "action", "from_state", "to_state", "status", "actor", "comment", "demand")
    fields = readonly_fields
    ordering = ["at", "id"]
    extra = 0
    verbose_name_plural = "transition history"


@admin.register(Amendment)
class AmendmentAdmin(ReadOnlyAdminMixin, ModelAdmin):
    list_display = [
        "amendment_id",
        "tenant_code",
        "consumer_code",
        "business_service",
        "reason",
        "state",
        "status",
        "created_by",
        "created_at",
    ]
    list_filter = ["state", "status", "reason", "business_service"]
    search_fields = ["amendment_id", "consumer_code", "reason_document_number"]
    date_hierarchy = "created_at"
    readonly_fields = (
        "amendment_id",
        "tenant",
        "consumer_code",
        "business_service",
        "reason",
        "reason_document_number",
        "effective_from",
        "effective_till",
        "state",
        "status",
        "amended_demand",
        "consumed_at",
        "additional_details",
        "created_by",
        "created_at",
        "modified_by",
        "modified_at",
    )
    fields = readonly_fields
    inlines = [LineInline, DocumentInline, TransitionInline]
    actions = ["approve_amendments", "reject_amendments", "send_back_amendments"]
    change_form_template = "admin/amendments/amendment/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        decide = path(
            "<uuid:pk>/decide/<slug:decision>/",
            self.admin_site.admin_view(self.decide_view),
            name="amendments_amendment_decide",
        )
        return [decide, *super().get_urls()]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        amendment = self.get_object(request, object_id)
        extra = {**(extra_context or {})}
        if amendment is not None:
            extra.update(self._decision_context(request, amendment))
        return super().change_view(request, object_id, form_url, extra)

    def _decision_context(self, request: HttpRequest, amendment: Amendment) -> dict[str, Any]:
        """The decision buttons for this user: none without the approver's permission or for one's own."""
        caller = caller_for(request.user)
        own = (
            caller.user_id == amendment.created_by_user_id
            if amendment.created_by_user_id is not None
            else caller.username == amendment.created_by
        )
        pending = [a for a in DECISIONS if amendment.state in WORKFLOW_ACTIONS[a][0]]
        may = request.user.has_perm("amendments.change_amendment") and bool(pending)
        return {
            "decisions": [(a.value.lower(), DECISIONS[a][1]) for a in pending] if may and not own else [],
            "own_amendment": may and own,
        }

    def decide_view(self, request: HttpRequest, pk: Any, decision: str) -> HttpResponse:
        """Approve / reject / send back one amendment: the comment first, then ``amendment_transition``."""
        amendment = self.get_queryset(request).filter(pk=pk).first()
        wanted = next((a for a in DECISIONS if a.value.lower() == decision), None)
        if amendment is None or wanted is None:
            raise Http404
        if not request.user.has_perm("amendments.change_amendment"):
            raise PermissionDenied
        _, verb, done_verb = DECISIONS[wanted]
        form = DecisionForm(request.POST or None)
        page_url = reverse("admin:amendments_amendment_change", args=[amendment.pk])
        error = None
        if request.method == "POST" and form.is_valid():
            comment = form.cleaned_data["comment"]
            try:
                amendment_transition(
                    caller=caller_for(request.user),
                    amendment_pk=amendment.pk,
                    action=wanted,
                    comment=comment,
                    at=clock.now(),
                )
            except DomainError as exc:
                error = exc
            else:
                record_history(self, request, amendment, f"{verb} — comment: {comment}" if comment else verb)
                self.message_user(request, f"{done_verb} amendment {amendment.amendment_id}.", messages.SUCCESS)
                return HttpResponseRedirect(page_url)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb} amendment {amendment.amendment_id}",
            "opts": self.model._meta,
            "form": form,
            "amendment": amendment,
            "verb": verb,
            "error": error,
            "page_url": page_url,
        }
        return TemplateResponse(request, "admin/amendments/amendment/decide.html", context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        caller = caller_for(request.user)
        return (
            super().get_queryset(request).select_related("tenant").filter(caller.tenant_q("tenant__code", READ_ROLES))
        )

    @admin.display(description="tenant", ordering="tenant__code")
    def tenant_code(self, obj: Amendment) -> str:
        return obj.tenant.code

    @admin.action(description="Approve selected amendments")
    def approve_amendments(self, request: HttpRequest, queryset: QuerySet[Amendment]) -> HttpResponse | None:
        return self._decide(request, queryset, Action.APPROVE)

    @admin.action(description="Reject selected amendments")
    def reject_amendments(self, request: HttpRequest, queryset: QuerySet[Amendment]) -> HttpResponse | None:
        return self._decide(request, queryset, Action.REJECT)

    @admin.action(description="Send selected amendments back")
    def send_back_amendments(self, request: HttpRequest, queryset: QuerySet[Amendment]) -> HttpResponse | None:
        return self._decide(request, queryset, Action.SEND_BACK)

    def _decide(self, request: HttpRequest, queryset: QuerySet[Amendment], wanted: Action) -> HttpResponse | None:
        """Ask for a comment, then call ``amendment_transition`` per amendment; errors become messages."""
        action, verb, done_verb = DECISIONS[wanted]
        caller, at = caller_for(request.user), clock.now()
        return action_with_form(
            self,
            request,
            queryset.order_by("created_at", "amendment_id"),
            action=action,
            form_class=DecisionForm,
            title=f"{verb} amendments",
            submit_label=f"{verb} these amendments",
            template="admin/amendments/decide_amendments.html",
            context={"verb": verb},
            perform=lambda amendment, data: amendment_transition(
                caller=caller, amendment_pk=amendment.pk, action=wanted, comment=data["comment"], at=at
            ),
            label=lambda amendment: amendment.amendment_id,
            done_message=f"{done_verb} {{}} amendment(s).",
        )


if isinstance(admin.site, BillingAdminSite):
    admin.site.register_view(
        ExtraView(
            "",
            None,
            "amendments_amendment_changelist",
            order=30,
            title="Amendments awaiting approval",
            description="Approve, reject or send back the amendments other staff created.",
            permission="amendments.change_amendment",
            query="state__exact=APPROVALPENDING",
        )
    )
