"""Admin for amendments: read-only records (writes go through the services).

Amendments with their lines, documents and transition history inline; filters by state, status, reason and
business service. Actions "Approve", "Reject" and "Send back" ask for a comment and call
``amendment_transition`` per amendment; domain errors (self-approval, wrong state, missing role) become
error messages. Staff who are not superusers see the amendments of the tenants they reach.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from amendments.domain.workflow import Action
from amendments.models import Amendment, AmendmentDocument, AmendmentTaxDetail, AmendmentTransition
from amendments.selectors import READ_ROLES
from amendments.services import amendment_transition
from billing_project import clock
from billing_project.admin import ModelAdmin, ReadOnlyAdminMixin, TabularInline, action_with_form
from masters.access import caller_for

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
    readonly_fields = ("position", "tax_head_code", "tax_amount", "id")
    fields = readonly_fields
    extra = 0


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
