"""Masking a payer's personal data for callers who may see a bill but not who owes it (pure).

DIGIT's quick pay shows a bill to whoever knows its consumer code; the payer's name, mobile number, e-mail and
address are then masked. The shapes follow DIGIT's privacy masking: a mobile number keeps its last four digits
(``9876502708`` → ``******2708``, the form DIGIT's web app recognises by its ``*``), a name keeps the first letter
of each word, an e-mail the first letter and the domain, and an address is hidden whole.
"""

from __future__ import annotations

MASK = "*"


def mask_mobile(value: str | None) -> str | None:
    if not value:
        return value
    keep = value[-4:] if len(value) > 4 else ""
    return MASK * (len(value) - len(keep)) + keep


def mask_name(value: str | None) -> str | None:
    if not value:
        return value
    return " ".join(word[0] + MASK * (len(word) - 1) for word in value.split())


def mask_email(value: str | None) -> str | None:
    if not value:
        return value
    local, at, domain = value.partition("@")
    if not at:
        return MASK * len(value)
    return (local[:1] + MASK * max(len(local) - 1, 1)) + "@" + domain


def mask_address(value: str | None) -> str | None:
    if not value:
        return value
    return MASK * 4
