"""Card numbers (PANs) must never reach this service: detect anything that looks like one.

A PAN is 13 to 19 digits that pass the Luhn check. Separators that people type inside a card number
(single blanks, dashes, dots) are ignored, so ``4242 4242 4242 4242`` is found as well as
``4242424242424242``. A run of digits is judged whole (as data-loss-prevention scanners do): a longer run is
not a card number, and neither is a 13–19 digit run that fails Luhn — about one random run in ten passes Luhn,
so a gateway token made of long digit runs may be refused by chance; real tokens (``tok_...``) are not.
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


def contains_pan(text: str) -> bool:
    """True when ``text`` contains 13–19 digits (optionally separated by blanks, dashes or dots) that pass Luhn."""
    for match in _DIGIT_RUN.finditer(text):
        digits = re.sub(r"[ \-.]", "", match.group())
        if PAN_MIN_DIGITS <= len(digits) <= PAN_MAX_DIGITS and luhn_valid(digits):
            return True
    return False
