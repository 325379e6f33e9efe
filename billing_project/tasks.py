"""Kernel Celery tasks (the idempotency-key purge, the outbox relay's), and the retry policy of the apps' tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypedDict, TypeVar

from celery import Task, shared_task
from django.db import OperationalError

from billing_project import clock
from billing_project.idempotency import idempotency_keys_purge
from billing_project.outbox.tasks import outbox_deliver, outbox_sweep

__all__ = [
    "RETRY_POLICY",
    "outbox_deliver",
    "outbox_sweep",
    "purge_idempotency_keys",
    "retry_safe_bound_task",
    "retry_safe_task",
]

P = ParamSpec("P")
R = TypeVar("R")


class _RetryPolicy(TypedDict):
    acks_late: bool
    autoretry_for: tuple[type[BaseException], ...]
    retry_backoff: bool
    max_retries: int


#: DESIGN.md rule 9: acknowledged after the work (a task lost with its worker is delivered again), transient
#: database errors retried with exponential backoff, at most five times. The services re-check state, so a
#: repeated delivery does nothing new.
RETRY_POLICY: _RetryPolicy = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}


def retry_safe_task(*, name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """``shared_task`` named ``name`` with ``RETRY_POLICY``."""
    return shared_task(name=name, **RETRY_POLICY)


def retry_safe_bound_task(*, name: str) -> Callable[[Callable[Concatenate[Task[P, R], P], R]], Task[P, R]]:
    """``shared_task(bind=True)`` named ``name`` with ``RETRY_POLICY`` (the task gets itself as first argument)."""
    return shared_task(name=name, bind=True, **RETRY_POLICY)


@shared_task(name="kernel.purge_idempotency_keys", acks_late=True)
def purge_idempotency_keys() -> int:
    """Beat job: forget idempotency keys older than their time to live."""
    return idempotency_keys_purge(at=clock.now())
