"""Writes of the amendments app — import them from here, not from the modules (an import-linter contract says so).

- ``inputs``: the validated input dataclasses both API faces build
- ``create``: ``amendment_create`` (the reference's validations; applies at once with the workflow off)
- ``transitions``: ``amendment_transition`` (APPROVE, REJECT, SEND_BACK, RESUBMIT, WITHDRAW; roles; locks)
- ``apply``: appending an ACTIVE amendment's lines to a demand, and ``amendments_absorb``, the handler that
  lets a new demand take in waiting ACTIVE amendments (registered in ``AmendmentsConfig.ready``)
- ``ids``: amendment ids from the id format ``bs.amendment.id``
"""

from amendments.services.apply import amendments_absorb
from amendments.services.create import amendment_create, workflow_enabled
from amendments.services.inputs import AmendmentInput, DocumentInput, LineInput
from amendments.services.mirror import WORKFLOW_CHANNEL, workflow_mirror
from amendments.services.transitions import amendment_transition

__all__ = [
    "WORKFLOW_CHANNEL",
    "AmendmentInput",
    "DocumentInput",
    "LineInput",
    "amendment_create",
    "amendment_transition",
    "amendments_absorb",
    "workflow_enabled",
    "workflow_mirror",
]
