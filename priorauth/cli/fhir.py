"""`priorauth fhir`: a record's FHIR Bundle in as a draft, a case out as a PAS Bundle,
an indication out as a Questionnaire."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from priorauth import interop
from priorauth.rules.assessment import Verdict

from .casefile import assess_case_file, check_case, load_definitions, read_case_file
from .console import EXIT_FAILED, EXIT_OK, CommandError, print_json, read_text, warn

# Largest FHIR file read: an EHR export for one patient is far smaller.
MAX_INPUT_BYTES = 20 * 1024 * 1024


def _read_json(path: Path) -> Any:
    text = read_text(path, kind="JSON file", max_bytes=MAX_INPUT_BYTES)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(
            f"{path}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None


def _write(data: Any, output: Path | None) -> None:
    if output is None:
        print_json(data, sys.stdout)
        return
    try:
        output.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as error:
        raise CommandError(f"{output}: cannot be written: {error.strerror}") from None
    print(f"wrote {output}", file=sys.stderr)


def cmd_fhir_import(args: argparse.Namespace) -> int:
    library = load_definitions(args.forms)
    data = _read_json(args.file)
    try:
        if isinstance(data, dict) and data.get("resourceType") == "QuestionnaireResponse":
            result = interop.import_questionnaire_response(data, library)
        else:
            result = interop.import_bundle(data, library, args.payer)
    except interop.FhirInputError as error:
        raise CommandError(f"{args.file}: {error.message}", error.problems) from None
    output = result.as_json()
    if args.case_only:
        _write(output["case"], args.output)
    else:
        _write(output, args.output)
    warn([f"ignored {item.item}: {item.reason}" for item in result.ignored])
    if result.missing:
        warn([f"left for staff: {', '.join(result.missing)}"])
    warn([f"to complete: {line}" for line in result.to_complete(dt.date.today())])
    return EXIT_OK


def _letter_pdf(
    args: argparse.Namespace, case_file: Any, library: Any, assessment: Any
) -> bytes | None:
    if args.no_letter:
        return None
    if args.letter is not None:
        try:
            pdf = args.letter.read_bytes()
        except OSError as error:
            raise CommandError(f"{args.letter}: cannot be read: {error.strerror}") from None
        if not pdf.startswith(b"%PDF-"):
            raise CommandError(f"{args.letter}: not a PDF file")
        return pdf
    try:
        # Imported here: the documents layer needs WeasyPrint's system libraries.
        from .documents import render_document
    except (ImportError, OSError) as error:
        raise CommandError(
            f"cannot render the letter here ({error}); attach one with --letter FILE.pdf, "
            "or leave it out with --no-letter",
            status=EXIT_FAILED,
        ) from None
    return render_document("letter", case_file, library, assessment, case_file.as_of).pdf


def cmd_fhir_export(args: argparse.Namespace) -> int:
    case_file = read_case_file(args.case, args.as_of)
    library = load_definitions(args.forms)
    check_case(case_file, library, strict=True)
    assessment = assess_case_file(case_file, library)
    pdf = _letter_pdf(args, case_file, library, assessment)
    bundle = interop.export_pas(case_file.case, library, assessment, pdf)
    _write(bundle, args.output)
    if assessment.verdict is Verdict.NOT_READY:
        warn(["the assessment is not ready: the payer is likely to deny this request as it stands"])
    return EXIT_OK


def cmd_fhir_questionnaire(args: argparse.Namespace) -> int:
    library = load_definitions(args.forms)
    try:
        questionnaire = interop.questionnaire(args.indication, args.payer, library)
    except interop.FhirInputError as error:
        raise CommandError(error.message, error.problems) from None
    _write(questionnaire, args.output)
    return EXIT_OK


def add_fhir_commands(add: Callable[..., Any], date_type: Callable[[str], dt.date]) -> None:
    """The `fhir` command group: import, export, questionnaire."""
    fhir = add("fhir", lambda _args: EXIT_FAILED, "FHIR R4: import a record, export a PAS request.")
    commands = fhir.add_subparsers(dest="fhir_command", metavar="COMMAND", required=True)
    read = commands.add_parser(
        "import",
        help="Turn a FHIR Bundle (or a QuestionnaireResponse) into a draft case.",
        description="Read a FHIR R4 Bundle (transaction, collection or searchset) or a "
        "QuestionnaireResponse; print the draft case, what came from the record, what is "
        "left for staff and what was ignored, with why.",
    )
    read.add_argument("file", type=Path, metavar="BUNDLE.json")
    read.add_argument("--payer", metavar="ID", help="payer profile for the draft's coverage")
    read.add_argument("--case-only", action="store_true", help="print only the draft case")
    read.add_argument("-o", "--output", type=Path, metavar="OUT.json")
    read.set_defaults(handler=cmd_fhir_import)

    export = commands.add_parser(
        "export",
        help="Write a case as a Da Vinci PAS-shaped request Bundle.",
        description="Assess a case file and write it as a PAS request Bundle: the Claim, "
        "the answers as a QuestionnaireResponse, the resources it refers to and the letter.",
    )
    export.add_argument("case", type=Path, metavar="CASE.json")
    export.add_argument("--as-of", type=date_type, metavar="DATE")
    letter = export.add_mutually_exclusive_group()
    letter.add_argument(
        "--letter", type=Path, metavar="FILE.pdf", help="attach this (signed) letter"
    )
    letter.add_argument("--no-letter", action="store_true", help="attach no letter")
    export.add_argument("-o", "--output", type=Path, metavar="OUT.json")
    export.set_defaults(handler=cmd_fhir_export)

    form = commands.add_parser(
        "questionnaire",
        help="Write an indication's Questionnaire for a payer profile.",
        description="Write the indication's definition as a FHIR Questionnaire (DTR-style).",
    )
    form.add_argument("indication", metavar="INDICATION")
    form.add_argument("--payer", metavar="ID", help="payer profile (default: reference)")
    form.add_argument("-o", "--output", type=Path, metavar="OUT.json")
    form.set_defaults(handler=cmd_fhir_questionnaire)
