"""Fault configuration of the sandbox and its seeded, reproducible decisions.

A decision ("answer this call with a 503?", "drop this callback?") is a pure function of the seed, the fault,
a *subject* — the route of a merchant call (``"POST create"``, ``"GET status"``, ...), or ``"callback"`` — and
the number of that subject's occurrence since the seed was set (the 1st, 2nd, ... create call). So a test whose
client calls in a fixed order sees the same faults on every run, whatever the (random) ids and references,
and a retried call draws anew. With concurrent clients the order of arrival, hence which call meets which
fault, follows the interleaving.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

CALLBACK_MODES = ("immediate", "manual")
RATE_KEYS = ("error_rate", "error_after_rate", "slow_rate", "timeout_rate", "drop_callback_rate")
BOOL_KEYS = ("duplicate_callbacks", "reorder_callbacks")


class FaultConfigError(ValueError):
    """A fault configuration value out of range or of the wrong type."""


@dataclasses.dataclass(frozen=True)
class FaultConfig:
    error_rate: float = 0.0
    error_after_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 0.0
    timeout_rate: float = 0.0
    duplicate_callbacks: bool = False
    reorder_callbacks: bool = False
    drop_callback_rate: float = 0.0
    callback_mode: str = "immediate"
    seed: int = 0

    def updated(self, changes: dict[str, Any]) -> FaultConfig:
        """A copy with ``changes`` applied (omitted keys keep their value); unknown or bad values refused."""
        known = {field.name for field in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise FaultConfigError(f"unknown fault keys: {', '.join(unknown)}")
        clean: dict[str, Any] = {}
        for key, value in changes.items():
            if key in RATE_KEYS:
                clean[key] = _number(key, value, upper=1.0)
            elif key == "slow_seconds":
                clean[key] = _number(key, value, upper=600.0)
            elif key in BOOL_KEYS:
                if not isinstance(value, bool):
                    raise FaultConfigError(f"{key} must be true or false")
                clean[key] = value
            elif key == "callback_mode":
                if value not in CALLBACK_MODES:
                    raise FaultConfigError(f"callback_mode must be one of {', '.join(CALLBACK_MODES)}")
                clean[key] = value
            elif key == "seed":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise FaultConfigError("seed must be an integer")
                clean[key] = value
        return dataclasses.replace(self, **clean)

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _number(key: str, value: Any, *, upper: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultConfigError(f"{key} must be a number")
    if not 0 <= value <= upper:
        raise FaultConfigError(f"{key} must be between 0 and {upper:g}")
    return float(value)


def draw(*, seed: int, fault: str, subject: str, occurrence: int) -> float:
    """A reproducible number in [0, 1) for this fault, subject and occurrence under ``seed``."""
    digest = hashlib.sha256(f"{seed}|{fault}|{subject}|{occurrence}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def decide(*, rate: float, seed: int, fault: str, subject: str, occurrence: int) -> bool:
    """True when the fault strikes: never at rate 0, always at rate 1."""
    if rate <= 0:
        return False
    return draw(seed=seed, fault=fault, subject=subject, occurrence=occurrence) < rate
