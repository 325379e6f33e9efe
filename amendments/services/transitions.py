"""Workflow actions on an amendment (reference §7.10.3): APPROVE, REJECT, SEND_BACK, RESUBMIT, WITHDRAW.

Who may act (per tenant, ``masters.access``):

| action | who |
|---|---|
| APPROVE, REJECT, SEND_BACK | AMENDMENT_APPROVER of the tenant, or a superuser — never the amendment's creator |
| RESUBMIT | the creator, or an EMPLOYEE / BILLING_ADMIN of the tenant |
| WITHDRAW | the creator only |

Locking: the consumer account first (``consumer_accounts_lock``), then the amendment row (evaluated
``select_for_update``), then the state is checked again under the lock, then — on APPROVE — the target demand.
Two racing approvals therefore serialise on the account: one applies the lines, the other finds the
amendment APPROVED and is refused with ``EG_BS_AMENDMENT_STATE_ERROR`` having written nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import transaction

from amendments.domain.workflow import WORKFLOW_ACTIONS, Action, parse_action
from amendments.errors import (
    EG_BS_AMENDMENT_ACTION_NOT_ALLOWED,
    EG_BS_AMENDMENT_SELF_APPROVAL,
    EG_BS_AMENDMENT_STATE_ERROR,
    EG_BS_AMENDMENT_UNKNOWN_ACTION,
    EG_BS_AMENDMENT_UPDATE_WF_ERROR,
    WORKFLOW_DISABLED_MESSAGE,
)
from amendments.models import Amendment, AmendmentStatus, AmendmentTransition
from amendments.selectors import amendment_get
from amendments.services.apply import lines_apply, target_demand_lock
from amendments.services.create import workflow_enabled
from amendments.services.mirror import workflow_mirror
from billing_project.errors import ConflictError, DomainError, PermissionDeniedError
from demands.services import consumer_accounts_lock
from masters.access import Caller
from masters.models import Role

DECIDER_ROLES = (Role.AMENDMENT_APPROVER,)
RESUBMIT_ROLES = (Role.EMPLOYEE, Role.BILLING_ADMIN)
DECISIONS = (Action.APPROVE, Action.REJECT, Action.SEND_BACK)


def amendment_transition(
    *,
    caller: Caller,
    amendment_pk: uuid.UUID,
    action: str,
    comment: str = "",
    additional_details: Any = None,
    at: dt.datetime,
) -> Amendment:
    """Perform the workflow ``action`` on the amendment; on APPROVE apply its lines (or leave it ACTIVE).

    ``additional_details`` (a JSON object) is merged into the stored one, key by key.
    """
    if not workflow_enabled():
        raise DomainError(EG_BS_AMENDMENT_UPDATE_WF_ERROR, WORKFLOW_DISABLED_MESSAGE)
    wanted = parse_action(action)
    if wanted is None:
        raise DomainError(
            EG_BS_AMENDMENT_UNKNOWN_ACTION,
            f"Unknown workflow action {action!r}; use one of {', '.join(a.value for a in WORKFLOW_ACTIONS)}",
        )
    stored = amendment_get(caller=caller, pk=amendment_pk)
    _check_actor(caller, stored, wanted)
    key = (stored.tenant.code, stored.business_service, stored.consumer_code)
    with transaction.atomic(durable=True):
        accounts = consumer_accounts_lock([key], at=at)
        [amendment] = list(
            Amendment.objects.select_for_update(of=("self",)).select_related("tenant").filter(pk=stored.pk)
        )
        sources, _target = WORKFLOW_ACTIONS[wanted]
        if amendment.state not in sources:
            raise ConflictError(
                EG_BS_AMENDMENT_STATE_ERROR,
                f"Action {wanted.value} is not possible on amendment {amendment.amendment_id} in state "
                f"{amendment.state}",
            )
        from_state = amendment.state
        {
            Action.APPROVE: amendment.approve,
            Action.REJECT: amendment.reject,
            Action.SEND_BACK: amendment.send_back,
            Action.RESUBMIT: amendment.resubmit,
            Action.WITHDRAW: amendment.withdraw,
        }[wanted]()
        amendment.additional_details = merge_details(amendment.additional_details, additional_details)
        amendment.modified_by, amendment.modified_at = caller.username, at
        amendment.save(update_fields=["state", "status", "additional_details", "modified_by", "modified_at"])
        AmendmentTransition.objects.create(
            amendment=amendment,
            action=wanted,
            from_state=from_state,
            to_state=amendment.state,
            status=amendment.status,
            actor=caller.username,
            at=at,
            comment=comment or "",
            requested_action=action.strip()[:32],
        )
        workflow_mirror(amendment=amendment, action=action.strip(), comment=comment or "", caller=caller, at=at)
        if amendment.status == AmendmentStatus.ACTIVE:
            demand = target_demand_lock(accounts[key])
            if demand is not None:
                lines_apply(
                    amendments=[amendment], demand=demand, accounts=accounts, bump=True, actor=caller.username, at=at
                )
    return amendment_get(caller=caller, pk=amendment.pk)


def _check_actor(caller: Caller, amendment: Amendment, action: Action) -> None:
    tenant = amendment.tenant.code
    is_creator = (
        caller.user_id == amendment.created_by_user_id
        if caller.user_id is not None and amendment.created_by_user_id is not None
        else caller.username == amendment.created_by
    )
    if action in DECISIONS:
        if not caller.has_role(tenant, DECIDER_ROLES):
            raise PermissionDeniedError(
                EG_BS_AMENDMENT_ACTION_NOT_ALLOWED,
                f"You need the role AMENDMENT_APPROVER in {tenant} to {action.value} an amendment.",
            )
        if is_creator:
            raise PermissionDeniedError(
                EG_BS_AMENDMENT_SELF_APPROVAL,
                f"The creator of amendment {amendment.amendment_id} cannot {action.value} it.",
            )
    elif action == Action.RESUBMIT:
        if not (is_creator or caller.has_role(tenant, RESUBMIT_ROLES)):
            raise PermissionDeniedError(
                EG_BS_AMENDMENT_ACTION_NOT_ALLOWED,
                f"Only the creator or an EMPLOYEE/BILLING_ADMIN of {tenant} can RESUBMIT an amendment.",
            )
    elif action == Action.WITHDRAW and not is_creator:
        raise PermissionDeniedError(
            EG_BS_AMENDMENT_ACTION_NOT_ALLOWED,
            f"Only the creator of amendment {amendment.amendment_id} can WITHDRAW it.",
        )


def merge_details(existing: Any, update: Any) -> Any:
    """The reference's ``jsonMerge``: keys of ``update`` replace those of ``existing`` (objects only)."""
    if update is None:
        return existing
    if isinstance(existing, dict) and isinstance(update, dict):
        return {**existing, **update}
    return update
