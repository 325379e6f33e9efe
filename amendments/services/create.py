"""``amendment_create`` (reference §7.10.2, fixed per DECISIONS.md).

Validations, in the reference's order and with its codes and texts:
1. the business service exists (``EG_BS_AMENDMENT_BUSINESS_ERROR``) and allows amendments
   (``EG_BS_AMENDMENT_DISABLED_ERROR``) — raised at once;
2. then, collected and raised together: no other amendment in workflow for the consumer code, any business
   service (``EG_BS_AMENDMENT_DUPLICATE_ERROR``; also a partial unique constraint), all amounts of one sign
   (``EG_BS_AMENDMENT_TAXAMOUNT_ERROR``), known tax heads of the service (``EG_BS_AMENDMENT_TAXHEAD_ERROR``),
   the effective period (``EG_BS_AMENDMENT_PERIOD_ERROR``).

With the workflow on (``settings.AMENDMENT_WORKFLOW_ENABLED``) the amendment starts in APPROVALPENDING
(status INWORKFLOW); with it off it is ACTIVE at once and applied in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction

from amendments.domain.workflow import Action, State, signs_mixed
from amendments.errors import (
    EG_BS_AMENDMENT_BUSINESS_ERROR,
    EG_BS_AMENDMENT_DETAILS_ERROR,
    EG_BS_AMENDMENT_DISABLED_ERROR,
    EG_BS_AMENDMENT_DUPLICATE_ERROR,
    EG_BS_AMENDMENT_PERIOD_ERROR,
    EG_BS_AMENDMENT_REASON_ERROR,
    EG_BS_AMENDMENT_TAXAMOUNT_ERROR,
    EG_BS_AMENDMENT_TAXHEAD_ERROR,
)
from amendments.models import (
    Amendment,
    AmendmentDocument,
    AmendmentReason,
    AmendmentStatus,
    AmendmentTaxDetail,
    AmendmentTransition,
)
from amendments.selectors import amendments_with_lines
from amendments.services.apply import lines_apply, target_demand_lock
from amendments.services.ids import amendment_id_draw
from amendments.services.inputs import AmendmentInput
from amendments.services.mirror import workflow_mirror
from billing_project.db import is_unique_violation
from billing_project.errors import DomainError, ValidationFailed
from billing_project.money import to_money
from demands.services import consumer_accounts_lock
from masters.access import Caller, require_role
from masters.models import Role, Tenant
from masters.selectors import business_services_for, tax_heads_for

CREATOR_ROLES = (Role.EMPLOYEE, Role.BILLING_ADMIN)
ONE_IN_WORKFLOW = "amendments_amendment_one_in_workflow"


def workflow_enabled() -> bool:
    return bool(getattr(settings, "AMENDMENT_WORKFLOW_ENABLED", True))


def duplicate_error(consumer_code: str) -> DomainError:
    return DomainError(
        EG_BS_AMENDMENT_DUPLICATE_ERROR,
        f"An Amendment is already in workflow for given consumercode : {consumer_code}",
    )


def amendment_create(*, caller: Caller, data: AmendmentInput, at: dt.datetime) -> Amendment:
    """Validate and save a new amendment; with the workflow off, apply it at once. All or nothing."""
    require_role(caller, data.tenant_code, CREATOR_ROLES, "create amendments")
    tenant = amendment_validate(data)
    enabled = workflow_enabled()
    try:
        with transaction.atomic(durable=True):
            accounts = consumer_accounts_lock([data.account_key], at=at)
            account = accounts[data.account_key]
            if _in_workflow(data):
                raise duplicate_error(data.consumer_code)
            demand = None if enabled else target_demand_lock(account)
            amendment = _insert(caller=caller, data=data, tenant=tenant, enabled=enabled, at=at)
            if demand is not None:
                lines_apply(
                    amendments=[amendment], demand=demand, accounts=accounts, bump=True, actor=caller.username, at=at
                )
    except IntegrityError as exc:
        if is_unique_violation(exc, Amendment, ONE_IN_WORKFLOW):
            raise duplicate_error(data.consumer_code) from exc
        raise
    return amendments_with_lines().get(pk=amendment.pk)


def amendment_validate(data: AmendmentInput) -> Tenant:
    """The reference's checks (§7.10.2 steps 2–6); returns the tenant."""
    tenant = Tenant.objects.filter(code=data.tenant_code, is_active=True).first()
    service = business_services_for(data.tenant_code, codes=[data.business_service]).first() if tenant else None
    if tenant is None or service is None:
        raise DomainError(
            EG_BS_AMENDMENT_BUSINESS_ERROR, f"Business service not found for the given code : {data.business_service}"
        )
    if not service.is_bill_amendment_enabled:
        raise DomainError(
            EG_BS_AMENDMENT_DISABLED_ERROR,
            f"Amendment is disabled for the given Business-service : {data.business_service}",
        )
    if data.reason not in AmendmentReason.values:
        raise DomainError(EG_BS_AMENDMENT_REASON_ERROR, f"Unknown amendment reason : {data.reason}")
    if not data.details:
        raise DomainError(EG_BS_AMENDMENT_DETAILS_ERROR, "An amendment needs at least one demand detail")
    errors: dict[str, DomainError] = {}

    def add(code: str, message: str) -> None:
        errors[code] = DomainError(code, message)

    if _in_workflow(data):
        add(EG_BS_AMENDMENT_DUPLICATE_ERROR, duplicate_error(data.consumer_code).message)
    if signs_mixed([line.tax_amount for line in data.details]):
        add(EG_BS_AMENDMENT_TAXAMOUNT_ERROR, "All Tax amounts should either be positive or negative")
    heads = set(tax_heads_for(data.tenant_code, service=data.business_service).values_list("code", flat=True))
    if not heads:
        add(
            EG_BS_AMENDMENT_TAXHEAD_ERROR,
            f"No taxheads found for the given business service : {data.business_service}",
        )
    else:
        unknown = list(dict.fromkeys(line.tax_head_code for line in data.details if line.tax_head_code not in heads))
        if unknown:
            add(EG_BS_AMENDMENT_TAXHEAD_ERROR, f"Taxheads not found for the following codes : [{', '.join(unknown)}]")
    if data.effective_till is not None and data.effective_from is None:
        add(EG_BS_AMENDMENT_PERIOD_ERROR, "End period cannot be given without from period")
    elif (
        data.effective_from is not None
        and data.effective_till is not None
        and data.effective_from >= data.effective_till
    ):
        add(EG_BS_AMENDMENT_PERIOD_ERROR, "From period cannot be greater or equal to end period in amendment")
    if errors:
        raise ValidationFailed(list(errors.values()))
    return tenant


def _in_workflow(data: AmendmentInput) -> bool:
    return Amendment.objects.filter(
        tenant__code=data.tenant_code, consumer_code=data.consumer_code, status=AmendmentStatus.INWORKFLOW
    ).exists()


def _insert(*, caller: Caller, data: AmendmentInput, tenant: Tenant, enabled: bool, at: dt.datetime) -> Amendment:
    with transaction.atomic(savepoint=False):
        amendment = Amendment(
            id=uuid.uuid4(),
            amendment_id=amendment_id_draw(
                tenant_code=data.tenant_code,
                consumer_code=data.consumer_code,
                first_tax_amount=data.details[0].tax_amount,
                at=at,
            ),
            tenant=tenant,
            consumer_code=data.consumer_code,
            business_service=data.business_service,
            reason=data.reason,
            reason_document_number=data.reason_document_number,
            effective_from=data.effective_from,
            effective_till=data.effective_till,
            additional_details=data.additional_details,
            created_by=caller.username,
            created_by_user_id=caller.user_id,
            created_at=at,
            modified_by=caller.username,
            modified_at=at,
        )
        if enabled:
            amendment.open()
        else:
            amendment.create_direct()
        amendment.save(force_insert=True)
        AmendmentTaxDetail.objects.bulk_create(
            [
                AmendmentTaxDetail(
                    id=uuid.uuid4(),
                    amendment=amendment,
                    tax_head_code=line.tax_head_code,
                    tax_amount=to_money(line.tax_amount),
                    position=position,
                )
                for position, line in enumerate(data.details)
            ]
        )
        AmendmentDocument.objects.bulk_create(
            [
                AmendmentDocument(
                    id=uuid.uuid4(),
                    amendment=amendment,
                    document_type=doc.document_type,
                    file_store_id=doc.file_store_id,
                    document_uid=doc.document_uid,
                    additional_details=doc.additional_details,
                )
                for doc in data.documents
            ]
        )
        AmendmentTransition.objects.create(
            amendment=amendment,
            action=Action.OPEN if enabled else Action.CREATE_DIRECT,
            from_state=State.NEW,
            to_state=amendment.state,
            status=amendment.status,
            actor=caller.username,
            at=at,
        )
        if enabled:
            workflow_mirror(amendment=amendment, action=Action.OPEN.value, comment="", caller=caller, at=at)
    return amendment
