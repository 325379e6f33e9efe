"""Mirroring amendment transitions to DIGIT's egov-workflow-v2 (issue 14 point 9), through the outbox.

With ``DIGIT_WORKFLOW_URL`` set, every transition (OPEN at creation, then APPROVE, REJECT, SEND_BACK, RE-SUBMIT...)
is enqueued in the transition's own transaction as a ``POST {DIGIT_WORKFLOW_URL}/egov-wf/process/_transition`` of
one ProcessInstance — ``businessService`` ``<module>.AMENDMENT`` (``WS.AMENDMENT``, ``SW.AMENDMENT``...),
``moduleName`` the module, ``businessId`` the amendment id, ``action`` as the request named it — so that DIGIT's
employee inbox lists the amendment and offers its actions. The acting user's DIGIT ``userInfo`` (uuid and roles, as
egov-user gave them) goes in ``RequestInfo``: egov-workflow-v2 checks the action against those roles.

The ``digit_workflow`` channel delivers one amendment's transitions in order: a transition waits (a transient
failure, retried with backoff) until the previous one of the same amendment was delivered. egov-workflow-v2 refusing
a transition (4xx) parks it for staff (outbox admin); a later one then waits until staff retry or discard it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings

from amendments.models import Amendment, AmendmentTransition
from billing_project.outbox import (
    Channel,
    Delivery,
    OutboxMessage,
    OutboxStatus,
    TransientDeliveryError,
    outbox_enqueue,
)
from billing_project.outbox.http_channels import post_json
from masters.access import Caller
from masters.models import DigitUser

CHANNEL = "digit_workflow"
TRANSITION_PATH = "/egov-wf/process/_transition"


def _user_info(caller: Caller) -> dict[str, Any]:
    link = DigitUser.objects.filter(user_id=caller.user_id).first() if caller.user_id is not None else None
    if link is not None:
        return {
            "uuid": link.uuid,
            "userName": link.user_name,
            "name": link.name,
            "type": link.user_type,
            "tenantId": link.tenant_code,
            "roles": [{"code": r.get("code"), "tenantId": r.get("tenantId")} for r in link.roles],
        }
    return {"uuid": caller.username, "userName": caller.username, "type": caller.user_type, "roles": []}


def workflow_mirror(*, amendment: Amendment, action: str, comment: str, caller: Caller, at: dt.datetime) -> None:
    """Enqueue the transition for egov-workflow-v2 (inside the transition's transaction); nothing when it is off."""
    if not settings.DIGIT_WORKFLOW_URL:
        return
    count = AmendmentTransition.objects.filter(amendment=amendment).count()
    documents = [
        {"documentType": d.document_type, "fileStoreId": d.file_store_id, "documentUid": d.document_uid}
        for d in amendment.documents.all()
    ]
    instance = {
        "tenantId": amendment.tenant.code,
        "businessService": f"{amendment.business_service}.AMENDMENT",
        "businessId": amendment.amendment_id,
        "action": action,
        "moduleName": amendment.business_service,
        "comment": comment or None,
        "documents": documents if action.upper() == "OPEN" else None,
    }
    previous = f"amendments.amendment:{amendment.pk}:workflow:{count - 1}" if count > 1 else ""
    outbox_enqueue(
        channel=CHANNEL,
        destination=settings.DIGIT_WORKFLOW_URL + TRANSITION_PATH,
        payload={
            "RequestInfo": {
                "apiId": "billing-service",
                "ts": int(at.timestamp() * 1000),
                "userInfo": _user_info(caller),
            },
            "ProcessInstances": [instance],
        },
        headers={"after": previous},
        dedupe_key=f"amendments.amendment:{amendment.pk}:workflow:{count}",
        tenant_code=amendment.tenant.code,
        subject=f"amendment {amendment.amendment_id} {action}",
    )


def deliver_workflow(delivery: Delivery) -> None:
    previous = str(delivery.headers.get("after") or "")
    if previous:
        status = OutboxMessage.objects.filter(dedupe_key=previous).values_list("status", flat=True).first()
        if status is not None and status != OutboxStatus.DELIVERED:
            raise TransientDeliveryError(f"waiting for the amendment's previous transition ({previous}: {status})")
    post_json(delivery.destination, delivery.payload, {"Idempotency-Key": delivery.idempotency_key})


WORKFLOW_CHANNEL = Channel(
    name=CHANNEL, deliver=deliver_workflow, max_attempts=30, backoff_base_seconds=15.0, backoff_cap_seconds=1800.0
)
