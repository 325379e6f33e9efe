"""Approve / reject / send back on the amendment's own page: the comment first, one service call, the
decision in the page's history; one's own amendment gets no buttons and the service refuses it anyway."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client

from amendments.models import Amendment, AmendmentTransition
from masters.access import Caller
from masters.models import Role
from tests.amendments.conftest import amend

pytestmark = pytest.mark.django_db


def login(user_factory: Callable[..., Any], name: str, roles: list[str]) -> Client:
    user_factory(name, {"pb.amritsar": roles})
    client = Client()
    assert client.login(username=name, password="pw-" + name)
    return client


def page(amendment: Amendment) -> str:
    return f"/admin/amendments/amendment/{amendment.pk}/change/"


def test_an_approver_approves_on_the_amendments_page_with_a_comment(
    employee: Caller, wc_masters: Any, user_factory: Callable[..., Any]
) -> None:
    amendment = amend(employee)
    client = login(user_factory, "appr-page", [Role.AMENDMENT_APPROVER])
    html = client.get(page(amendment)).content.decode()
    for decision in ("approve", "reject", "send_back"):
        assert f'href="/admin/amendments/amendment/{amendment.pk}/decide/{decision}/" id="decide-{decision}"' in html
    url = f"/admin/amendments/amendment/{amendment.pk}/decide/approve/"
    asked = client.get(url)
    assert asked.status_code == 200
    assert "comment" in asked.context["form"].fields
    done = client.post(url, {"comment": "Court order verified"})
    assert done["Location"] == page(amendment)
    assert Amendment.objects.get(pk=amendment.pk).state == "APPROVED"
    assert AmendmentTransition.objects.filter(amendment=amendment, action="APPROVE").get().comment == (
        "Court order verified"
    )
    assert list(LogEntry.objects.values_list("change_message", flat=True)) == [
        "Approve — comment: Court order verified"
    ]
    assert 'id="decide-approve"' not in client.get(page(amendment)).content.decode()


def test_her_own_amendment_has_no_buttons_and_the_service_refuses(
    seed: Any, wc_masters: Any, user_factory: Callable[..., Any]
) -> None:
    from masters.access import caller_for

    both = user_factory("emp-appr", {"pb.amritsar": [Role.EMPLOYEE, Role.AMENDMENT_APPROVER]})
    amendment = amend(caller_for(both))
    client = Client()
    client.force_login(both)
    html = client.get(page(amendment)).content.decode()
    assert 'id="decide-approve"' not in html
    assert "You created this amendment: another approver must decide it." in html
    refused = client.post(f"/admin/amendments/amendment/{amendment.pk}/decide/approve/", {"comment": "mine"})
    assert refused.status_code == 200
    assert "EG_BS_AMENDMENT_SELF_APPROVAL" in refused.content.decode()
    assert Amendment.objects.get(pk=amendment.pk).state == "APPROVALPENDING"
    assert LogEntry.objects.count() == 0


def test_a_clerk_sees_no_decision_buttons(employee: Caller, wc_masters: Any, user_factory: Callable[..., Any]) -> None:
    amendment = amend(employee)
    client = login(user_factory, "clerk-page", [Role.EMPLOYEE])
    assert 'id="decide-' not in client.get(page(amendment)).content.decode()
    assert (
        client.post(f"/admin/amendments/amendment/{amendment.pk}/decide/reject/", {"comment": "x"}).status_code == 403
    )
