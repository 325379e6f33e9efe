"""Writes of the bills app — import them from here, not from the modules (an import-linter contract says so).

- ``generation``: build bills for locked consumer accounts (shared by fetch and bulk runs)
- ``fetch``: ``bill_fetch`` — the consumer's current bill, regenerated when stale (reference §7.4)
- ``refresh``: the business service's demand-refresh call before regeneration (§7.4.5)
- ``cancel``: ``bill_cancel`` (§7.6) and ``bill_cancel_one`` (REST, admin)
- ``expiry``: ``bills_expire_due`` — the expiry sweeper
- ``runs``: bulk billing runs (``billing_run_create``, ``billing_run_start``, ``billing_run_execute``,
  ``billing_run_cancel``, ``billing_run_resume``)
"""

from bills.services.cancel import CancelOutcome, bill_cancel, bill_cancel_one
from bills.services.expiry import bills_expire_due
from bills.services.fetch import FetchCriteria, bill_fetch
from bills.services.generation import is_current
from bills.services.hooks import on_bills_cancelled
from bills.services.refresh import demand_refresh
from bills.services.runs import (
    DEFAULT_CHUNK_SIZE,
    FINISHED,
    MAX_CHUNK,
    RUN_ROLES,
    STALLED_AFTER,
    billing_run_advance,
    billing_run_cancel,
    billing_run_continue,
    billing_run_create,
    billing_run_execute,
    billing_run_resume,
    billing_run_start,
    billing_runs_resubmit_stale,
    run_subject,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "FINISHED",
    "MAX_CHUNK",
    "RUN_ROLES",
    "STALLED_AFTER",
    "CancelOutcome",
    "FetchCriteria",
    "bill_cancel",
    "bill_cancel_one",
    "bill_fetch",
    "billing_run_advance",
    "billing_run_cancel",
    "billing_run_continue",
    "billing_run_create",
    "billing_run_execute",
    "billing_run_resume",
    "billing_run_start",
    "billing_runs_resubmit_stale",
    "bills_expire_due",
    "demand_refresh",
    "is_current",
    "on_bills_cancelled",
    "run_subject",
]
