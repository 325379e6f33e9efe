"""``manage.py load_mdms FILE_OR_DIR...``: load MDMS master files (directories: every *.json, sorted)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from masters.errors import MdmsInvalid
from masters.services import mdms_load


def _files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found.extend(sorted(item for item in path.rglob("*.json") if item.is_file()))
        elif path.is_file():
            found.append(path)
        else:
            raise CommandError(f"{given}: no such file or directory")
    if not found:
        raise CommandError(f"No *.json files found in {', '.join(paths)}")
    return found


class Command(BaseCommand):
    help = (
        "Load MDMS master files (BusinessService, TaxHeadMaster, TaxPeriod, GLCode, IdFormat, tenant/tenants.json);"
        " all or nothing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR", help="MDMS JSON files or directories")

    def handle(self, *args: Any, **options: Any) -> None:
        files = _files(options["paths"])
        try:
            documents: list[tuple[str, bytes | str]] = [(str(path), path.read_bytes()) for path in files]
        except OSError as exc:
            raise CommandError(f"Cannot read {exc.filename}: {exc.strerror}") from exc
        try:
            report = mdms_load(documents=documents)
        except MdmsInvalid as exc:
            details = [f"  {name}: {problem}" for name, problems in exc.fields.items() for problem in problems]
            raise CommandError("\n".join([f"MDMS load failed: {exc.message}", *details])) from exc
        for line in report.lines():
            self.stdout.write(line)
