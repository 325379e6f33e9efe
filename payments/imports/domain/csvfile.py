"""Reading import files: the whole-file checks, the lines, and each line parsed into typed values.

Pure: stdlib, ``billing_project.money`` and the app's error codes only. Amounts are read from text with the
kernel's ``exact_money`` (never float) and must be exact to the cent; dates are ISO ``YYYY-MM-DD``. See
``docs/payment-imports.md`` for the formats.

- ``read_file(content, columns)``: decode (UTF-8, a BOM is allowed), check size, CSV syntax and header; refuse
  the whole file with ``FileRefused`` otherwise. Answers the text and the number of data lines.
- ``iter_lines(text)``: the data lines in order, each with its line number (the header is line 1) and its
  values by column; blank lines are skipped.
- ``parse_offline`` / ``parse_settlement``: one line into a frozen dataclass, or ``RowProblem`` with the exact
  code and message.
- ``offline_key`` / ``settlement_key``: the normalised identity of a line (the idempotency key of imports).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from billing_project.money import MoneyError, exact_money
from payments.imports.errors import (
    PAYMENT_IMPORT_BAD_AMOUNT,
    PAYMENT_IMPORT_BAD_DATE,
    PAYMENT_IMPORT_BAD_MOBILE,
    PAYMENT_IMPORT_BAD_STATUS,
    PAYMENT_IMPORT_DUPLICATE_COLUMNS,
    PAYMENT_IMPORT_EMPTY_FILE,
    PAYMENT_IMPORT_FILE_TOO_LARGE,
    PAYMENT_IMPORT_FUTURE_DATE,
    PAYMENT_IMPORT_MALFORMED_ROW,
    PAYMENT_IMPORT_MISSING_COLUMNS,
    PAYMENT_IMPORT_MISSING_VALUE,
    PAYMENT_IMPORT_MODE_NOT_ALLOWED,
    PAYMENT_IMPORT_NOT_CSV,
    PAYMENT_IMPORT_TOO_MANY_ROWS,
    PAYMENT_IMPORT_UNKNOWN_COLUMNS,
    PAYMENT_IMPORT_VALUE_TOO_LONG,
)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_KEY_LENGTH = 1000

OFFLINE_REQUIRED = ("consumer_code", "business_service", "amount", "mode", "instrument_reference", "date")
OFFLINE_OPTIONAL = ("tenant_id", "payer_name", "mobile_number", "instrument_date", "ifsc_code")
SETTLEMENT_REQUIRED = ("transaction_id", "amount", "status", "settlement_date")
SETTLEMENT_OPTIONAL: tuple[str, ...] = ()
SETTLEMENT_STATUSES = ("SUCCESS", "FAILURE")

# Maximum lengths: those of the columns the values end up in.
LIMITS = {
    "tenant_id": 128,
    "consumer_code": 250,
    "business_service": 64,
    "instrument_reference": 128,
    "payer_name": 256,
    "ifsc_code": 32,
    "transaction_id": 256,
}

_AMOUNT = re.compile(r"^[0-9]+(\.[0-9]{1,2})?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MOBILE = re.compile(r"^[0-9]{10}$")
_SPACES = re.compile(r"\s+")


class FileRefused(Exception):
    """The whole file is refused (nothing is stored)."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


class RowProblem(Exception):
    """One line is rejected, with the exact reason."""

    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class Line:
    """A data line: its number in the file (header = 1), its values by column, and how many fields it had."""

    number: int
    values: dict[str, str]
    field_count: int
    header_count: int

    def raw(self) -> dict[str, str]:
        return dict(self.values)


@dataclass(frozen=True)
class ReadFile:
    text: str
    header: tuple[str, ...]
    rows: int


def _decode(content: bytes) -> str:
    if len(content) > MAX_FILE_BYTES:
        raise FileRefused(
            PAYMENT_IMPORT_FILE_TOO_LARGE,
            f"The file has {len(content)} bytes; at most {MAX_FILE_BYTES} are accepted (split it)",
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            PAYMENT_IMPORT_NOT_CSV, f"The file is not UTF-8 text (byte {exc.start}): export it as CSV UTF-8"
        ) from None
    if "\x00" in text:
        raise FileRefused(PAYMENT_IMPORT_NOT_CSV, "The file holds NUL bytes: it is not a CSV text file")
    return text


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of every non-blank CSV record; ``csv.Error`` names its line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise FileRefused(PAYMENT_IMPORT_NOT_CSV, f"Line {reader.line_num}: not valid CSV ({exc})") from None
        if any(field.strip() for field in record):
            yield start, record
        start = reader.line_num + 1


def read_file(content: bytes, *, required: Sequence[str], optional: Sequence[str]) -> ReadFile:
    """Decode and check a whole file: UTF-8 CSV, a header with every required column (names trimmed and
    lower-cased; no unknown or repeated column), at least one and at most ``MAX_ROWS`` data lines, every line
    valid CSV. Raises ``FileRefused``."""
    text = _decode(content)
    records = _records(text)
    first = next(records, None)
    if first is None:
        raise FileRefused(PAYMENT_IMPORT_EMPTY_FILE, "The file is empty: expected a header line and data lines")
    header = tuple(name.strip().lower() for name in first[1])
    missing = [name for name in required if name not in header]
    if missing:
        raise FileRefused(
            PAYMENT_IMPORT_MISSING_COLUMNS,
            f"The header lacks the column(s) {', '.join(missing)}; expected {','.join(required)}"
            + (f" (optional: {','.join(optional)})" if optional else ""),
        )
    unknown = [name for name in header if name not in required and name not in optional]
    if unknown:
        raise FileRefused(
            PAYMENT_IMPORT_UNKNOWN_COLUMNS,
            f"Unknown column(s) {', '.join(repr(n) for n in unknown)}; allowed: {','.join((*required, *optional))}",
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise FileRefused(PAYMENT_IMPORT_DUPLICATE_COLUMNS, f"Repeated column(s) {', '.join(repeated)}")
    rows = 0
    for _ in records:
        rows += 1
        if rows > MAX_ROWS:
            raise FileRefused(PAYMENT_IMPORT_TOO_MANY_ROWS, f"More than {MAX_ROWS} data lines: split the file")
    if rows == 0:
        raise FileRefused(PAYMENT_IMPORT_EMPTY_FILE, "The file has a header but no data lines")
    return ReadFile(text=text, header=header, rows=rows)


def iter_lines(text: str) -> Iterator[Line]:
    """The data lines of a file accepted by ``read_file``, in file order."""
    records = _records(text)
    first = next(records, None)
    if first is None:
        return
    header = [name.strip().lower() for name in first[1]]
    for number, record in records:
        values = dict(zip(header, record, strict=False))
        if len(record) > len(header):
            values["_extra"] = ",".join(record[len(header) :])
        yield Line(number=number, values=values, field_count=len(record), header_count=len(header))


# Parsing one line ---------------------------------------------------------------------------------------------


def _check_shape(line: Line) -> None:
    if line.field_count != line.header_count:
        raise RowProblem(
            PAYMENT_IMPORT_MALFORMED_ROW,
            f"The line has {line.field_count} fields; the header has {line.header_count}",
        )


def _text(line: Line, name: str, *, required: bool) -> str:
    value = line.values.get(name, "").strip()
    if required and not value:
        raise RowProblem(PAYMENT_IMPORT_MISSING_VALUE, f"{name} is empty")
    limit = LIMITS.get(name)
    if limit is not None and len(value) > limit:
        raise RowProblem(PAYMENT_IMPORT_VALUE_TOO_LONG, f"{name} is longer than {limit} characters")
    return value


def parse_amount(text: str, name: str = "amount") -> Decimal:
    """A positive amount exact to the cent, written as digits with an optional point and one or two decimals."""
    if not _AMOUNT.match(text):
        raise RowProblem(
            PAYMENT_IMPORT_BAD_AMOUNT,
            f"{name} {text!r} is not an amount: digits with at most two decimals, no sign, no thousands separator",
        )
    try:
        amount = exact_money(text)
    except MoneyError:  # the pattern allows two places: too many digits for the column or the decimal context
        raise RowProblem(PAYMENT_IMPORT_BAD_AMOUNT, f"{name} {text!r} is too large") from None
    if amount <= 0:
        raise RowProblem(PAYMENT_IMPORT_BAD_AMOUNT, f"{name} {text!r} must be more than 0")
    return amount


def parse_date(text: str, name: str, *, today: dt.date) -> dt.date:
    """An ISO date (``YYYY-MM-DD``) not after ``today``."""
    if not _DATE.match(text):
        raise RowProblem(PAYMENT_IMPORT_BAD_DATE, f"{name} {text!r} is not a date in the form YYYY-MM-DD")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise RowProblem(PAYMENT_IMPORT_BAD_DATE, f"{name} {text!r} is not a valid date") from None
    if value > today:
        raise RowProblem(PAYMENT_IMPORT_FUTURE_DATE, f"{name} {text} is after today ({today.isoformat()})")
    return value


def normalise_reference(text: str) -> str:
    """An instrument reference as it is compared: trimmed, inner whitespace collapsed, upper-cased."""
    return _SPACES.sub(" ", text.strip()).upper()


@dataclass(frozen=True)
class OfflineLine:
    """One line of an offline-collections file, parsed."""

    tenant_code: str  # blank: the run's tenant
    consumer_code: str
    business_service: str
    amount: Decimal
    mode: str
    instrument_reference: str
    date: dt.date
    payer_name: str = ""
    mobile_number: str = ""
    instrument_date: dt.date | None = None
    ifsc_code: str = ""


def parse_offline(line: Line, *, modes: Collection[str], refused_modes: dict[str, str], today: dt.date) -> OfflineLine:
    """Parse an offline-collections line; ``modes`` are the accepted payment modes, ``refused_modes`` maps
    known but refused modes to the reason. Raises ``RowProblem``, checking left to right."""
    _check_shape(line)
    tenant_code = _text(line, "tenant_id", required=False)
    consumer_code = _text(line, "consumer_code", required=True)
    business_service = _text(line, "business_service", required=True).upper()
    amount = parse_amount(_text(line, "amount", required=True))
    mode = _text(line, "mode", required=True).upper()
    if mode in refused_modes:
        raise RowProblem(PAYMENT_IMPORT_MODE_NOT_ALLOWED, f"mode {mode} is not accepted here: {refused_modes[mode]}")
    if mode not in modes:
        raise RowProblem(
            PAYMENT_IMPORT_MODE_NOT_ALLOWED, f"Unknown mode {mode!r}; accepted: {', '.join(sorted(modes))}"
        )
    reference = normalise_reference(_text(line, "instrument_reference", required=True))
    date = parse_date(_text(line, "date", required=True), "date", today=today)
    instrument_text = _text(line, "instrument_date", required=False)
    instrument_date = parse_date(instrument_text, "instrument_date", today=today) if instrument_text else None
    mobile = _text(line, "mobile_number", required=False)
    if mobile and not _MOBILE.match(mobile):
        raise RowProblem(PAYMENT_IMPORT_BAD_MOBILE, f"mobile_number {mobile!r} is not 10 digits")
    return OfflineLine(
        tenant_code=tenant_code,
        consumer_code=consumer_code,
        business_service=business_service,
        amount=amount,
        mode=mode,
        instrument_reference=reference,
        date=date,
        payer_name=_text(line, "payer_name", required=False),
        mobile_number=mobile,
        instrument_date=instrument_date,
        ifsc_code=_text(line, "ifsc_code", required=False).upper(),
    )


@dataclass(frozen=True)
class SettlementLine:
    """One line of a settlement file, parsed. ``transaction_id``: the gateway's id or our merchant reference."""

    transaction_id: str
    amount: Decimal
    status: str
    settlement_date: dt.date


def parse_settlement(line: Line, *, today: dt.date) -> SettlementLine:
    """Parse a settlement line. Raises ``RowProblem``, checking left to right."""
    _check_shape(line)
    transaction_id = _text(line, "transaction_id", required=True)
    amount = parse_amount(_text(line, "amount", required=True))
    status = _text(line, "status", required=True).upper()
    if status not in SETTLEMENT_STATUSES:
        raise RowProblem(PAYMENT_IMPORT_BAD_STATUS, f"status {status!r} is not one of {', '.join(SETTLEMENT_STATUSES)}")
    settlement_date = parse_date(_text(line, "settlement_date", required=True), "settlement_date", today=today)
    return SettlementLine(transaction_id=transaction_id, amount=amount, status=status, settlement_date=settlement_date)


# Keys ---------------------------------------------------------------------------------------------------------


def _key(parts: Sequence[str]) -> str:
    text = json.dumps(list(parts), ensure_ascii=False, separators=(",", ":"))
    if len(text) <= MAX_KEY_LENGTH:
        return text
    return f"{parts[0]}:sha256:{hashlib.sha256(text.encode()).hexdigest()}"


def offline_key(tenant_code: str, line: OfflineLine) -> str:
    """``["OFFLINE", tenant, business service, consumer code, mode, reference, amount, date]`` as compact JSON
    (a SHA-256 of it past ``MAX_KEY_LENGTH`` characters). Values are already normalised by ``parse_offline``:
    trimmed, codes and the reference upper-cased, the amount with two decimals, the date ISO."""
    return _key(
        [
            "OFFLINE",
            tenant_code,
            line.business_service,
            line.consumer_code,
            line.mode,
            line.instrument_reference,
            str(line.amount),
            line.date.isoformat(),
        ]
    )


def settlement_key(tenant_code: str, transaction_pk: str) -> str:
    """``["SETTLEMENT", tenant, our transaction's id]``: a gateway transaction is settled by one line, whichever
    of its two ids the file used."""
    return _key(["SETTLEMENT", tenant_code, transaction_pk])
