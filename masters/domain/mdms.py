"""Parsing of MDMS master files (reference §3) into frozen entries named after the model fields.

A document is ``{"tenantId": "pb", "moduleName": "BillingService", "<MasterName>": [ ... ]}``. Real files
are messy (orders and booleans as strings, period cycles outside the documented enum, legacy keys), so the
parser coerces what is unambiguous, refuses what is not with ``MdmsFormatError`` naming the master and the
entry index, and keeps every key it has no field for in ``extra``. Masters this service does not load are
reported as skipped, so a whole MDMS directory can be fed in.

Pure code: no Django, no clock. Field length limits come from the caller (the models own them).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import ClassVar, NoReturn

from billing_project.money import MoneyError, fits_column, to_money

TENANT_CODE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)?$")
TAX_HEAD_CATEGORIES = frozenset(
    {"TAX", "FEE", "REBATE", "EXEMPTION", "ADVANCE_COLLECTION", "PENALTY", "FINES", "CHARGES"}
)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_INTEGER = re.compile(r"^[+-]?[0-9]+$")
_DOCUMENT_KEYS = ("tenantId", "moduleName")

Limits = Mapping[str, Mapping[str, int]]
"""Maximum text length per master name (``"TaxPeriod"``) and model field name (``"financial_year"``)."""


class MdmsFormatError(ValueError):
    """A document or one of its entries cannot be loaded. ``master``/``index`` say where, when known."""

    def __init__(self, reason: str, *, master: str | None = None, index: int | None = None) -> None:
        self.reason = reason
        self.master = master
        self.index = index
        where = master if index is None or master is None else f"{master}[{index}]"
        super().__init__(f"{where}: {reason}" if where else reason)


class _JsonObject(dict[str, object]):
    """A decoded JSON object that remembers keys given more than once (``json`` keeps only the last)."""

    duplicate_keys: tuple[str, ...] = ()


def _object_hook(pairs: list[tuple[str, object]]) -> _JsonObject:
    obj = _JsonObject(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        duplicates: list[str] = []
        for key, _ in pairs:
            if key in seen:
                duplicates.append(key)
            seen.add(key)
        obj.duplicate_keys = tuple(duplicates)
    return obj


@dataclass(frozen=True)
class MasterEntry:
    """Base of the entries: fields are the model's field names (minus ``tenant``)."""

    MASTER: ClassVar[str]
    KEY_FIELDS: ClassVar[tuple[str, ...]]

    @property
    def key(self) -> tuple[str, ...]:
        """The natural key inside one tenant (the model's unique constraint without ``tenant``)."""
        return tuple(str(getattr(self, name)) for name in self.KEY_FIELDS)

    def model_values(self) -> dict[str, object]:
        """Model field name -> value as the model stores it (tuples become lists for JSON fields)."""
        out: dict[str, object] = {}
        for item in fields(self):
            if not item.metadata.get("stored", True):
                continue
            value = getattr(self, item.name)
            out[item.name] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True)
class BusinessServiceEntry(MasterEntry):
    MASTER: ClassVar[str] = "BusinessService"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("code",)

    code: str
    business_service: str
    collection_modes_not_allowed: tuple[str, ...] = ()
    part_payment_allowed: bool = False
    is_advance_allowed: bool = False
    is_bill_amendment_enabled: bool = False
    fractional_payment_allowed: bool = False
    min_amount_payable: Decimal | None = None
    demand_update_time: int | None = None
    is_voucher_creation_enabled: bool = False
    bill_genie_url: str = ""
    type: str = ""
    is_active: bool = True
    is_citizen: bool = False
    demand_refresh_url: str = ""
    extra: dict[str, object] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class TaxHeadEntry(MasterEntry):
    MASTER: ClassVar[str] = "TaxHeadMaster"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("code",)

    code: str
    service: str
    name: str
    category: str
    order: int
    is_debit: bool = False
    is_actual_demand: bool = False
    is_required: bool = False
    is_bill_amend: bool = False
    is_discount_applicable: bool = False
    extra: dict[str, object] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class TaxPeriodEntry(MasterEntry):
    MASTER: ClassVar[str] = "TaxPeriod"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("service", "code")

    service: str
    code: str
    from_date: dt.datetime
    to_date: dt.datetime
    period_cycle: str
    financial_year: str
    extra: dict[str, object] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class GLCodeEntry(MasterEntry):
    MASTER: ClassVar[str] = "GLCode"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("code", "cb")

    code: str
    gl_code: str | None = None
    cb: str = ""
    extra: dict[str, object] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class IdFormatEntry(MasterEntry):
    MASTER: ClassVar[str] = "IdFormat"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("id_name",)

    id_name: str
    format: str
    # The IdFormat model has no ``extra`` column: unknown keys are kept here but not stored.
    extra: dict[str, object] = field(default_factory=dict, hash=False, metadata={"stored": False})


@dataclass(frozen=True)
class TenantEntry(MasterEntry):
    """A state or city of DIGIT's ``tenant/tenants.json`` (module ``tenant``, master ``tenants``)."""

    MASTER: ClassVar[str] = "tenants"
    KEY_FIELDS: ClassVar[tuple[str, ...]] = ("code",)

    code: str
    name: str = ""
    # city (code, district, ULB grade, coordinates...), description, contact details: kept as loaded
    extra: dict[str, object] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class MasterBlock:
    """The entries of one master in one document."""

    name: str  # "BillingService.TaxPeriod"
    entries: tuple[MasterEntry, ...]

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[1]


@dataclass(frozen=True)
class MdmsDocument:
    """One parsed file. ``skipped`` names the masters it holds that this service does not load."""

    tenant_id: str
    module_name: str
    masters: tuple[MasterBlock, ...]
    skipped: tuple[str, ...]

    @property
    def is_skipped(self) -> bool:
        """True when the document holds nothing this service loads."""
        return not self.masters


class _Reader:
    """Reads the keys of one entry (case-insensitively), remembering which it used; the rest is ``extra``."""

    def __init__(self, master: str, index: int, raw: object, limits: Mapping[str, int]) -> None:
        self.master = master
        self.index = index
        self.limits = limits
        if not isinstance(raw, dict):
            self.fail("entry must be a JSON object")
        duplicates = getattr(raw, "duplicate_keys", ())
        if duplicates:
            self.fail(f"key {duplicates[0]!r} is given more than once")
        self.raw: dict[str, object] = raw
        self.by_lower: dict[str, str] = {}
        for key in raw:
            if key.lower() in self.by_lower:
                self.fail(f"keys {self.by_lower[key.lower()]!r} and {key!r} differ only in case")
            self.by_lower[key.lower()] = key
        self.used: set[str] = set()

    def fail(self, reason: str) -> NoReturn:
        raise MdmsFormatError(reason, master=self.master, index=self.index)

    def get(self, key: str) -> object:
        """The value under ``key`` (any case), None when absent or null."""
        actual = self.by_lower.get(key.lower())
        if actual is None:
            return None
        self.used.add(actual)
        return self.raw[actual]

    def text(self, key: str, field_name: str, *, required: bool = False, default: str = "") -> str:
        value = self.get(key)
        if value is None:
            if required:
                self.fail(f"{key} is required")
            return default
        if not isinstance(value, str):
            self.fail(f"{key} must be a string, got {value!r}")
        value = value.strip()
        if not value and required:
            self.fail(f"{key} must not be empty")
        limit = self.limits.get(field_name)
        if limit is not None and len(value) > limit:
            self.fail(f"{key} is longer than {limit} characters")
        return value

    def nullable_text(self, key: str, field_name: str) -> str | None:
        return None if self.get(key) is None else self.text(key, field_name)

    def flag(self, key: str, *, default: bool = False) -> bool:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        # MDMS data has "true"/"false" strings where the schema says boolean (reference §3.1).
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        self.fail(f"{key} must be true or false, got {value!r}")

    def integer(self, key: str, *, what: str = "an integer") -> int | None:
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, bool):
            self.fail(f"{key} must be {what}, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and _INTEGER.match(value.strip()):
            return int(value.strip())
        self.fail(f"{key} must be {what}, got {value!r}")

    def required_integer(self, key: str, *, what: str = "an integer") -> int:
        value = self.integer(key, what=what)
        if value is None:
            self.fail(f"{key} is required")
        return value

    def epoch_ms(self, key: str) -> dt.datetime:
        millis = self.required_integer(key, what="epoch milliseconds")
        try:
            # Integer arithmetic: a float division would lose milliseconds on large values.
            return _EPOCH + dt.timedelta(milliseconds=millis)
        except OverflowError:
            self.fail(f"{key} must be epoch milliseconds, {millis} is out of range")

    def money(self, key: str) -> Decimal | None:
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(f"{key} must be an amount, got {value!r}")
        try:
            # str() of a float is its shortest exact spelling, i.e. the digits written in the file.
            amount = to_money(str(value).strip())
        except MoneyError:
            self.fail(f"{key} must be an amount, got {value!r}")
        if amount < 0 or not fits_column(amount):
            self.fail(f"{key} must be a non-negative amount below 10^12, got {value!r}")
        return amount

    def text_list(self, key: str) -> tuple[str, ...]:
        value = self.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            self.fail(f"{key} must be a list of non-empty strings, got {value!r}")
        return tuple(item.strip() for item in value)

    def extra(self) -> dict[str, object]:
        """The keys of the entry that were not read, with their values as given."""
        return {key: value for key, value in self.raw.items() if key not in self.used}


def _business_service(r: _Reader) -> BusinessServiceEntry:
    refresh_url = r.text("demandRefreshUrl", "demand_refresh_url")
    if refresh_url and not refresh_url.startswith(("http://", "https://")):
        r.fail(f"demandRefreshUrl must be an http(s) URL, got {refresh_url!r}")
    update_time = r.integer("demandUpdateTime", what="milliseconds")
    if update_time is not None and update_time < 0:
        r.fail(f"demandUpdateTime must not be negative, got {update_time}")
    return BusinessServiceEntry(
        code=r.text("code", "code", required=True),
        business_service=r.text("businessService", "business_service", required=True),
        collection_modes_not_allowed=r.text_list("collectionModesNotAllowed"),
        part_payment_allowed=r.flag("partPaymentAllowed"),
        is_advance_allowed=r.flag("isAdvanceAllowed"),
        is_bill_amendment_enabled=r.flag("isBillAmendmentEnabled"),
        fractional_payment_allowed=r.flag("isFractionalPaymentAllowed"),
        min_amount_payable=r.money("minAmountPayable"),
        demand_update_time=update_time,
        is_voucher_creation_enabled=r.flag("isVoucherCreationEnabled"),
        bill_genie_url=r.text("billGineiURL", "bill_genie_url"),
        type=r.text("type", "type"),
        is_active=r.flag("isActive", default=True),
        is_citizen=r.flag("isCitizen"),
        demand_refresh_url=refresh_url,
        extra=r.extra(),
    )


def _tax_head(r: _Reader) -> TaxHeadEntry:
    code = r.text("code", "code", required=True)
    service = r.text("service", "service", required=True)
    name = r.text("name", "name", required=True)
    category = r.text("category", "category", required=True).upper()
    if category not in TAX_HEAD_CATEGORIES:
        r.fail(f"category must be one of {', '.join(sorted(TAX_HEAD_CATEGORIES))}, got {category!r}")
    return TaxHeadEntry(
        code=code,
        service=service,
        name=name,
        category=category,
        order=r.required_integer("order"),
        is_debit=r.flag("isDebit"),
        is_actual_demand=r.flag("isActualDemand"),
        is_required=r.flag("isRequired"),
        is_bill_amend=r.flag("IsBillamend"),
        is_discount_applicable=r.flag("isDiscountApplicable"),
        extra=r.extra(),
    )


def _tax_period(r: _Reader) -> TaxPeriodEntry:
    service = r.text("service", "service", required=True)
    code = r.text("code", "code", required=True)
    from_date = r.epoch_ms("fromDate")
    to_date = r.epoch_ms("toDate")
    if from_date > to_date:
        r.fail("fromDate must not be after toDate")
    return TaxPeriodEntry(
        service=service,
        code=code,
        from_date=from_date,
        to_date=to_date,
        # Real data has TWOYEARS, TENYEARS, FORTENYEARS... besides the documented enum: any value is kept.
        period_cycle=r.text("periodCycle", "period_cycle", required=True),
        financial_year=r.text("financialYear", "financial_year", required=True),
        extra=r.extra(),
    )


def _gl_code(r: _Reader) -> GLCodeEntry:
    return GLCodeEntry(
        code=r.text("code", "code", required=True),
        gl_code=r.nullable_text("glcode", "gl_code"),
        cb=r.text("cb", "cb"),
        extra=r.extra(),
    )


def _id_format(r: _Reader) -> IdFormatEntry:
    return IdFormatEntry(
        id_name=r.text("idname", "id_name", required=True),
        format=r.text("format", "format", required=True),
        extra=r.extra(),
    )


def _tenant(r: _Reader) -> TenantEntry:
    code = r.text("code", "code", required=True).lower()
    if not TENANT_CODE.match(code):
        r.fail(f"code must be a lower-case state or state.city code, got {code!r}")
    return TenantEntry(code=code, name=r.text("name", "name"), extra=r.extra())


_PARSERS: dict[tuple[str, str], Callable[[_Reader], MasterEntry]] = {
    ("BillingService", "BusinessService"): _business_service,
    ("BillingService", "TaxHeadMaster"): _tax_head,
    ("BillingService", "TaxPeriod"): _tax_period,
    ("BillingService", "GLCode"): _gl_code,
    ("common-masters", "IdFormat"): _id_format,
    ("tenant", "tenants"): _tenant,
}
SUPPORTED_MASTERS: tuple[str, ...] = tuple(f"{module}.{master}" for module, master in _PARSERS)


def _describe_key(entry: MasterEntry) -> str:
    return ", ".join(f"{name} {value!r}" for name, value in zip(entry.KEY_FIELDS, entry.key, strict=True))


def _parse_block(master: str, parse: Callable[[_Reader], MasterEntry], raw: object, limits: Limits) -> MasterBlock:
    short = master.split(".", 1)[1]
    if not isinstance(raw, list):
        raise MdmsFormatError("must be a list of entries", master=short)
    entries: list[MasterEntry] = []
    first_index: dict[tuple[str, ...], int] = {}
    for index, item in enumerate(raw):
        entry = parse(_Reader(short, index, item, limits.get(short, {})))
        if entry.key in first_index:
            raise MdmsFormatError(
                f"duplicate of {short}[{first_index[entry.key]}] ({_describe_key(entry)})", master=short, index=index
            )
        first_index[entry.key] = index
        entries.append(entry)
    return MasterBlock(name=master, entries=tuple(entries))


def _decode(raw: bytes | str) -> object:
    if isinstance(raw, str):
        raw = raw.removeprefix("\ufeff")  # editors on Windows write a BOM; bytes input is handled by json
    try:
        return json.loads(raw, object_pairs_hook=_object_hook)
    except UnicodeDecodeError as exc:
        raise MdmsFormatError(f"not valid JSON: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise MdmsFormatError(f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc


def _document_text(data: dict[str, object], key: str) -> str:
    value = data.get(key)
    if value is None:
        raise MdmsFormatError(f"{key} is missing")
    if not isinstance(value, str) or not value.strip():
        raise MdmsFormatError(f"{key} must be a non-empty string, got {value!r}")
    return value.strip()


def parse_document(raw: bytes | str, *, limits: Limits | None = None) -> MdmsDocument:
    """Parse one MDMS file; raise ``MdmsFormatError`` on the first problem found."""
    data = _decode(raw)
    if not isinstance(data, dict):
        raise MdmsFormatError("the document must be a JSON object")
    duplicates = getattr(data, "duplicate_keys", ())
    if duplicates:
        raise MdmsFormatError(f"key {duplicates[0]!r} is given more than once")
    tenant_id = _document_text(data, "tenantId")
    if not TENANT_CODE.match(tenant_id):
        raise MdmsFormatError(f"tenantId must be a lower-case state or state.city code, got {tenant_id!r}")
    module_name = _document_text(data, "moduleName")
    masters: list[MasterBlock] = []
    skipped: list[str] = []
    for key, value in data.items():
        if key in _DOCUMENT_KEYS:
            continue
        parse = _PARSERS.get((module_name, key))
        if parse is None:
            skipped.append(f"{module_name}.{key}")
        else:
            masters.append(_parse_block(f"{module_name}.{key}", parse, value, limits or {}))
    return MdmsDocument(tenant_id=tenant_id, module_name=module_name, masters=tuple(masters), skipped=tuple(skipped))


def iter_entries(document: MdmsDocument) -> Iterator[tuple[MasterBlock, int, MasterEntry]]:
    """Every entry of the document with its block and index."""
    for block in document.masters:
        for index, entry in enumerate(block.entries):
            yield block, index, entry


__all__ = [
    "SUPPORTED_MASTERS",
    "TAX_HEAD_CATEGORIES",
    "BusinessServiceEntry",
    "GLCodeEntry",
    "IdFormatEntry",
    "Limits",
    "MasterBlock",
    "MasterEntry",
    "MdmsDocument",
    "MdmsFormatError",
    "TaxHeadEntry",
    "TaxPeriodEntry",
    "TenantEntry",
    "iter_entries",
    "parse_document",
]
