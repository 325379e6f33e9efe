"""Helpers of the PostgreSQL concurrency tests: threads released at once, rows held locked by another
transaction, and waiting (by polling PostgreSQL, never by sleeping) until a session blocks on a lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from billing_project.errors import DomainError


def run_together(work: list[Callable[[], Any]], *, success: Any = None) -> list[Any]:
    """Run the callables in threads released by one barrier and return one outcome each, in order.

    An outcome is the callable's result (or ``success`` when given), the code of a DomainError, or the repr
    of any other exception — an IntegrityError or a deadlock there is the bug a test is looking for. Each
    thread closes its database connection.
    """
    barrier = threading.Barrier(len(work))
    outcomes: list[Any] = [None] * len(work)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = work[index]()
            outcomes[index] = result if success is None else success
        except DomainError as exc:
            outcomes[index] = exc.code
        except Exception as exc:
            outcomes[index] = repr(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


@contextmanager
def rows_locked_elsewhere(rows: QuerySet[Any], *, lock_timeout: str = "300ms") -> Iterator[None]:
    """Hold ``rows`` ``FOR UPDATE`` in another thread's transaction while the block runs, with this session's
    ``lock_timeout`` set, so that a write needing one of those locks fails instead of waiting. Afterwards the
    holder commits and the timeout is reset."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                list(rows.select_for_update())
                locked.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = %s", [lock_timeout])
        yield
    finally:
        release.set()
        holder.join(timeout=60)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def backend_pid() -> int:
    """This thread's PostgreSQL session id."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def wait_until_blocked(waiter_pid: int, *, by: int, still_running: Callable[[], bool], what: str) -> None:
    """Poll PostgreSQL (each poll is a query, no sleep) until session ``waiter_pid`` waits on a lock of ``by``;
    fail when the waiter finishes first or after 30 s."""
    deadline = time.monotonic() + 30
    while True:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_blocking_pids(%s)", [waiter_pid])
            if by in cursor.fetchone()[0]:
                return
        assert still_running(), f"{what}: finished without waiting"
        assert time.monotonic() < deadline, f"{what}: never waited on the lock"


def locked_relations(pid: int) -> set[str]:
    """The tables (and indexes) session ``pid`` holds or awaits a lock on."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT relation::regclass::text FROM pg_locks WHERE pid = %s AND relation IS NOT NULL", [pid]
        )
        return {row[0] for row in cursor.fetchall()}
