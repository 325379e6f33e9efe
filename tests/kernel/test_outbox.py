"""The transactional outbox: enqueue in the business transaction, the relay's claims, leases, retries and parking,
throttling, the celery channel against a real broker (down, then back), and the staff services."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection, transaction

from billing_project import clock
from billing_project.errors import ConflictError, NotFound
from billing_project.outbox import (
    Channel,
    Delivery,
    OutboxMessage,
    OutboxStatus,
    OutboxUsageError,
    PermanentDeliveryError,
    Throttle,
    TransientDeliveryError,
    channel_registered,
    outbox_enqueue,
)
from billing_project.outbox.backoff import backoff_seconds
from billing_project.outbox.models import OutboxThrottle
from billing_project.outbox.relay import outbox_relay
from billing_project.outbox.services import outbox_message_discard, outbox_message_retry
from billing_project.outbox.tasks import outbox_sweep
from tests.concurrency import rows_locked_elsewhere

T0 = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)


class Crash(BaseException):
    """Stands for the worker being killed in the middle of a delivery (nothing after it runs)."""


class Probe:
    """A channel's deliver function that records what it was given and fails as scripted (one entry per call)."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.script: deque[BaseException | None] = deque()
        self.lock = threading.Lock()

    def __call__(self, delivery: Delivery) -> None:
        with self.lock:
            self.deliveries.append(delivery)
            failure = self.script.popleft() if self.script else None
        if failure is not None:
            raise failure

    @property
    def ids(self) -> list[str]:
        return [str(d.id) for d in self.deliveries]


@pytest.fixture
def probe() -> Iterator[Probe]:
    deliver = Probe()
    channel = Channel(
        name="probe",
        deliver=deliver,
        max_attempts=3,
        backoff_base_seconds=10.0,
        backoff_cap_seconds=100.0,
        backoff_jitter=0.5,
        inline=True,
    )
    with channel_registered(channel):
        yield deliver


def _enqueue(**kwargs: Any) -> OutboxMessage:
    values: dict[str, Any] = {"channel": "probe", "destination": "somewhere", "payload": {"n": 1}, **kwargs}
    with transaction.atomic():
        return outbox_enqueue(**values)


def _row(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message.pk)


# --- committed, rolled back, deduplicated --------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_committed_message_is_delivered_once_after_the_commit(probe: Probe) -> None:
    with transaction.atomic():
        message = outbox_enqueue(
            channel="probe",
            destination="tests.target",
            payload={"run_id": 7, "amount": "10.50"},
            headers={"trace": "t-1"},
            dedupe_key="tests.thing:7:start",
            tenant_code="pb.amritsar",
            subject="tests.thing:7",
            recipient="payer:42",
        )
        assert probe.deliveries == []  # nothing leaves before the commit
    assert len(probe.deliveries) == 1
    delivery = probe.deliveries[0]
    assert (delivery.id, delivery.destination, delivery.payload, dict(delivery.headers), delivery.attempt) == (
        message.pk,
        "tests.target",
        {"run_id": 7, "amount": "10.50"},
        {"trace": "t-1"},
        1,
    )
    assert (delivery.dedupe_key, delivery.idempotency_key) == ("tests.thing:7:start", str(message.pk))
    stored = _row(message)
    assert (stored.status, stored.attempts, stored.claimed_by, stored.claimed_until, stored.last_error) == (
        OutboxStatus.DELIVERED,
        1,
        "",
        None,
        "",
    )
    assert stored.delivered_at is not None
    assert outbox_sweep() == {"claimed": 0, "delivered": 0, "retrying": 0, "parked": 0, "released": 0, "throttled": 0}
    assert len(probe.deliveries) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_enqueues_and_sends_nothing(probe: Probe) -> None:
    def change_refused() -> None:
        with transaction.atomic():
            outbox_enqueue(channel="probe", destination="x", payload={})
            raise RuntimeError("business rule refused the change")

    with pytest.raises(RuntimeError, match="business rule"):
        change_refused()
    assert OutboxMessage.objects.count() == 0
    outbox_sweep()
    assert probe.deliveries == []
    # A later transaction on the same connection still gets its kick (the rolled-back batch is not reused).
    message = _enqueue()
    assert probe.ids == [str(message.pk)]
    # Outside a transaction the message could outlive a rolled-back change: refused.
    with pytest.raises(OutboxUsageError):
        outbox_enqueue(channel="probe", destination="x", payload={})
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db
def test_a_second_enqueue_with_the_same_key_is_a_no_op_returning_the_first(
    probe: Probe, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = _enqueue(dedupe_key="tests.thing:1:start", payload={"v": 1})
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = _enqueue(dedupe_key="tests.thing:1:start", payload={"v": 2})
    assert callbacks == []  # nothing new to deliver
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        inside_one = outbox_enqueue(channel="probe", destination="y", payload={"v": 3}, dedupe_key="k-2")
        same_transaction = outbox_enqueue(channel="probe", destination="y", payload={"v": 4}, dedupe_key="k-2")
    assert again.pk == first.pk
    assert again.payload == {"v": 1}
    assert same_transaction.pk == inside_one.pk
    assert OutboxMessage.objects.count() == 2
    assert sorted(probe.ids) == sorted([str(first.pk), str(inside_one.pk)])


@pytest.mark.django_db
def test_a_transaction_enqueuing_many_messages_kicks_them_once(probe: Probe, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        for n in range(3):
            outbox_enqueue(channel="probe", destination="x", payload={"n": n})
    assert len(callbacks) == 1
    assert [d.payload["n"] for d in probe.deliveries] == [0, 1, 2]


@pytest.mark.django_db
def test_enqueue_refuses_bad_input_before_writing(probe: Probe) -> None:
    from billing_project.outbox.channels import ChannelNotRegistered

    with transaction.atomic():
        with pytest.raises(ChannelNotRegistered):
            outbox_enqueue(channel="nope", destination="x", payload={})
        with pytest.raises(ValueError, match="plain JSON"):
            outbox_enqueue(channel="probe", destination="x", payload={"when": T0})
        with pytest.raises(ValueError, match="destination"):
            outbox_enqueue(channel="probe", destination="", payload={})
    assert OutboxMessage.objects.count() == 0


# --- retries, backoff, parking ------------------------------------------------------------------------------


def test_backoff_is_exponential_bounded_and_jittered() -> None:
    ceiling = [backoff_seconds(attempt=n, base=10, cap=100, jitter=0.5, draw=0.0) for n in range(1, 6)]
    assert ceiling == [10.0, 20.0, 40.0, 80.0, 100.0]
    floor = [backoff_seconds(attempt=n, base=10, cap=100, jitter=0.5, draw=0.999999) for n in range(1, 6)]
    assert [round(f, 3) for f in floor] == [5.0, 10.0, 20.0, 40.0, 50.0]
    assert backoff_seconds(attempt=1, base=10, cap=100, jitter=0.5, draw=0.5, at_least=60) == 60.0
    assert backoff_seconds(attempt=1, base=10, cap=100, jitter=0.5, draw=0.5, at_least=600) == 100.0
    assert backoff_seconds(attempt=10_000, base=10, cap=100, jitter=0.0, draw=0.0) == 100.0
    with pytest.raises(ValueError, match="attempt"):
        backoff_seconds(attempt=0, base=10, cap=100, jitter=0.5, draw=0.0)


@pytest.mark.django_db
def test_a_transient_failure_is_retried_with_backoff_then_delivered(probe: Probe) -> None:
    probe.script.extend([TransientDeliveryError("receiver answered 503"), TransientDeliveryError("timed out")])
    with clock.frozen(T0):
        message = _enqueue()
        outbox_relay()
    first = _row(message)
    assert (first.status, first.attempts, first.last_error) == (
        OutboxStatus.PENDING,
        1,
        "transient: receiver answered 503",
    )
    assert T0 + dt.timedelta(seconds=5) <= first.next_attempt_at <= T0 + dt.timedelta(seconds=10)
    with clock.frozen(first.next_attempt_at - dt.timedelta(microseconds=1)):
        assert outbox_relay().claimed == 0  # not due yet
    at = first.next_attempt_at
    with clock.frozen(at):
        outbox_relay()
    second = _row(message)
    assert (second.status, second.attempts, second.last_error) == (OutboxStatus.PENDING, 2, "transient: timed out")
    assert at + dt.timedelta(seconds=10) <= second.next_attempt_at <= at + dt.timedelta(seconds=20)
    with clock.frozen(second.next_attempt_at):
        report = outbox_relay()
    assert report.delivered == 1
    final = _row(message)
    assert (final.status, final.attempts, final.delivered_at) == (OutboxStatus.DELIVERED, 3, second.next_attempt_at)
    assert [d.attempt for d in probe.deliveries] == [1, 2, 3]
    assert len(set(probe.ids)) == 1


@pytest.mark.django_db
def test_retry_after_from_the_receiver_is_respected(probe: Probe) -> None:
    probe.script.append(TransientDeliveryError("429", retry_after=75))
    with clock.frozen(T0):
        message = _enqueue()
        outbox_relay()
    assert _row(message).next_attempt_at == T0 + dt.timedelta(seconds=75)


@pytest.mark.django_db
def test_a_permanent_error_parks_the_message_at_once(probe: Probe) -> None:
    probe.script.append(PermanentDeliveryError("receiver says 400: unknown subscriber"))
    with clock.frozen(T0):
        message = _enqueue()
        report = outbox_relay()
    assert report.parked == 1
    parked = _row(message)
    assert (parked.status, parked.attempts, parked.last_error) == (
        OutboxStatus.PARKED,
        1,
        "permanent: receiver says 400: unknown subscriber",
    )
    with clock.frozen(T0 + dt.timedelta(days=1)):
        assert outbox_relay().claimed == 0
    assert len(probe.deliveries) == 1


@pytest.mark.django_db
def test_the_last_failed_attempt_parks_the_message(probe: Probe) -> None:
    probe.script.extend([TransientDeliveryError("down")] * 2 + [ValueError("a bug in the channel")])
    at = T0
    with clock.frozen(at):
        message = _enqueue()
    for _ in range(3):
        with clock.frozen(at):
            outbox_relay()
        at = _row(message).next_attempt_at
    parked = _row(message)
    assert (parked.status, parked.attempts, parked.last_error) == (
        OutboxStatus.PARKED,
        3,
        "unexpected: ValueError: a bug in the channel",
    )
    assert len(probe.deliveries) == 3


@pytest.mark.django_db
def test_a_message_of_an_unregistered_channel_is_parked_with_the_reason(probe: Probe) -> None:
    message = _enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(channel="gone")
    outbox_relay()
    parked = _row(message)
    assert (parked.status, parked.last_error) == (OutboxStatus.PARKED, "no outbox channel 'gone' is registered")


# --- leases: crash and concurrency -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_relay_killed_mid_delivery_leaves_a_lease_that_expires_and_the_message_is_delivered_again(
    probe: Probe, settings: Any
) -> None:
    settings.OUTBOX_LEASE_SECONDS = 120
    probe.script.append(Crash())
    with clock.frozen(T0):
        message = _enqueue()
        with pytest.raises(Crash):
            outbox_relay()
    leased = _row(message)
    assert (leased.status, leased.attempts, leased.claimed_until) == (
        OutboxStatus.PENDING,
        1,
        T0 + dt.timedelta(seconds=120),
    )
    assert leased.claimed_by.count(":") == 2
    with clock.frozen(T0 + dt.timedelta(seconds=119)):
        assert outbox_relay().claimed == 0  # still leased: nobody else delivers it
    with clock.frozen(T0 + dt.timedelta(seconds=120)):
        assert outbox_sweep() == {
            "claimed": 1,
            "delivered": 1,
            "retrying": 0,
            "parked": 0,
            "released": 0,
            "throttled": 0,
        }
    delivered = _row(message)
    assert (delivered.status, delivered.attempts) == (OutboxStatus.DELIVERED, 2)
    assert delivered.last_error.startswith(f"the lease of {leased.claimed_by} ended before the outcome")
    # Delivered twice to the receiver, with one idempotency key: at least once, deduplicated there.
    assert [d.idempotency_key for d in probe.deliveries] == [str(message.pk)] * 2


@pytest.mark.django_db
def test_a_lease_that_expires_on_the_last_attempt_parks_the_message(probe: Probe) -> None:
    with clock.frozen(T0):
        message = _enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=3, claimed_by="host:1:dead", claimed_until=T0, next_attempt_at=T0
    )
    with clock.frozen(T0):
        assert outbox_relay().parked == 1
    parked = _row(message)
    assert (parked.status, parked.claimed_by, parked.last_error) == (
        OutboxStatus.PARKED,
        "",
        "the lease of host:1:dead ended before the outcome of attempt 3 was recorded; that was the last attempt",
    )
    assert probe.deliveries == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_relays_at_once_never_deliver_one_message_twice(probe: Probe, settings: Any) -> None:
    settings.OUTBOX_CLAIM_BATCH = 4
    with transaction.atomic():
        for n in range(16):
            outbox_enqueue(channel="probe", destination="x", payload={"n": n}, not_before=clock.now())
    both_delivering = threading.Barrier(2, timeout=20)
    seen: dict[str, int] = {}
    original = probe.__call__

    def deliver(delivery: Delivery) -> None:
        name = threading.current_thread().name
        first = name not in seen
        seen[name] = seen.get(name, 0) + 1
        if first:
            both_delivering.wait()  # both relays hold a claimed batch at the same moment
        original(delivery)

    reports: list[Any] = []

    def relay() -> None:
        try:
            reports.append(outbox_relay())
        finally:
            connection.close()

    with channel_registered(Channel(name="probe", deliver=deliver, inline=True)):
        threads = [threading.Thread(target=relay, name=f"relay-{i}") for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert len(reports) == 2
    assert sorted(d.payload["n"] for d in probe.deliveries) == list(range(16))  # each exactly once
    assert set(seen) == {"relay-0", "relay-1"}
    assert sum(r.delivered for r in reports) == 16
    assert OutboxMessage.objects.filter(status=OutboxStatus.DELIVERED, attempts=1).count() == 16


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_claim_skips_rows_locked_by_another_claim_instead_of_waiting(probe: Probe) -> None:
    with transaction.atomic():
        held = outbox_enqueue(channel="probe", destination="x", payload={"n": 1}, not_before=clock.now())
        free = outbox_enqueue(channel="probe", destination="x", payload={"n": 2}, not_before=clock.now())
    # Another relay's claim transaction holds ``held``; a waiting claim would hit the 300 ms lock timeout.
    with rows_locked_elsewhere(OutboxMessage.objects.filter(pk=held.pk)):
        report = outbox_relay()
    assert report.delivered == 1
    assert probe.ids == [str(free.pk)]
    assert _row(held).status == OutboxStatus.PENDING


@pytest.mark.django_db
def test_a_batch_whose_lease_runs_out_gives_back_what_it_did_not_attempt(probe: Probe, settings: Any) -> None:
    settings.OUTBOX_LEASE_SECONDS = 6  # the relay stops 5 s before the lease ends
    settings.OUTBOX_CLAIM_BATCH = 3
    with clock.frozen(T0), transaction.atomic():
        messages = [
            outbox_enqueue(channel="probe", destination="x", payload={"n": n}, not_before=T0) for n in (1, 2, 3)
        ]
    calls = {"n": 0}

    def slow_clock() -> float:  # every reading is 0.6 s later than the one before: the lease runs out mid-batch
        calls["n"] += 1
        return 1000.0 + 0.6 * calls["n"]

    import billing_project.outbox.relay as relay_module

    with clock.frozen(T0), pytest.MonkeyPatch.context() as patch:
        patch.setattr(relay_module.time, "monotonic", slow_clock)
        report = outbox_relay(max_messages=3)
    # Readings: start, budget check, lease start (+1 s usable), first delivery in time, second one too late.
    assert (report.claimed, report.delivered, report.released) == (3, 1, 2)
    released = [m for m in messages if _row(m).status == OutboxStatus.PENDING]
    assert len(released) == report.released
    for message in released:
        row = _row(message)
        assert (row.attempts, row.claimed_by, row.next_attempt_at) == (0, "", T0)


# --- throttle ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_throttled_channel_delivers_at_its_rate_and_does_not_hold_up_the_others(probe: Probe) -> None:
    slow = Probe()
    throttled = Channel(name="sms-test", deliver=slow, throttle=Throttle(rate=1.0, burst=2), inline=True)
    with channel_registered(throttled), clock.frozen(T0):
        with transaction.atomic():
            for n in range(5):
                outbox_enqueue(channel="sms-test", destination="+91", payload={"n": n}, not_before=T0)
            other = outbox_enqueue(channel="probe", destination="x", payload={}, not_before=T0)
        report = outbox_relay()
        assert (report.delivered, report.throttled) == (3, 3)  # three held back by the throttle
        assert len(slow.deliveries) == 2  # the burst (due messages have no order among themselves)
        assert probe.ids == [str(other.pk)]
        with clock.frozen(T0 + dt.timedelta(seconds=1)):
            assert outbox_relay().delivered == 1
        with clock.frozen(T0 + dt.timedelta(seconds=60)):
            assert outbox_relay().delivered == 2  # the bucket holds at most its burst
    assert sorted(d.payload["n"] for d in slow.deliveries) == [0, 1, 2, 3, 4]
    bucket = OutboxThrottle.objects.get(channel="sms-test")
    assert (bucket.tokens, bucket.refilled_at) == (0.0, T0 + dt.timedelta(seconds=60))


# --- staff services ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_staff_retry_brings_a_parked_message_back_now_with_fresh_attempts(
    probe: Probe, django_capture_on_commit_callbacks
) -> None:
    probe.script.append(PermanentDeliveryError("refused"))
    with clock.frozen(T0):
        message = _enqueue()
        outbox_relay()
    assert _row(message).status == OutboxStatus.PARKED
    later = T0 + dt.timedelta(hours=2)
    with clock.frozen(later), django_capture_on_commit_callbacks(execute=True):
        outbox_message_retry(message_id=message.pk, actor="ops", at=later)
    retried = _row(message)
    assert (retried.status, retried.attempts, retried.handled_by, retried.handled_at, retried.delivered_at) == (
        OutboxStatus.DELIVERED,
        1,
        "ops",
        later,
        later,
    )
    assert len(probe.deliveries) == 2
    with pytest.raises(ConflictError, match="DELIVERED"):
        outbox_message_retry(message_id=message.pk, actor="ops", at=later)


@pytest.mark.django_db
def test_staff_discard_and_what_it_refuses(probe: Probe) -> None:
    probe.script.append(TransientDeliveryError("down"))
    with clock.frozen(T0):
        waiting = _enqueue()
        outbox_relay()
        discarded = outbox_message_discard(message_id=waiting.pk, actor="ops", reason="sent by hand", at=T0)
    assert (discarded.status, discarded.handled_by, discarded.last_error) == (
        OutboxStatus.DISCARDED,
        "ops",
        "transient: down\ndiscarded by ops: sent by hand",
    )
    with clock.frozen(T0 + dt.timedelta(days=1)):
        assert outbox_relay().claimed == 0
    with pytest.raises(ConflictError):
        outbox_message_retry(message_id=waiting.pk, actor="ops", at=T0)
    in_flight = _enqueue(not_before=T0)
    OutboxMessage.objects.filter(pk=in_flight.pk).update(
        claimed_by="h:1:x", claimed_until=T0 + dt.timedelta(seconds=60)
    )
    with pytest.raises(ConflictError, match="being delivered"):
        outbox_message_discard(message_id=in_flight.pk, actor="ops", reason="r", at=T0)
    with pytest.raises(NotFound) as missing:
        outbox_message_discard(message_id="not-a-uuid", actor="ops", reason="r", at=T0)
    assert (missing.value.code, missing.value.http_status) == ("OUTBOX_MESSAGE_NOT_FOUND", 404)


# --- the celery channel against a real broker ----------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_broker_down_at_enqueue_leaves_the_job_pending_and_the_sweep_submits_it_later(redis_broker: Any) -> None:
    from tests.outage import celery_broker, closed_port

    with celery_broker(f"redis://127.0.0.1:{closed_port()}/0"):
        started = time.monotonic()
        with transaction.atomic():
            message = outbox_enqueue(
                channel="celery", destination="kernel.purge_idempotency_keys", payload={}, dedupe_key="probe:1"
            )
        elapsed = time.monotonic() - started
        assert elapsed < 5  # refused connection: the kick fails fast and the commit stands
    waiting = _row(message)
    assert (waiting.status, waiting.attempts) == (OutboxStatus.PENDING, 1)
    assert waiting.last_error.startswith("transient: publish failed: OperationalError")
    assert redis_broker() == []
    with clock.frozen(waiting.next_attempt_at):  # the broker is back (the fixture's Redis)
        report = outbox_sweep()
    assert report["delivered"] == 1
    assert _row(message).status == OutboxStatus.DELIVERED
    [queued] = redis_broker()
    assert (queued["task"], queued["id"], queued["outbox_id"], queued["outbox_dedupe_key"]) == (
        "kernel.purge_idempotency_keys",
        str(message.pk),
        str(message.pk),
        "probe:1",
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_silent_broker_costs_the_request_at_most_its_socket_timeout() -> None:
    from tests.outage import celery_broker, silent_server

    with silent_server() as port, celery_broker(f"redis://127.0.0.1:{port}/0"):
        started = time.monotonic()
        with transaction.atomic():
            message = outbox_enqueue(channel="celery", destination="kernel.purge_idempotency_keys", payload={})
        elapsed = time.monotonic() - started
    assert elapsed < 10  # connect + socket timeouts (1 s + 2 s by default), never the TCP default of minutes
    waiting = _row(message)
    assert (waiting.status, waiting.attempts) == (OutboxStatus.PENDING, 1)
    assert "publish failed" in waiting.last_error


@pytest.mark.django_db
def test_in_process_mode_runs_the_task_here_and_an_unknown_task_is_parked(django_capture_on_commit_callbacks) -> None:
    from billing_project.models import IdempotencyKey

    old = clock.now() - dt.timedelta(days=2)
    IdempotencyKey.objects.create(owner="o", key="old", request_hash="h", method="POST", path="/", created_at=old)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        ran = outbox_enqueue(channel="celery", destination="kernel.purge_idempotency_keys", payload={})
        unknown = outbox_enqueue(channel="celery", destination="no.such.task", payload={})
    assert IdempotencyKey.objects.count() == 0  # the purge ran in-process after the commit
    assert _row(ran).status == OutboxStatus.DELIVERED
    parked = _row(unknown)
    assert (parked.status, parked.last_error) == (
        OutboxStatus.PARKED,
        "permanent: no Celery task named 'no.such.task' is registered",
    )


# --- the beat schedules and the tasks ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweeps_are_scheduled_every_minute_by_the_migrations() -> None:
    from django_celery_beat.models import PeriodicTask

    rows = {
        task.name: (task.task, task.enabled, task.interval.every, task.interval.period, task.expire_seconds)
        for task in PeriodicTask.objects.select_related("interval").filter(
            name__in=["Deliver due outbox messages", "Resubmit stale billing runs", "Resubmit stale payment imports"]
        )
    }
    assert rows == {
        "Deliver due outbox messages": ("kernel.outbox_sweep", True, 1, "minutes", 55),
        "Resubmit stale billing runs": ("bills.resubmit_stale_runs", True, 1, "minutes", 55),
        "Resubmit stale payment imports": ("payments.imports.resubmit_stale_runs", True, 1, "minutes", 55),
    }


def test_the_relay_tasks_are_named_and_acknowledged_late() -> None:
    from billing_project.outbox.tasks import outbox_deliver

    assert [(task.name, task.acks_late) for task in (outbox_deliver, outbox_sweep)] == [
        ("kernel.outbox_deliver", True),
        ("kernel.outbox_sweep", True),
    ]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_slow_channel_is_handed_to_the_deliver_task_not_delivered_in_the_request(redis_broker: Any) -> None:
    import ast

    from billing_project.outbox.tasks import outbox_deliver

    slow = Probe()
    with channel_registered(Channel(name="webhook-test", deliver=slow, inline=False)):
        with transaction.atomic():
            message = outbox_enqueue(channel="webhook-test", destination="https://example.test/hook", payload={"a": 1})
        assert slow.deliveries == []  # the committing process did not wait for the receiver
        [queued] = redis_broker()
        assert queued["task"] == "kernel.outbox_deliver"
        kwargs = ast.literal_eval(queued["kwargsrepr"])
        assert kwargs == {"message_ids": [str(message.pk)]}
        outbox_deliver.apply(kwargs=kwargs)  # what a worker does with it
    assert slow.ids == [str(message.pk)]
    assert _row(message).status == OutboxStatus.DELIVERED


@pytest.mark.django_db
def test_when_a_receiver_is_back_what_waited_for_it_is_due_at_once(probe: Probe) -> None:
    probe.script.extend([TransientDeliveryError("down")] * 3)
    with clock.frozen(T0), transaction.atomic():
        first = outbox_enqueue(channel="probe", destination="x", payload={"n": 1}, not_before=T0)
        second = outbox_enqueue(channel="probe", destination="x", payload={"n": 2}, not_before=T0)
        elsewhere = outbox_enqueue(channel="probe", destination="y", payload={"n": 3}, not_before=T0)
    with clock.frozen(T0):
        assert outbox_relay().retrying == 3  # the receivers are down
    OutboxMessage.objects.filter(pk=second.pk).update(next_attempt_at=T0 + dt.timedelta(minutes=10))
    OutboxMessage.objects.filter(pk=elsewhere.pk).update(next_attempt_at=T0 + dt.timedelta(minutes=10))
    due = _row(first).next_attempt_at
    with clock.frozen(due):
        report = outbox_relay()
    assert (report.delivered, report.claimed) == (2, 2)  # the first went through, so the second was due at once
    assert (_row(first).status, _row(second).status) == (OutboxStatus.DELIVERED, OutboxStatus.DELIVERED)
    waiting = _row(elsewhere)  # another destination keeps its backoff
    assert (waiting.status, waiting.next_attempt_at) == (OutboxStatus.PENDING, T0 + dt.timedelta(minutes=10))
