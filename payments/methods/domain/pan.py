"""Card numbers (PANs) must never reach this service: detect anything that looks like one.

A PAN is 13 to 19 digits that pass the Luhn check. Separators that people type inside a card number
(blanks, dashes, dots) are ignored, so ``4242 4242 4242 4242`` is found as well as ``4242424242424242``.
"""

from __future__ import annotations

import re

# A run of digits, possibly with single blanks, dashes or dots between them.
_DIGIT_RUN = re.compile(r"\d(?:[ \-.]?\d)*")
PAN_MIN_DIGITS = 13
PAN_MAX_DIGITS = 19


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn (mod 10) check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _candidates(run: str) -> list[str]:
    """Every 13–19 digit window of a digit run (a PAN may be glued to other digits)."""
    found: list[str] = []
    for length in range(PAN_MIN_DIGITS, min(len(run), PAN_MAX_DIGITS) + 1):
        for start in range(len(run) - length + 1):
            found.append(run[start : start + length])
    return found


def contains_pan(text: str) -> bool:
    """True when ``text`` contains 13–19 digits (optionally separated by blanks, dashes or dots) that pass Luhn."""
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"[ \-.]", "", match.group())
        if len(digits) < PAN_MIN_DIGITS:
            continue
        if any(luhn_valid(candidate) for candidate in _candidates(digits)):
            return True
    return False
