"""Loading MDMS master files into the master tables (``mdms_load``).

All files are parsed and checked before anything is written; then one durable transaction creates the
missing tenants and upserts every entry by its natural key with one bulk statement per master. Rows that
already hold the same values are not written at all, so a reload is a no-op (same ids, same ``updated_at``).
Rows absent from the files are left alone: loading never deletes master data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db import models, transaction

from masters.domain.mdms import (
    Limits,
    MasterEntry,
    MdmsDocument,
    MdmsFormatError,
    TenantEntry,
    iter_entries,
    parse_document,
)
from masters.errors import MdmsInvalid
from masters.models import BusinessService, GLCode, IdFormat, TaxHeadMaster, TaxPeriod, Tenant

MASTER_MODELS: dict[str, type[models.Model]] = {
    "BillingService.BusinessService": BusinessService,
    "BillingService.TaxHeadMaster": TaxHeadMaster,
    "BillingService.TaxPeriod": TaxPeriod,
    "BillingService.GLCode": GLCode,
    "common-masters.IdFormat": IdFormat,
}
# DIGIT's tenant/tenants.json: the state's cities (codes, names, city metadata), loaded into Tenant itself.
TENANTS_MASTER = "tenant.tenants"
_BATCH_SIZE = 500


@dataclass(frozen=True)
class MasterCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: MasterCounts) -> MasterCounts:
        return MasterCounts(
            self.created + other.created, self.updated + other.updated, self.unchanged + other.unchanged
        )

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def describe(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass(frozen=True)
class FileReport:
    """What one file did: counts per master (``"BillingService.TaxPeriod"``) and the masters skipped."""

    name: str
    tenant_id: str
    module_name: str
    counts: Mapping[str, MasterCounts]
    skipped: tuple[str, ...] = ()

    @property
    def is_skipped(self) -> bool:
        return not self.counts

    def describe(self) -> str:
        parts = [f"{master.split('.', 1)[1]} {counts.describe()}" for master, counts in self.counts.items()]
        if self.skipped:
            parts.append(f"skipped {', '.join(self.skipped)} (not loaded by this service)")
        return f"{self.name} [{self.tenant_id}]: {'; '.join(parts) or 'no masters'}"


@dataclass(frozen=True)
class MdmsLoadReport:
    files: tuple[FileReport, ...]
    tenants_created: tuple[str, ...] = ()
    totals: Mapping[str, MasterCounts] = field(default_factory=dict)

    @property
    def skipped_files(self) -> tuple[str, ...]:
        return tuple(report.name for report in self.files if report.is_skipped)

    @property
    def total(self) -> MasterCounts:
        return sum(self.totals.values(), MasterCounts())

    def lines(self) -> list[str]:
        """One line per file, the tenants created, and a total line."""
        out = [report.describe() for report in self.files]
        if self.tenants_created:
            out.append(f"Tenants created: {', '.join(self.tenants_created)}")
        loaded = len(self.files) - len(self.skipped_files)
        out.append(f"Total: {self.total.describe()} in {loaded} file(s); {len(self.skipped_files)} file(s) skipped")
        return out


@dataclass(frozen=True)
class _Row:
    file_index: int
    master: str
    tenant_code: str
    entry: MasterEntry


def _limits() -> Limits:
    """Maximum text lengths by master and model field, read from the models (they own the columns)."""
    limits: dict[str, dict[str, int]] = {}
    for master, model in MASTER_MODELS.items():
        limits[master.split(".", 1)[1]] = {
            item.name: item.max_length
            for item in model._meta.get_fields()
            if isinstance(item, models.CharField) and item.max_length is not None
        }
    limits["tenants"] = {
        item.name: item.max_length
        for item in Tenant._meta.get_fields()
        if isinstance(item, models.CharField) and item.max_length is not None
    }
    return limits


def _fail(errors: dict[str, list[str]]) -> MdmsInvalid:
    name, problems = next(iter(errors.items()))
    message = f"{name}: {problems[0]}"
    if len(errors) > 1:
        message += f" (and problems in {len(errors) - 1} more file(s))"
    return MdmsInvalid(message=message + "; nothing was loaded.", fields=errors)


def _first_few(problems: list[str], limit: int = 5) -> list[str]:
    if len(problems) <= limit:
        return problems
    return [*problems[:limit], f"... and {len(problems) - limit} more"]


def _parse_all(documents: list[tuple[str, bytes | str]]) -> list[MdmsDocument]:
    limits = _limits()
    parsed: list[MdmsDocument] = []
    errors: dict[str, list[str]] = defaultdict(list)
    for name, raw in documents:
        try:
            parsed.append(parse_document(raw, limits=limits))
        except MdmsFormatError as exc:
            errors[name].append(str(exc))
    if errors:
        raise _fail(errors)
    return parsed


def _collect_rows(names: list[str], parsed: list[MdmsDocument]) -> dict[str, list[_Row]]:
    """Rows per master; the same natural key in two files is an error (one upsert cannot apply both)."""
    rows: dict[str, list[_Row]] = defaultdict(list)
    seen: dict[tuple[str, str, tuple[str, ...]], tuple[str, str]] = {}
    errors: dict[str, list[str]] = defaultdict(list)
    for file_index, document in enumerate(parsed):
        for block, index, entry in iter_entries(document):
            where = f"{block.short_name}[{index}]"
            natural = (block.name, document.tenant_id, entry.key)
            if natural in seen:
                other_file, other_where = seen[natural]
                errors[names[file_index]].append(
                    f"{where}: tenant {document.tenant_id} key {'/'.join(entry.key)} is also in "
                    f"{other_file} at {other_where}"
                )
                continue
            seen[natural] = (names[file_index], where)
            rows[block.name].append(_Row(file_index, block.name, document.tenant_id, entry))
    for row in rows.get(TENANTS_MASTER, []):
        assert isinstance(row.entry, TenantEntry)
        if row.entry.code.split(".", 1)[0] != row.tenant_code.split(".", 1)[0]:
            errors[names[row.file_index]].append(
                f"tenants: {row.entry.code} is not a tenant of state {row.tenant_code.split('.', 1)[0]}"
            )
    if errors:
        raise _fail({name: _first_few(problems) for name, problems in errors.items()})
    return rows


def _tenants_load(rows: list[_Row]) -> list[str]:
    """Create or update the tenants of ``tenant.tenants`` (name and metadata); "created"/"updated"/"unchanged"."""
    entries = [row.entry for row in rows if isinstance(row.entry, TenantEntry)]
    existing = {t.code: t for t in Tenant.objects.filter(code__in=[e.code for e in entries])}
    states = {t.code: t for t in Tenant.objects.filter(code__in={e.code.split(".", 1)[0] for e in entries})}
    outcomes: dict[str, str] = {}
    # States first, so that their cities can point at them.
    for entry in sorted(entries, key=lambda e: ("." in e.code, e.code)):
        state_code = entry.code.split(".", 1)[0]
        tenant = existing.get(entry.code)
        state = None if "." not in entry.code else states[state_code]
        if tenant is None:
            tenant = Tenant.objects.create(code=entry.code, name=entry.name, state=state, extra=entry.extra)
            outcomes[entry.code] = "created"
        elif (tenant.name, tenant.extra, tenant.state_id) != (entry.name, entry.extra, state.pk if state else None):
            tenant.name, tenant.extra, tenant.state = entry.name, entry.extra, state
            tenant.save(update_fields=["name", "extra", "state"])
            outcomes[entry.code] = "updated"
        else:
            outcomes[entry.code] = "unchanged"
        if "." not in entry.code:
            states[entry.code] = tenant
    return [outcomes[entry.code] for entry in entries]


def _tenants_ensure(codes: Iterable[str]) -> tuple[dict[str, Tenant], tuple[str, ...]]:
    """The tenants by code, creating missing states and cities (a city's ``state`` set)."""
    wanted = set(codes)
    states = {code.split(".", 1)[0] for code in wanted}
    existing = set(Tenant.objects.filter(code__in=wanted | states).values_list("code", flat=True))
    # ignore_conflicts: a concurrent load may create the same tenant; the re-read below sees it either way.
    Tenant.objects.bulk_create([Tenant(code=code) for code in sorted(states - existing)], ignore_conflicts=True)
    by_code = {tenant.code: tenant for tenant in Tenant.objects.filter(code__in=states)}
    cities = wanted - states
    Tenant.objects.bulk_create(
        [Tenant(code=code, state=by_code[code.split(".", 1)[0]]) for code in sorted(cities - existing)],
        ignore_conflicts=True,
    )
    for state in {code.split(".", 1)[0] for code in cities}:
        Tenant.objects.filter(code__in=[c for c in cities if c.startswith(state + ".")], state__isnull=True).update(
            state=by_code[state]
        )
    by_code.update({tenant.code: tenant for tenant in Tenant.objects.filter(code__in=cities)})
    return by_code, tuple(sorted((wanted | states) - existing))


def _upsert(model: type[models.Model], rows: list[_Row], tenants: Mapping[str, Tenant]) -> list[str]:
    """Write the rows that are new or differ; return "created"/"updated"/"unchanged" per row."""
    key_fields = rows[0].entry.KEY_FIELDS
    value_names = list(rows[0].entry.model_values())
    manager = model._default_manager
    stored = manager.filter(
        tenant__in=[tenants[code] for code in {row.tenant_code for row in rows}],
        **{f"{key_fields[0]}__in": {row.entry.key[0] for row in rows}},
    ).values("tenant_id", *value_names)
    existing = {(values["tenant_id"], *(str(values[name]) for name in key_fields)): values for values in stored}
    outcomes: list[str] = []
    to_write: list[models.Model] = []
    for row in rows:
        tenant = tenants[row.tenant_code]
        values = row.entry.model_values()
        current = existing.get((tenant.pk, *row.entry.key))
        if current is None:
            outcomes.append("created")
        elif all(current[name] == value for name, value in values.items()):
            outcomes.append("unchanged")
            continue
        else:
            outcomes.append("updated")
        to_write.append(model(tenant=tenant, **values))
    if to_write:
        update_fields = [name for name in value_names if name not in key_fields]
        if any(item.name == "updated_at" for item in model._meta.get_fields()):
            update_fields.append("updated_at")
        # One INSERT ... ON CONFLICT DO UPDATE per batch; existing rows keep their id.
        manager.bulk_create(
            to_write,
            batch_size=_BATCH_SIZE,
            update_conflicts=True,
            unique_fields=["tenant", *key_fields],
            update_fields=update_fields,
        )
    return outcomes


def mdms_load(*, documents: list[tuple[str, bytes | str]]) -> MdmsLoadReport:
    """Load MDMS files (name, raw JSON) into the master tables; all of them or, on any problem, none.

    Raises ``MdmsInvalid`` (code ``MDMS_INVALID``) naming the file and entry; nothing is written then.
    """
    if not documents:
        raise MdmsInvalid(message="No MDMS files were given.")
    names = [name for name, _ in documents]
    parsed = _parse_all(documents)
    rows = _collect_rows(names, parsed)
    per_file: list[dict[str, MasterCounts]] = [{} for _ in parsed]
    totals: dict[str, MasterCounts] = {}
    with transaction.atomic(durable=True):
        tenants, tenants_created = _tenants_ensure(document.tenant_id for document in parsed)
        if rows[TENANTS_MASTER]:
            for row, outcome in zip(rows[TENANTS_MASTER], _tenants_load(rows[TENANTS_MASTER]), strict=True):
                one = MasterCounts(**{outcome: 1})
                counts = per_file[row.file_index]
                counts[TENANTS_MASTER] = counts.get(TENANTS_MASTER, MasterCounts()) + one
                totals[TENANTS_MASTER] = totals.get(TENANTS_MASTER, MasterCounts()) + one
        for master, model in MASTER_MODELS.items():
            if not rows[master]:
                continue
            for row, outcome in zip(rows[master], _upsert(model, rows[master], tenants), strict=True):
                one = MasterCounts(**{outcome: 1})
                counts = per_file[row.file_index]
                counts[master] = counts.get(master, MasterCounts()) + one
                totals[master] = totals.get(master, MasterCounts()) + one
    # Blocks that are present but empty still show up in the file's report, with zero counts.
    for document, counts in zip(parsed, per_file, strict=True):
        for block in document.masters:
            counts.setdefault(block.name, MasterCounts())
    return MdmsLoadReport(
        files=tuple(
            FileReport(
                name=name,
                tenant_id=document.tenant_id,
                module_name=document.module_name,
                counts=counts,
                skipped=document.skipped,
            )
            for name, document, counts in zip(names, parsed, per_file, strict=True)
        ),
        tenants_created=tenants_created,
        totals=totals,
    )


__all__ = ["MASTER_MODELS", "FileReport", "MasterCounts", "MdmsLoadReport", "mdms_load"]
