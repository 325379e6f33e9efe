"""The demand-created handler registry (demands/services/hooks.py): amendments are wired there, once, and a
handler runs inside the demand's transaction."""

from __future__ import annotations

from typing import Any

import pytest

from amendments.services import amendments_absorb
from billing_project.errors import DomainError
from demands.services import demand_create
from demands.services import hooks as demand_hooks
from masters.access import Caller
from tests.amendments.conftest import AT, snapshot, wc_demand


def test_amendments_register_their_handler_once() -> None:
    assert demand_hooks.demand_created_handlers() == (amendments_absorb,)
    demand_hooks.demand_created_handler_register(amendments_absorb)
    assert demand_hooks.demand_created_handlers() == (amendments_absorb,)


@pytest.mark.django_db
def test_a_failing_handler_rolls_the_demand_write_back(
    employee: Caller, wc_masters: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, str, int]] = []

    def refuse(*, demands: Any, accounts: Any, actor: str, at: Any) -> None:
        [account] = accounts.values()
        seen.append((len(demands), actor, account.revision))
        raise DomainError("HANDLER_REFUSED", "no")

    monkeypatch.setattr(demand_hooks, "_handlers", [refuse])
    before = snapshot()
    with pytest.raises(DomainError) as info:
        demand_create(caller=employee, demands=[wc_demand()], at=AT)
    assert info.value.code == "HANDLER_REFUSED"
    assert seen == [(1, "emp-asr", 1)]  # called with the new rows and the locked, bumped account
    assert snapshot() == before
