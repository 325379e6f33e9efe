"""One line of a settlement file (written next; see docs/payment-imports.md)."""

from __future__ import annotations

import datetime as dt

from masters.access import Caller
from payments.imports.domain.csvfile import Line
from payments.imports.models import ImportRow, ImportRun


def settlement_row_import(*, run: ImportRun, caller: Caller, line: Line, at: dt.datetime) -> ImportRow | None:
    raise NotImplementedError("settlement imports are not written yet")
