"""The command line's parser, and `main`, which runs the command it names."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from priorauth import __version__
from priorauth.domain.case import SiteOfCare
from priorauth.rules.loader import DefinitionError

from .assess import DOCUMENTS, cmd_assess, cmd_render
from .console import EXIT_BAD_INPUT, EXIT_FAILED, CommandError, report
from .definitions import (
    cmd_facts,
    cmd_forms_check,
    cmd_indications,
    cmd_prices_import,
    cmd_schema,
)
from .fhir import add_fhir_commands
from .payers import cmd_payers_compare
from .records import cmd_audit_anchor, cmd_audit_verify, cmd_verify
from .server import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    cmd_db_upgrade,
    cmd_demo_accounts,
    cmd_serve,
    cmd_users_create,
)
from .tokens import add_token_commands


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _add_account_commands(add: Callable[..., Any], database_url_help: str) -> list[Any]:
    """The users, verify and audit commands; returns the parsers that take --database-url."""
    users = add("users", lambda _args: EXIT_BAD_INPUT, "Manage accounts.")
    users_commands = users.add_subparsers(dest="users_command", metavar="COMMAND", required=True)
    create = users_commands.add_parser(
        "create",
        help="Create an account (the organization is made if it does not exist).",
        description="Create an account. The password is asked for twice, or read from the "
        "first line of standard input with --password-stdin.",
    )
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="the person's full name")
    create.add_argument(
        "--role", required=True, choices=("billing", "physician", "advocate", "admin")
    )
    create.add_argument("--organization", required=True, metavar="NAME", help="clinic or practice")
    create.add_argument("--credentials", help="physicians: e.g. MD")
    create.add_argument("--npi", help="physicians: their 10-digit NPI")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    create.set_defaults(handler=cmd_users_create)

    verify = add(
        "verify",
        cmd_verify,
        "Say whether a PDF is a signed document of record, who signed it, when.",
    )
    verify.add_argument("pdf", type=Path, metavar="FILE.pdf")

    audit = add("audit", lambda _args: EXIT_BAD_INPUT, "Work with the audit trail.")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    audit_verify = audit_commands.add_parser(
        "verify",
        help="Check the audit trail's hash chain: no event edited, removed or moved.",
        description="Check the audit trail's hash chain: no event edited, removed or moved.",
    )
    anchors_help = (
        "the anchors file (default: audit_anchors.jsonl in the instance folder); the audit "
        "key comes from PRIORAUTH_AUDIT_KEY, else the instance folder's audit_key"
    )
    audit_verify.add_argument("--anchors", type=Path, metavar="FILE", help=anchors_help)
    audit_verify.set_defaults(handler=cmd_audit_verify)
    audit_anchor = audit_commands.add_parser(
        "anchor",
        help="Verify the trail, then export its head signed with the audit key (run it daily).",
        description="Verify the audit trail, record an anchor event, and append the chain's "
        "head, signed with the audit key, to the anchors file; the line is printed too, to "
        "be kept elsewhere. `audit verify` then catches a trail cut back behind an anchor.",
    )
    audit_anchor.add_argument("--anchors", type=Path, metavar="FILE", help=anchors_help)
    audit_anchor.set_defaults(handler=cmd_audit_anchor)
    return [create, verify, audit_verify, audit_anchor]


# Parser --------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="priorauth",
        description="Prepare IVIG prior-authorization paperwork from case files.",
    )
    parser.add_argument("--version", action="version", version=f"priorauth {__version__}")
    parser.add_argument(
        "--forms",
        type=Path,
        metavar="DIR",
        help="definitions folder (default: PRIORAUTH_FORMS_DIR, else the bundled forms/)",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, handler: Callable[[argparse.Namespace], int], summary: str) -> Any:
        sub = commands.add_parser(name, help=summary, description=summary)
        sub.set_defaults(handler=handler)
        return sub

    as_of_help = "judge the case as of this date (default: the file's as_of, else today)"
    assess = add("assess", cmd_assess, "Assess a case file and print the assessment as JSON.")
    assess.add_argument("case", type=Path, metavar="CASE.json")
    assess.add_argument("--as-of", type=_iso_date, metavar="DATE", help=as_of_help)

    render = add("render", cmd_render, "Render a document for a case file to PDF and/or HTML.")
    render.add_argument("case", type=Path, metavar="CASE.json")
    render.add_argument("--document", choices=DOCUMENTS, default="letter")
    render.add_argument("-o", "--output", type=Path, metavar="OUT.pdf", help="write the PDF here")
    render.add_argument("--html", type=Path, metavar="OUT.html", help="write the HTML here")
    render.add_argument("--as-of", type=_iso_date, metavar="DATE", help=as_of_help)
    render.add_argument(
        "--letter-date", type=_iso_date, metavar="DATE", help="date on the letter (default: as-of)"
    )

    render.add_argument(
        "--send-separately",
        metavar="REASON",
        help="packet: required enclosures missing from the case file will be sent separately, "
        "for this reason (without it, a packet missing them is refused)",
    )
    render.add_argument("--product", metavar="ID", help="cost summary: price this product")
    render.add_argument(
        "--site",
        choices=[site.value for site in SiteOfCare],
        help="cost summary: price this site of care",
    )

    add("schema", cmd_schema, "Print the JSON Schema of a case file.")

    prices = add("prices", lambda _args: EXIT_BAD_INPUT, "Work with price tables.")
    prices_commands = prices.add_subparsers(dest="prices_command", metavar="COMMAND", required=True)
    price_import = prices_commands.add_parser(
        "import",
        help="Import a CMS ASP payment-limit CSV or a clinic's contracted rates.",
        description="Import a CMS quarterly ASP payment-limit CSV, or a clinic's contracted "
        "rates (columns: code, description, billing_unit_mg, rate, site), into forms/prices/.",
    )
    price_import.add_argument("file", type=Path, metavar="FILE")
    price_import.add_argument("--format", choices=("cms-asp", "contracted"), default="cms-asp")
    price_import.add_argument("--quarter", help="CMS file: e.g. 2026Q1 (default: from the title)")
    price_import.add_argument("--table-id", help="contracted: id of the table (file name)")
    price_import.add_argument("--name", help="contracted: a name people will read")
    price_import.add_argument("--payer-profile", help="contracted: the payer profile it applies to")
    price_import.add_argument("--effective-from", type=_iso_date, metavar="DATE")
    price_import.add_argument(
        "--asp-table",
        help="contracted: the imported CMS ASP table 'ASP+N%%' rates use "
        "(default: the newest in effect on --effective-from)",
    )
    price_import.add_argument("--source", help="where the prices come from")
    price_import.add_argument("--source-date", metavar="DATE", help="when it was published")
    price_import.add_argument("-o", "--output", type=Path, help="write here instead")
    price_import.set_defaults(handler=cmd_prices_import)

    forms = add("forms", lambda _args: EXIT_BAD_INPUT, "Work with the definitions in forms/.")
    forms_commands = forms.add_subparsers(dest="forms_command", metavar="COMMAND", required=True)
    check = forms_commands.add_parser(
        "check",
        help="Load every definition and report each problem as a breadcrumb.",
        description="Load every definition and report each problem as a breadcrumb.",
    )
    check.add_argument("directory", type=Path, nargs="?", metavar="DIR")
    check.set_defaults(handler=cmd_forms_check)

    payers = add("payers", lambda _args: EXIT_BAD_INPUT, "Work with the payer profiles.")
    payers_commands = payers.add_subparsers(dest="payers_command", metavar="COMMAND", required=True)
    compare = payers_commands.add_parser(
        "compare",
        help="Show how every payer profile differs from the reference for an indication.",
        description="For one indication, every payer profile's differences from the reference "
        "profile: dosing weight and rounding, authorization periods, preferred and excluded "
        "products, site-of-care rules and changed criteria, each with its source and date.",
    )
    compare.add_argument("indication", metavar="INDICATION", help="an indication id, e.g. cidp")
    compare.add_argument("--json", action="store_true", help="print JSON instead of text")
    compare.set_defaults(handler=cmd_payers_compare)

    indications = add("indications", cmd_indications, "List every indication and its codes.")
    indications.add_argument("--json", action="store_true", help="print JSON instead of text")

    facts = add("facts", cmd_facts, "List the facts that criteria and questions may use.")
    facts.add_argument("--json", action="store_true", help="print JSON instead of text")

    serve = add("serve", cmd_serve, "Run the web application.")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--debug",
        action="store_true",
        help="Flask's debug server, reloading on change; never in a clinic",
    )
    serve.add_argument(
        "--workers",
        type=int,
        choices=range(1, 65),
        metavar="N",
        help="gunicorn worker processes (default: PRIORAUTH_WORKERS, else 2 x cores + 1, "
        "at most 8)",
    )

    database = add("db", lambda _args: EXIT_BAD_INPUT, "Manage the database.")
    db_commands = database.add_subparsers(dest="db_command", metavar="COMMAND", required=True)
    upgrade = db_commands.add_parser(
        "upgrade",
        help="Create the database or migrate it to the latest schema.",
        description="Create the database or migrate it to the latest schema.",
    )
    upgrade.set_defaults(handler=cmd_db_upgrade)

    demo = add("demo-accounts", cmd_demo_accounts, "Create the demo accounts and print them.")
    database_url_help = (
        "SQLAlchemy URL (default: PRIORAUTH_DATABASE_URL, else SQLite under instance/)"
    )
    account_commands = _add_account_commands(add, database_url_help)
    add_fhir_commands(add, _iso_date)
    token_commands = add_token_commands(add)
    for sub in (upgrade, demo, *account_commands, *token_commands):
        sub.add_argument("--database-url", metavar="URL", help=database_url_help)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except CommandError as error:
        return report(error)
    except DefinitionError as error:
        return report(
            CommandError(
                "the definitions cannot be loaded; run `priorauth forms check`",
                error.problems,
                status=EXIT_FAILED,
            )
        )
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `priorauth assess x.json | head`: the reader left; nothing to report.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
