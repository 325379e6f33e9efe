"""The amendment workflow as data: states, actions, the status each state means, the id's note type.

Pure module (no Django): the model's django-fsm transitions and the services read these tables, the docs
describe them (docs/amendments.md). Reference §7.10.1, with WITHDRAW and the workflow-off state added.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class State(StrEnum):
    NEW = "NEW"  # before the first transition; never stored
    APPROVALPENDING = "APPROVALPENDING"
    PENDING_FOR_CITIZEN_ACTION = "PENDING_FOR_CITIZEN_ACTION"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    WITHDRAWN = "WITHDRAWN"
    DIRECT = "DIRECT"  # created while the workflow was turned off: active at once


class Status(StrEnum):
    """The reference's AmendmentStatus."""

    INWORKFLOW = "INWORKFLOW"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    CONSUMED = "CONSUMED"


class Action(StrEnum):
    OPEN = "OPEN"
    APPROVE = "APPROVE"
    REJECT = "REJECT"
    SEND_BACK = "SEND_BACK"
    RESUBMIT = "RESUBMIT"
    WITHDRAW = "WITHDRAW"
    CREATE_DIRECT = "CREATE_DIRECT"  # creation with the workflow off
    APPLY = "APPLY"  # lines added to a demand (not a workflow action; recorded in the history)


# The workflow's applicationStatus of each state (reference §7.10.1).
STATUS_OF_STATE: dict[State, Status] = {
    State.NEW: Status.INWORKFLOW,
    State.APPROVALPENDING: Status.INWORKFLOW,
    State.PENDING_FOR_CITIZEN_ACTION: Status.INWORKFLOW,
    State.APPROVED: Status.ACTIVE,
    State.REJECTED: Status.INACTIVE,
    State.WITHDRAWN: Status.INACTIVE,
    State.DIRECT: Status.ACTIVE,
}

# Actions a client may ask for, with the state they start from and the one they lead to.
WORKFLOW_ACTIONS: dict[Action, tuple[tuple[State, ...], State]] = {
    Action.APPROVE: ((State.APPROVALPENDING,), State.APPROVED),
    Action.REJECT: ((State.APPROVALPENDING,), State.REJECTED),
    Action.SEND_BACK: ((State.APPROVALPENDING,), State.PENDING_FOR_CITIZEN_ACTION),
    Action.RESUBMIT: ((State.PENDING_FOR_CITIZEN_ACTION,), State.APPROVALPENDING),
    Action.WITHDRAW: ((State.APPROVALPENDING, State.PENDING_FOR_CITIZEN_ACTION), State.WITHDRAWN),
}

# Spellings accepted on the DIGIT face (the reference's workflow calls it RE-SUBMIT).
ACTION_ALIASES = {"RE-SUBMIT": Action.RESUBMIT, "RE_SUBMIT": Action.RESUBMIT, "SENDBACK": Action.SEND_BACK}


def status_for(state: str, *, consumed: bool) -> Status:
    """The stored status: CONSUMED once the lines are in a demand, else what the state means."""
    return Status.CONSUMED if consumed else STATUS_OF_STATE[State(state)]


def parse_action(value: str) -> Action | None:
    """The workflow action named by ``value`` (case-insensitive, aliases allowed); None if unknown or internal."""
    wanted = value.strip().upper()
    action = ACTION_ALIASES.get(wanted)
    if action is None:
        try:
            action = Action(wanted)
        except ValueError:
            return None
    return action if action in WORKFLOW_ACTIONS else None


def note_type(first_tax_amount: Decimal) -> str:
    """CN when the first line's amount is >= 0, else DN — as the reference codes it (§7.10.2 step 7)."""
    return "CN" if first_tax_amount >= 0 else "DN"


def amendment_number(rendered: str, *, first_tax_amount: Decimal, consumer_code: str) -> str:
    """Fill ``NOTETYPE`` and ``CONSUMERCODE`` of an id rendered from ``NOTETYPE-CONSUMERCODE-[SEQ_…]``."""
    return rendered.replace("NOTETYPE", note_type(first_tax_amount), 1).replace("CONSUMERCODE", consumer_code, 1)


def signs_mixed(amounts: list[Decimal]) -> bool:
    """The reference's sign rule: the count of amounts >= 0 must be zero or all of them."""
    non_negative = sum(1 for amount in amounts if amount >= 0)
    return 0 < non_negative < len(amounts)
