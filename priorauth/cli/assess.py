"""`priorauth assess` and `priorauth render`: a case file's assessment, and its documents."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from priorauth.domain.case import SiteOfCare
from priorauth.rules.assessment import Verdict

from .casefile import assess_case_file, check_case, load_definitions, read_case_file
from .console import EXIT_FAILED, EXIT_OK, CommandError, print_json, warn

DOCUMENTS = (
    "letter",
    "review-sheet",
    "cost-summary",
    "patient-sheet",
    "appeal",
    "exception",
    "peer-to-peer",
    "packet",
    "pdfa",
)


def cmd_assess(args: argparse.Namespace) -> int:
    case_file = read_case_file(args.case, args.as_of)
    library = load_definitions(args.forms)
    warn(check_case(case_file, library, strict=False))
    assessment = assess_case_file(case_file, library)
    print_json(assessment.model_dump(mode="json"), sys.stdout)
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    if args.output is None and args.html is None:
        raise CommandError("render: give -o OUT.pdf, --html OUT.html, or both")
    case_file = read_case_file(args.case, args.as_of)
    library = load_definitions(args.forms)
    check_case(case_file, library, strict=True)
    assessment = assess_case_file(case_file, library)
    try:
        # Imported here, not at the top, because the documents layer imports
        # WeasyPrint, which raises OSError at import when Pango is missing: every
        # other command must still run then, and this one must say why it cannot.
        from .documents import render_document
    except ImportError as error:
        raise CommandError(
            f"cannot render documents: the documents layer is unavailable ({error})",
            status=EXIT_FAILED,
        ) from None
    except OSError as error:
        raise CommandError(
            f"cannot render documents here: {error}",
            ["install the system libraries with scripts/ensure-system-deps.sh (or `make run`)"],
            status=EXIT_FAILED,
        ) from None
    rendered = render_document(
        args.document,
        case_file,
        library,
        assessment,
        args.letter_date or case_file.as_of,
        want_html=args.html is not None,
        product_id=args.product,
        site=SiteOfCare(args.site) if args.site else None,
        send_separately=(args.send_separately or "").strip(),
    )
    outputs: list[tuple[Path, bytes]] = []
    if args.output is not None:
        outputs.append((args.output, rendered.pdf))
    if args.html is not None:
        # The preview carries its print stylesheet inline, so the file opens as it prints.
        outputs.append((args.html, rendered.preview_html.encode("utf-8")))
    for target, content in outputs:
        try:
            target.write_bytes(content)
        except OSError as error:
            raise CommandError(f"{target}: cannot be written: {error.strerror}") from None
        print(f"wrote {target} ({len(content)} bytes)")
    if assessment.verdict is Verdict.NOT_READY:
        warn([f"the assessment is {assessment.verdict_label.lower()}: review it before sending"])
    return EXIT_OK
