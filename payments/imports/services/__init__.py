"""Writes of the batch imports (``docs/payment-imports.md``).

- ``runs``: ``import_run_create`` (check and store a file, queue its task) and ``import_run_execute`` (apply its
  lines in order, resumable)
- ``offline``: one offline-collections line → a counter payment (``payment_validate`` + ``payment_record``)
- ``settlement``: one settlement line → the gateway's verdict path (``gateway_verdict_apply``)
- ``outcomes``: a line's ``ImportRow`` and the run's counters, written together
"""

from payments.imports.services.runs import (
    import_run_continue,
    import_run_create,
    import_run_execute,
    import_run_get,
    import_runs_resubmit_stale,
    run_subject,
)

__all__ = [
    "import_run_continue",
    "import_run_create",
    "import_run_execute",
    "import_run_get",
    "import_runs_resubmit_stale",
    "run_subject",
]
