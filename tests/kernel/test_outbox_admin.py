"""The outbox's admin page: read-only list with filters and search, pretty payload, retry and discard actions,
and tenant scoping for staff who are not superusers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import transaction
from django.test import Client

from billing_project import clock
from billing_project.outbox import Channel, OutboxMessage, OutboxStatus, channel_registered, outbox_enqueue

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
CHANGELIST = "/admin/kernel/outboxmessage/"


@pytest.fixture
def messages(db: Any) -> dict[str, OutboxMessage]:
    probe = Channel(name="probe", deliver=lambda delivery: None)
    with channel_registered(probe), clock.frozen(T0), transaction.atomic():
        made = {
            "amritsar": outbox_enqueue(
                channel="probe",
                destination="sms:+91-98",
                payload={"text": "Your bill is ready", "amount": "10.50"},
                dedupe_key="bills.bill:1:ready",
                tenant_code="pb.amritsar",
                subject="bills.bill:1",
                recipient="payer:7",
            ),
            "jalandhar": outbox_enqueue(
                channel="probe",
                destination="sms:+91-99",
                payload={"text": "x"},
                dedupe_key="bills.bill:2:ready",
                tenant_code="pb.jalandhar",
                subject="bills.bill:2",
            ),
            "system": outbox_enqueue(channel="probe", destination="ops", payload={}, dedupe_key="kernel:ops"),
        }
    OutboxMessage.objects.filter(pk=made["amritsar"].pk).update(
        status=OutboxStatus.PARKED, attempts=3, last_error="permanent: receiver said 400"
    )
    return made


@pytest.fixture
def admin_client(db: Any, user_factory: Any) -> Client:
    client = Client()
    client.force_login(user_factory("root", superuser=True))
    return client


def _listed(response: Any, messages: dict[str, OutboxMessage]) -> set[str]:
    body = response.content.decode()
    return {name for name, message in messages.items() if str(message.pk) in body}


def test_the_list_filters_and_searches(admin_client: Client, messages: dict[str, OutboxMessage]) -> None:
    assert _listed(admin_client.get(CHANGELIST), messages) == {"amritsar", "jalandhar", "system"}
    assert _listed(admin_client.get(CHANGELIST, {"status__exact": "PARKED"}), messages) == {"amritsar"}
    assert _listed(admin_client.get(CHANGELIST, {"tenant_code": "pb.jalandhar"}), messages) == {"jalandhar"}
    assert _listed(admin_client.get(CHANGELIST, {"channel": "probe"}), messages) == {"amritsar", "jalandhar", "system"}
    assert _listed(admin_client.get(CHANGELIST, {"q": "bills.bill:2"}), messages) == {"jalandhar"}
    assert _listed(admin_client.get(CHANGELIST, {"q": "sms:+91-98"}), messages) == {"amritsar"}
    # What the "created" filter's links send (aware bounds of a day).
    by_date = {"created_at__gte": "2030-01-01 00:00:00+00:00", "created_at__lt": "2030-01-02 00:00:00+00:00"}
    assert _listed(admin_client.get(CHANGELIST, by_date), messages) == {"amritsar", "jalandhar", "system"}
    assert _listed(admin_client.get(CHANGELIST, {"created_at__gte": "2030-01-02 00:00:00+00:00"}), messages) == set()


def test_the_detail_page_is_read_only_with_the_payload_pretty_printed(
    admin_client: Client, messages: dict[str, OutboxMessage]
) -> None:
    response = admin_client.get(f"{CHANGELIST}{messages['amritsar'].pk}/change/")
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "<pre>{\n  &quot;amount&quot;: &quot;10.50&quot;,\n  &quot;text&quot;: &quot;Your bill is ready&quot;\n}</pre>"
        in body
    )
    assert 'name="_save"' not in body
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    before = OutboxMessage.objects.get(pk=messages["amritsar"].pk)
    admin_client.post(f"{CHANGELIST}{before.pk}/change/", {"destination": "elsewhere"})
    assert OutboxMessage.objects.get(pk=before.pk).destination == "sms:+91-98"


def test_retry_action_brings_parked_messages_back(admin_client: Client, messages: dict[str, OutboxMessage]) -> None:
    parked = messages["amritsar"]
    response = admin_client.post(
        CHANGELIST, {"action": "retry_messages", "_selected_action": [str(parked.pk)]}, follow=True
    )
    assert "1 message(s) will be delivered again now." in response.content.decode()
    row = OutboxMessage.objects.get(pk=parked.pk)
    assert (row.status, row.attempts, row.handled_by) == (OutboxStatus.PENDING, 0, "root")


def test_discard_action_asks_for_a_reason_then_discards(
    admin_client: Client, messages: dict[str, OutboxMessage]
) -> None:
    target = messages["jalandhar"]
    selected = {"action": "discard_messages", "_selected_action": [str(target.pk)]}
    page = admin_client.post(CHANGELIST, selected)
    assert page.status_code == 200
    assert "Discard these messages" in page.content.decode()
    assert OutboxMessage.objects.get(pk=target.pk).status == OutboxStatus.PENDING
    done = admin_client.post(CHANGELIST, {**selected, "apply": "yes", "reason": "payer asked"}, follow=True)
    assert "Discarded 1 message(s)." in done.content.decode()
    row = OutboxMessage.objects.get(pk=target.pk)
    assert (row.status, row.handled_by, row.last_error) == (
        OutboxStatus.DISCARDED,
        "root",
        "discarded by root: payer asked",
    )
    delivered = messages["system"]
    OutboxMessage.objects.filter(pk=delivered.pk).update(status=OutboxStatus.DELIVERED, delivered_at=T0)
    refused = admin_client.post(
        CHANGELIST,
        {"action": "discard_messages", "_selected_action": [str(delivered.pk)], "apply": "yes", "reason": "r"},
        follow=True,
    )
    assert "OUTBOX_MESSAGE_STATE: A DELIVERED message cannot be discarded" in refused.content.decode()


def test_staff_see_their_tenants_messages_and_act_only_with_the_change_permission(
    user_factory: Any, messages: dict[str, OutboxMessage]
) -> None:
    clerk = user_factory("clerk", {"pb.amritsar": ["EMPLOYEE"]})
    clerk.is_staff = True
    clerk.save()
    clerk.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    client = Client()
    client.force_login(clerk)
    assert _listed(client.get(CHANGELIST), messages) == {"amritsar"}
    assert client.get(f"{CHANGELIST}{messages['jalandhar'].pk}/change/").status_code == 302  # not theirs
    assert "retry_messages" not in client.get(CHANGELIST).content.decode()
    clerk.user_permissions.add(Permission.objects.get(codename="change_outboxmessage"))
    assert "retry_messages" in client.get(CHANGELIST).content.decode()
