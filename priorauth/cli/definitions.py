"""Work with the definitions in forms/: check them, list them, import price tables."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from priorauth.domain.case import Case
from priorauth.domain.costs import PriceKind, PriceTable
from priorauth.domain.facts import FACTS
from priorauth.rules.codesets import icd10cm_source
from priorauth.rules.hcpcs import HCPCS_FILE
from priorauth.rules.library import load_library
from priorauth.rules.loader import DefinitionError
from priorauth.rules.prices import (
    PriceImportError,
    import_cms_asp_csv,
    import_contracted_csv,
    load_price_tables,
    price_table_to_toml,
    tables_in_effect,
)

from .casefile import load_definitions
from .console import EXIT_FAILED, EXIT_OK, CommandError, print_json


def cmd_schema(args: argparse.Namespace) -> int:
    print_json(Case.model_json_schema(), sys.stdout)
    return EXIT_OK


def cmd_forms_check(args: argparse.Namespace) -> int:
    root: Path | None = args.directory or args.forms
    try:
        library = load_library(root)
    except DefinitionError as error:
        for problem in error.problems:
            print(problem)
        count = len(error.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found", file=sys.stderr)
        return EXIT_FAILED
    tables = library.prices
    criteria = sum(len(d.all_criteria()) for d in library.indications.values())
    print(
        f"OK: {library.root}: {len(library.indications)} indications "
        f"({criteria} criteria), {len(library.payers)} payer profiles, "
        f"{len(library.products)} products, {len(tables)} price tables"
    )
    codes = sum(len(d.codes) for d in library.indications.values())
    print(f"    {codes} ICD-10-CM codes exist and are billable in the {icd10cm_source()}")
    if library.hcpcs is not None:
        print(
            f"    {len(library.products)} products' HCPCS codes are in {HCPCS_FILE} "
            f"({len(library.hcpcs.codes)} codes, as of {library.hcpcs.as_of})"
        )
    return EXIT_OK


def cmd_indications(args: argparse.Namespace) -> int:
    library = load_definitions(args.forms)
    definitions = sorted(library.indications.values(), key=lambda d: d.id)
    if args.json:
        print_json(
            [
                {
                    "id": d.id,
                    "name": d.name,
                    "category": d.category,
                    "coverage": d.coverage.value,
                    "codes": [{"code": c.code, "description": c.description} for c in d.codes],
                }
                for d in definitions
            ],
            sys.stdout,
        )
        return EXIT_OK
    for definition in definitions:
        print(f"{definition.id}: {definition.name}")
        for code in definition.codes:
            print(f"    {code.code:<8} {code.description}")
    return EXIT_OK


def cmd_facts(args: argparse.Namespace) -> int:
    facts = sorted(FACTS.values(), key=lambda f: (f.kind.value, f.name))
    if args.json:
        print_json(
            [
                {
                    "name": f.name,
                    "kind": f.kind.value,
                    "label": f.label,
                    "unit": f.unit,
                    "choices": [key for key, _ in f.choices],
                }
                for f in facts
            ],
            sys.stdout,
        )
        return EXIT_OK
    for fact in facts:
        unit = f" ({fact.unit})" if fact.unit else ""
        print(f"{fact.kind.value:<8} {fact.name:<42} {fact.label}{unit}")
        if fact.choices:
            print(f"{'':<8} {'':<42} choices: {', '.join(key for key, _ in fact.choices)}")
    return EXIT_OK


def _asp_table(args: argparse.Namespace) -> PriceTable | None:
    """The imported CMS ASP table an "ASP + N %" rate is worked out from.

    The one named with --asp-table, else the newest ASP table in forms/prices/
    in effect on the contract's first day (a contract may start before the
    quarter the clinic imported: then the newest ASP table of all).
    """
    root = args.forms or load_definitions(None).root
    try:
        tables = load_price_tables(root)
    except DefinitionError as error:
        raise CommandError(f"{root / 'prices'}: cannot be loaded", error.problems) from None
    if args.asp_table:
        table = tables.get(args.asp_table)
        if table is None or table.kind is not PriceKind.ASP_PAYMENT_LIMIT:
            known = ", ".join(
                t.id for t in tables.values() if t.kind is PriceKind.ASP_PAYMENT_LIMIT
            )
            raise CommandError(
                f"--asp-table {args.asp_table}: not an imported ASP table "
                f"(known: {known or 'none'})"
            )
        return table
    asp = [t for t in tables.values() if t.kind is PriceKind.ASP_PAYMENT_LIMIT]
    in_effect = tables_in_effect(asp, args.effective_from)
    newest = sorted(asp, key=lambda t: t.effective_from, reverse=True)
    chosen = in_effect or newest
    return chosen[0] if chosen else None


def cmd_prices_import(args: argparse.Namespace) -> int:
    try:
        if args.format == "cms-asp":
            table = import_cms_asp_csv(
                args.file,
                quarter=args.quarter,
                source_name=args.source or f"CMS ASP payment-limit file {args.file.name}",
                source_date=args.source_date or dt.date.today().isoformat(),
            )
        else:
            missing = [
                flag
                for flag, value in (
                    ("--table-id", args.table_id),
                    ("--name", args.name),
                    ("--effective-from", args.effective_from),
                    ("--source", args.source),
                )
                if not value
            ]
            if missing:
                raise CommandError(f"contracted rates need {', '.join(missing)}")
            asp = _asp_table(args)
            table = import_contracted_csv(
                args.file,
                table_id=args.table_id,
                name=args.name,
                payer_profile=args.payer_profile,
                effective_from=args.effective_from,
                source_name=args.source,
                source_date=args.source_date or dt.date.today().isoformat(),
                asp=asp,
            )
    except OSError as error:
        raise CommandError(f"{args.file}: cannot be read: {error.strerror}") from None
    except PriceImportError as error:
        raise CommandError(f"{args.file}: cannot be imported", error.problems) from None
    folder = (args.forms or load_definitions(None).root) / "prices"
    target = args.output or folder / f"{table.id}.toml"
    try:
        target.write_text(price_table_to_toml(table), encoding="utf-8")
    except OSError as error:
        raise CommandError(f"{target}: cannot be written: {error.strerror}") from None
    print(f"wrote {target}: {len(table.drugs)} drug prices, {len(table.services)} service prices")
    return EXIT_OK
