"""Amendments admin: read-only pages with inlines, filters, and the approve / reject / send back actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages

from amendments.models import Amendment
from billing_project import clock
from demands.models import DemandDetail
from demands.services import demand_create
from masters.access import Caller
from masters.models import Role
from tests.amendments.conftest import AT, LATER, amend, wc_demand

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/amendments/amendment/"


@pytest.fixture
def root(django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser("root", "root@example.org", "pw")


def post_action(client: Any, action: str, amendments: list[Amendment], **data: Any) -> Any:
    with clock.frozen(LATER):
        return client.post(
            CHANGELIST, {"action": action, "_selected_action": [str(a.pk) for a in amendments], **data}, follow=True
        )


def texts(response: Any) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def test_approve_action_asks_for_a_comment_then_applies(
    client: Any, root: Any, employee: Caller, wc_masters: Any
) -> None:
    [demand] = demand_create(caller=employee, demands=[wc_demand()], at=AT)
    amendment = amend(employee)
    client.force_login(root)

    form = post_action(client, "approve_amendments", [amendment])
    assert form.status_code == 200
    assert form.templates[0].name == "admin/amendments/decide_amendments.html"
    assert amendment.amendment_id in form.content.decode()
    assert Amendment.objects.get().status == "INWORKFLOW"

    done = post_action(client, "approve_amendments", [amendment], apply="yes", comment="per order")
    assert texts(done) == [("success", "Approved 1 amendment(s).")]
    stored = Amendment.objects.get()
    assert (stored.status, stored.amended_demand_id) == ("CONSUMED", demand.pk)
    assert stored.transitions.get(action="APPROVE").comment == "per order"
    assert DemandDetail.objects.filter(demand=demand).count() == 3

    again = post_action(client, "reject_amendments", [amendment], apply="yes", comment="")
    assert texts(again) == [
        (
            "error",
            f"{amendment.amendment_id}: EG_BS_AMENDMENT_STATE_ERROR: Action REJECT is not possible on amendment "
            f"{amendment.amendment_id} in state APPROVED",
        )
    ]


def test_self_approval_is_an_error_message(client: Any, user_factory: Any, wc_masters: Any) -> None:
    from masters.access import caller_for

    creator = user_factory("boss", {"pb.amritsar": [Role.EMPLOYEE, Role.AMENDMENT_APPROVER]}, superuser=True)
    amendment = amend(caller_for(creator))
    client.force_login(creator)
    response = post_action(client, "send_back_amendments", [amendment], apply="yes", comment="")
    assert texts(response) == [
        (
            "error",
            f"{amendment.amendment_id}: EG_BS_AMENDMENT_SELF_APPROVAL: The creator of amendment "
            f"{amendment.amendment_id} cannot SEND_BACK it.",
        )
    ]
    assert Amendment.objects.get().state == "APPROVALPENDING"


def test_pages_filters_and_inlines(client: Any, root: Any, employee: Caller, wc_masters: Any) -> None:
    amendment = amend(employee)
    client.force_login(root)
    listing = client.get(
        CHANGELIST + "?state__exact=APPROVALPENDING&reason__exact=COURT_CASE_SETTLEMENT&business_service=WC"
    )
    assert listing.status_code == 200
    assert amendment.amendment_id in listing.content.decode()
    assert amendment.amendment_id not in client.get(CHANGELIST + "?status__exact=CONSUMED").content.decode()
    page = client.get(f"{CHANGELIST}{amendment.pk}/change/")
    assert page.status_code == 200
    content = page.content.decode()
    assert "transition history" in content.lower()
    assert "WS_TIME_PENALTY" in content
    assert "COURTORDER" in content
