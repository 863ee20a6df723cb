"""`priorauth payers compare INDICATION`: every payer profile against the reference."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from priorauth.rules.payer_compare import compare_payers

from .casefile import load_definitions
from .console import EXIT_OK, CommandError, print_json

UNVERIFIED = " [unverified]"


def cmd_payers_compare(args: argparse.Namespace) -> int:
    library = load_definitions(args.forms)
    if args.indication not in library.indications:
        known = ", ".join(sorted(library.indications))
        raise CommandError(f"unknown indication {args.indication!r}; known: {known}")
    comparison = compare_payers(library, args.indication)
    if args.json:
        data = dataclasses.asdict(comparison)
        for column in data["payers"]:
            for row in column["rows"]:
                row["source_unverified"] = row.pop("unverified")
        print_json(data, sys.stdout)
        return EXIT_OK
    print(f"{comparison.indication_name}: payer profiles against the {comparison.reference_name}")
    for column in comparison.payers:
        print()
        print(f"{column.name} ({column.payer_id}, profile as of {column.as_of})")
        for row in column.rows:
            if not row.differs:
                print(f"  = {row.topic}: same as the reference ({row.payer})")
                continue
            mark = UNVERIFIED if row.unverified else ""
            print(f"  ≠ {row.topic}: {row.payer}{mark}")
            print(f"      reference: {row.reference}")
            print(f"      source: {row.source} ({row.date})")
    return EXIT_OK
