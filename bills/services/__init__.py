"""Writes of the bills app.

- ``generation``: build bills for locked consumer accounts (shared by fetch and bulk runs)
- ``fetch``: ``bill_fetch`` — the consumer's current bill, regenerated when stale (reference §7.4)
- ``refresh``: the business service's demand-refresh call before regeneration (§7.4.5)
- ``cancel``: ``bill_cancel`` (§7.6) and ``bill_cancel_one`` (REST, admin)
- ``expiry``: ``bills_expire_due`` — the expiry sweeper
- ``runs``: bulk billing runs (``billing_run_create``, ``billing_run_advance``)
"""
