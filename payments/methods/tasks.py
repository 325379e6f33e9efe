"""Celery tasks of autopay: thin and retry-safe (each service re-checks state under its locks).

* ``payments.methods.schedule_autopay`` (beat): schedule the new bills' charges, queue every SCHEDULED charge;
* ``payments.methods.charge``: one attempt of one charge (a SCHEDULED or due FAILED one; others are left as
  they are, so a duplicate delivery does nothing);
* ``payments.methods.retry_due`` (beat): settle charges whose gateway transaction was open, queue the FAILED
  charges whose next retry date has passed.
"""

from __future__ import annotations

from billing_project import clock
from billing_project.tasks import retry_safe_task
from payments.methods.services import autopay_charge_run, autopay_retries_due, autopay_schedule_due


@retry_safe_task(name="payments.methods.schedule_autopay")
def schedule_autopay(*, limit: int = 1000) -> int:
    """Beat job: one charge per new bill of a mandated consumer; queue the SCHEDULED charges."""
    result = autopay_schedule_due(at=clock.now(), limit=limit)
    for charge_id in result.to_charge:
        charge.delay(charge_id=str(charge_id))
    return len(result.scheduled)


@retry_safe_task(name="payments.methods.charge")
def charge(*, charge_id: str) -> str:
    """One attempt of one autopay charge; returns the charge's status afterwards."""
    return str(autopay_charge_run(charge_id=charge_id, at=clock.now()).status)


@retry_safe_task(name="payments.methods.retry_due")
def retry_due(*, limit: int = 500) -> int:
    """Beat job: settle IN_PROGRESS charges, queue the FAILED charges whose next retry date has passed."""
    due = autopay_retries_due(at=clock.now(), limit=limit)
    for charge_id in due:
        charge.delay(charge_id=str(charge_id))
    return len(due)
