"""The pure workflow tables and helpers (amendments.domain.workflow)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amendments.domain.workflow import (
    Action,
    State,
    Status,
    amendment_number,
    note_type,
    parse_action,
    signs_mixed,
    status_for,
)
from amendments.models import Amendment, AmendmentState


def test_status_of_each_state() -> None:
    assert {state.value: status_for(state, consumed=False).value for state in State} == {
        "NEW": "INWORKFLOW",
        "APPROVALPENDING": "INWORKFLOW",
        "PENDING_FOR_CITIZEN_ACTION": "INWORKFLOW",
        "APPROVED": "ACTIVE",
        "REJECTED": "INACTIVE",
        "WITHDRAWN": "INACTIVE",
        "DIRECT": "ACTIVE",
    }
    assert status_for(State.APPROVED, consumed=True) == Status.CONSUMED


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("APPROVE", Action.APPROVE),
        ("approve", Action.APPROVE),
        (" RE-SUBMIT ", Action.RESUBMIT),
        ("RESUBMIT", Action.RESUBMIT),
        ("SEND_BACK", Action.SEND_BACK),
        ("WITHDRAW", Action.WITHDRAW),
        ("OPEN", None),
        ("APPLY", None),
        ("CREATE_DIRECT", None),
        ("", None),
    ],
)
def test_parse_action(raw: str, expected: Action | None) -> None:
    assert parse_action(raw) == expected


def test_note_type_and_number() -> None:
    assert note_type(Decimal("0")) == "CN"
    assert note_type(Decimal("-0.01")) == "DN"
    assert (
        amendment_number(
            "NOTETYPE-CONSUMERCODE-000007", first_tax_amount=Decimal("-100"), consumer_code="WS/107/2021-22/227166"
        )
        == "DN-WS/107/2021-22/227166-000007"
    )
    # A consumer code containing the word is inserted verbatim.
    assert (
        amendment_number("NOTETYPE-CONSUMERCODE-1", first_tax_amount=Decimal(1), consumer_code="NOTETYPE")
        == "CN-NOTETYPE-1"
    )


@given(st.lists(st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False), min_size=1, max_size=8))
def test_signs_mixed_matches_the_reference_rule(amounts: list[Decimal]) -> None:
    non_negative = [a for a in amounts if a >= 0]
    assert signs_mixed(amounts) == (0 < len(non_negative) < len(amounts))


def test_model_transitions_match_the_domain_table() -> None:
    from amendments.domain.workflow import WORKFLOW_ACTIONS

    transitions = {
        (t.name, str(t.source), str(t.target))
        for t in Amendment._meta.get_field("state").get_all_transitions(Amendment)
    }
    for action, (sources, target) in WORKFLOW_ACTIONS.items():
        for source in sources:
            assert (action.value.lower(), source.value, target.value) in transitions
    assert {s.value for s in State} == set(AmendmentState.values)
