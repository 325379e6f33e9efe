"""DIGIT idgen formats (reference §3.4, §7.7): parse a format once, then render ids from drawn sequence values.

A format is literal text with these tokens:

``{name}``
    replaced by ``placeholders[name]`` (the caller's values, e.g. ``{module}`` → ``PT``,
    ``{tenantid}`` → ``""`` or ``"_amritsar"``). The value is literal text: brackets in it are not tokens.
``[SEQ_name]``
    the next value of the sequence ``seq_name``, zero-padded to 6 digits (``000123``; wider numbers are
    not cut). The name may contain ``{placeholders}``, ``[tenant_id]``, ``[tenantid]`` and ``[city]``, e.g.
    ``[SEQ_BS_MUTATION_[tenant_id]]``. Names are lower-cased, as PostgreSQL folds unquoted identifiers.
``[tenantid]``, ``[tenant_id]``
    the tenant code with ``.`` replaced by ``_`` (``pb.amritsar`` → ``pb_amritsar``).
``[city]``
    the city part of the tenant code, upper-cased (``pb.amritsar`` → ``AMRITSAR``; a state → its code).
``[cy:pattern]``
    the date and time of the id in the billing time zone, Java ``SimpleDateFormat`` style: ``yyyy``,
    ``yy``, ``MM``, ``MMM``, ``dd``, ``HH``, ``mm``, ``ss``; ``'quoted'`` text is literal.
``[fy:pattern]``
    the financial year (April to March) containing that date: the first run of ``y`` is the starting year,
    the second the ending year (``yyyy-yy`` → ``2026-27``, ``yyyy-yyyy`` → ``2026-2027``).

Anything else in brackets, an unclosed ``[``/``{`` or a stray ``]`` is refused with ``IdFormatError``.
Pure module: no Django, no clock — the caller passes the instant and the zone.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

SEQUENCE_WIDTH = 6
FINANCIAL_YEAR_START_MONTH = 4
_SEQUENCE_PREFIX = "seq_"
_SEQUENCE_NAME = re.compile(r"seq_[a-z0-9_.\-]+")
_DATE_LETTERS = "yMdHms"
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_SUPPORTED = "[SEQ_name], [tenantid], [tenant_id], [city], [cy:pattern], [fy:pattern]"


class IdFormatError(ValueError):
    """The id format cannot be parsed or rendered; the message says what and where."""


@dataclass(frozen=True)
class PatternField:
    """A run of one pattern letter, e.g. ``yyyy`` → ``PatternField("y", 4)``."""

    letter: str
    width: int


PatternPart = str | PatternField


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class SequenceRef:
    name: str


@dataclass(frozen=True)
class DateRef:
    pattern: str
    parts: tuple[PatternPart, ...]


@dataclass(frozen=True)
class FinancialYearRef:
    pattern: str
    parts: tuple[PatternPart, ...]


Segment = Text | SequenceRef | DateRef | FinancialYearRef


@dataclass(frozen=True)
class ParsedFormat:
    """A format with placeholders and tenant tokens resolved; sequences and dates are left to ``render``."""

    source: str
    segments: tuple[Segment, ...]

    @property
    def sequence_names(self) -> tuple[str, ...]:
        """The distinct (lower-case) sequence names, in order of first appearance."""
        seen: dict[str, None] = {}
        for segment in self.segments:
            if isinstance(segment, SequenceRef):
                seen.setdefault(segment.name, None)
        return tuple(seen)


def tenant_token(tenant_code: str) -> str:
    """``[tenant_id]``/``[tenantid]``: the tenant code with ``.`` replaced by ``_``."""
    return tenant_code.replace(".", "_")


def city_token(tenant_code: str) -> str:
    """``[city]``: the last part of the tenant code, upper-cased."""
    return tenant_code.rsplit(".", 1)[-1].upper()


def parse_format(fmt: str, placeholders: Mapping[str, str] | None = None, *, tenant_code: str) -> ParsedFormat:
    """Parse ``fmt`` for ``tenant_code``, substituting ``placeholders``; raise ``IdFormatError`` if malformed."""
    if not fmt or not fmt.strip():
        raise IdFormatError("the id format is empty")
    parser = _Parser(fmt, placeholders or {}, tenant_code)
    return ParsedFormat(source=fmt, segments=parser.parse())


def render(parsed: ParsedFormat, seq_values: Mapping[str, int], at: dt.datetime, zone: dt.tzinfo) -> str:
    """One id: each sequence takes its value from ``seq_values``; dates are ``at`` seen in ``zone``."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise IdFormatError("ids are rendered from an aware datetime")
    local = at.astimezone(zone)
    out: list[str] = []
    for segment in parsed.segments:
        if isinstance(segment, Text):
            out.append(segment.text)
        elif isinstance(segment, SequenceRef):
            out.append(_sequence_text(segment.name, seq_values))
        elif isinstance(segment, DateRef):
            out.append(_format_date(segment.parts, local))
        else:
            out.append(_format_financial_year(segment.parts, financial_year_start(local.date())))
    return "".join(out)


def financial_year_start(day: dt.date) -> int:
    """The year in which the financial year (April to March) containing ``day`` starts."""
    return day.year if day.month >= FINANCIAL_YEAR_START_MONTH else day.year - 1


# --- parsing ---------------------------------------------------------------------------------


class _Parser:
    def __init__(self, fmt: str, placeholders: Mapping[str, str], tenant_code: str) -> None:
        self.fmt = fmt
        self.placeholders = placeholders
        self.tenant_code = tenant_code

    def parse(self) -> tuple[Segment, ...]:
        segments: list[Segment] = []
        text: list[str] = []
        fmt, i = self.fmt, 0
        while i < len(fmt):
            char = fmt[i]
            if char == "{":
                end = self._closing_brace(i)
                text.append(self._placeholder(fmt[i + 1 : end], i))
                i = end + 1
            elif char == "[":
                end = self._closing_bracket(i)
                token = self._bracket_token(fmt[i + 1 : end], i)
                if isinstance(token, str):
                    text.append(token)
                else:
                    if text:
                        segments.append(Text("".join(text)))
                        text = []
                    segments.append(token)
                i = end + 1
            elif char == "]":
                raise IdFormatError(f"unmatched ']' at position {i} in id format {fmt!r}")
            else:
                text.append(char)
                i += 1
        if text:
            segments.append(Text("".join(text)))
        return tuple(segments)

    def _closing_brace(self, start: int) -> int:
        end = self.fmt.find("}", start + 1)
        if end == -1:
            raise IdFormatError(f"unclosed '{{' at position {start} in id format {self.fmt!r}")
        return end

    def _closing_bracket(self, start: int) -> int:
        depth = 0
        for index in range(start, len(self.fmt)):
            if self.fmt[index] == "[":
                depth += 1
            elif self.fmt[index] == "]":
                depth -= 1
                if depth == 0:
                    return index
        raise IdFormatError(f"unclosed '[' at position {start} in id format {self.fmt!r}")

    def _placeholder(self, name: str, position: int) -> str:
        if not name or any(c in name for c in "{[]"):
            raise IdFormatError(f"bad placeholder {{{name}}} at position {position} in id format {self.fmt!r}")
        if name in self.placeholders:
            return self.placeholders[name]
        wanted = name.lower()
        for key, value in self.placeholders.items():
            if key.lower() == wanted:
                return value
        given = ", ".join(sorted(self.placeholders)) or "none"
        raise IdFormatError(
            f"placeholder {{{name}}} at position {position} has no value (given: {given}) in id format {self.fmt!r}"
        )

    def _bracket_token(self, token: str, position: int) -> str | Segment:
        lowered = token.lower()
        if lowered.startswith(_SEQUENCE_PREFIX):
            return SequenceRef(self._sequence_name(token, position))
        if lowered.startswith("cy:"):
            return DateRef(token[3:], _compile_pattern(token[3:], _DATE_LETTERS, f"[{token}]"))
        if lowered.startswith("fy:"):
            parts = _compile_pattern(token[3:], "y", f"[{token}]")
            years = sum(1 for part in parts if isinstance(part, PatternField))
            if years not in (1, 2):
                raise IdFormatError(f"[{token}] needs one or two runs of 'y' (e.g. [fy:yyyy-yy])")
            return FinancialYearRef(token[3:], parts)
        simple = self._simple_token(lowered)
        if simple is not None:
            return simple
        raise IdFormatError(
            f"unknown token [{token}] at position {position} in id format {self.fmt!r}; supported: {_SUPPORTED}"
        )

    def _simple_token(self, lowered: str) -> str | None:
        if lowered in ("tenantid", "tenant_id"):
            return tenant_token(self.tenant_code)
        if lowered == "city":
            return city_token(self.tenant_code)
        return None

    def _sequence_name(self, token: str, position: int) -> str:
        """Resolve ``{placeholders}`` and ``[tenant_id]``/``[tenantid]``/``[city]`` inside a sequence name."""
        out: list[str] = []
        i = 0
        while i < len(token):
            char = token[i]
            if char == "{":
                end = token.find("}", i + 1)
                if end == -1:
                    raise IdFormatError(f"unclosed '{{' in sequence token [{token}] in id format {self.fmt!r}")
                out.append(self._placeholder(token[i + 1 : end], position + 1 + i))
                i = end + 1
            elif char == "[":
                end = token.find("]", i + 1)
                inner = token[i + 1 : end] if end != -1 else ""
                value = self._simple_token(inner.lower())
                if value is None:
                    raise IdFormatError(
                        f"only [tenant_id], [tenantid] and [city] may appear inside a sequence name, "
                        f"not [{inner}] in [{token}] of id format {self.fmt!r}"
                    )
                out.append(value)
                i = end + 1
            else:
                out.append(char)
                i += 1
        name = "".join(out).lower()
        if not _SEQUENCE_NAME.fullmatch(name):
            raise IdFormatError(
                f"sequence [{token}] resolves to {name!r}, which is not a sequence name "
                f"(letters, digits, '_', '.', '-' after SEQ_) in id format {self.fmt!r}"
            )
        return name


def _compile_pattern(pattern: str, letters: str, where: str) -> tuple[PatternPart, ...]:
    """A SimpleDateFormat-style pattern as literal strings and letter runs."""
    if not pattern:
        raise IdFormatError(f"{where} has an empty pattern")
    parts: list[PatternPart] = []
    literal: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            if pattern.startswith("''", i):
                literal.append("'")
                i += 2
                continue
            i += 1
            while True:
                if i >= len(pattern):
                    raise IdFormatError(f"unclosed quote in {where}")
                if pattern.startswith("''", i):
                    literal.append("'")
                    i += 2
                elif pattern[i] == "'":
                    i += 1
                    break
                else:
                    literal.append(pattern[i])
                    i += 1
        elif char.isascii() and char.isalpha():
            if char not in letters:
                allowed = ", ".join(letters)
                raise IdFormatError(f"pattern letter {char!r} is not supported in {where} (allowed: {allowed})")
            end = i
            while end < len(pattern) and pattern[end] == char:
                end += 1
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(PatternField(char, end - i))
            i = end
        else:
            literal.append(char)
            i += 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


# --- rendering -------------------------------------------------------------------------------


def _sequence_text(name: str, seq_values: Mapping[str, int]) -> str:
    if name not in seq_values:
        raise IdFormatError(f"no value was drawn for sequence {name}")
    value = seq_values[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise IdFormatError(f"sequence {name} has an invalid value {value!r}")
    return f"{value:0{SEQUENCE_WIDTH}d}"


def _year_text(year: int, width: int) -> str:
    if width == 2:
        return f"{year % 100:02d}"
    return f"{year:0{width}d}"


def _format_date(parts: tuple[PatternPart, ...], local: dt.datetime) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part.letter == "y":
            out.append(_year_text(local.year, part.width))
        elif part.letter == "M" and part.width >= 3:
            name = _MONTHS[local.month - 1]
            out.append(name if part.width >= 4 else name[:3])
        else:
            value = {"M": local.month, "d": local.day, "H": local.hour, "m": local.minute, "s": local.second}
            out.append(f"{value[part.letter]:0{part.width}d}")
    return "".join(out)


def _format_financial_year(parts: tuple[PatternPart, ...], start_year: int) -> str:
    out: list[str] = []
    years = iter((start_year, start_year + 1))
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            out.append(_year_text(next(years), part.width))
    return "".join(out)


__all__ = [
    "DateRef",
    "FinancialYearRef",
    "IdFormatError",
    "ParsedFormat",
    "PatternField",
    "SequenceRef",
    "Text",
    "city_token",
    "financial_year_start",
    "parse_format",
    "render",
    "tenant_token",
]
