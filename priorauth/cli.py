"""The ``priorauth`` command: assess and render case files, check definitions, run the app.

Exit status: 0 when the command did what was asked, 1 when a check found
problems or a part of the application is unavailable, 2 when the input cannot
be used as given (a missing or malformed case file, a bad option). Bad input is
reported on stderr, one line per field, never as a traceback.

The web, store and documents layers are imported inside the commands that
need them, so that ``assess``, ``schema`` and ``forms check`` work on a machine
without Pango or a database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from priorauth import __version__
from priorauth.domain.case import Case, SiteOfCare
from priorauth.rules.assessment import Assessment, Verdict
from priorauth.rules.engine import case_problems, evaluate
from priorauth.rules.library import Library, load_library
from priorauth.rules.loader import DefinitionError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2

# Keys of the example wrapper around a case (forms/indications/*/examples/*.json).
# An appeal or a packet also carries the denial, the grounds for an exception and
# the files to attach (read by priorauth/cli_documents.py).
WRAPPER_KEYS = frozenset(
    {"description", "as_of", "expect", "case", "denial", "justification", "attachments"}
)

# Problems that leave nothing to assess: the engine needs a known indication,
# product and payer profile. Every other problem is reported inside the assessment.
FATAL_PROBLEM_FIELDS = frozenset({"indication_id", "regimen.product_id", "coverage.payer_profile"})

DOCUMENTS = ("letter", "cost-summary", "appeal", "exception", "peer-to-peer", "packet", "pdfa")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000


class CommandError(Exception):
    """A command cannot go on; carries the lines to show and the exit status."""

    def __init__(self, headline: str, details: Sequence[str] = (), status: int = EXIT_BAD_INPUT):
        super().__init__(headline)
        self.headline = headline
        self.details = list(details)
        self.status = status


@dataclass(frozen=True)
class CaseFile:
    """A case read from disk, with the date it is to be judged on."""

    path: Path
    case: Case
    as_of: dt.date
    description: str
    expect: dict[str, Any]
    wrapped: bool


def _iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _field_path(loc: Sequence[int | str], prefix: str) -> str:
    """Dotted path to a field, as a person finds it in the JSON file."""
    path = ".".join(str(step) for step in loc)
    return f"{prefix}{path}" if path else prefix.rstrip(".") or "(whole case)"


def validation_messages(error: ValidationError, prefix: str = "") -> list[str]:
    """One line per validation error: the field's dotted path and a plain message."""
    lines = []
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        lines.append(f"{_field_path(item['loc'], prefix)}: {message}")
    return lines


def read_case_file(path: Path, as_of: dt.date | None = None) -> CaseFile:
    """Read a bare case or an example wrapper; raise CommandError naming the bad field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{path}: is a folder, not a case file") from None
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not UTF-8 text; save the case file as UTF-8 JSON") from None
    except OSError as error:
        raise CommandError(f"{path}: cannot be read: {error.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise CommandError(
            f"{path}: not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    if not isinstance(data, dict):
        raise CommandError(f"{path}: a case file holds one JSON object {{...}}")

    wrapped = isinstance(data.get("case"), dict)
    description, prefix = "", ""
    expect: dict[str, Any] = {}
    if wrapped:
        unknown = sorted(set(data) - WRAPPER_KEYS)
        if unknown:
            raise CommandError(
                f"{path}: not a valid case file",
                [
                    f"{key}: unknown key beside 'case'; allowed: {', '.join(sorted(WRAPPER_KEYS))}"
                    for key in unknown
                ],
            )
        description = str(data.get("description", ""))
        expect = data.get("expect") or {}
        if as_of is None and data.get("as_of") is not None:
            try:
                as_of = dt.date.fromisoformat(str(data["as_of"]))
            except ValueError:
                raise CommandError(
                    f"{path}: not a valid case file",
                    [f"as_of: {data['as_of']!r} is not a date (YYYY-MM-DD)"],
                ) from None
        data, prefix = data["case"], "case."
    as_of = as_of or dt.date.today()
    try:
        # Judge "in the future" against the assessment date, so that a case
        # replayed later, or an example, validates the same way every time.
        case = Case.model_validate(data, context={"today": as_of})
    except ValidationError as error:
        raise CommandError(
            f"{path}: not a valid case", validation_messages(error, prefix)
        ) from None
    return CaseFile(
        path=path,
        case=case,
        as_of=as_of,
        description=description,
        expect=expect,
        wrapped=wrapped,
    )


def _library(forms: Path | None) -> Library:
    try:
        return load_library(forms)
    except DefinitionError as error:
        where = forms or "the configured forms folder"
        raise CommandError(
            f"the definitions in {where} cannot be loaded; run `priorauth forms check`",
            error.problems,
            status=EXIT_FAILED,
        ) from None


def check_case(case_file: CaseFile, library: Library, *, strict: bool) -> list[str]:
    """Raise CommandError for problems that block the command; return the others as lines.

    ``strict`` makes every problem blocking: a letter is never written from a
    case whose codes, product or dosing inputs do not fit its indication.
    """
    prefix = "case." if case_file.wrapped else ""
    problems = case_problems(case_file.case, library)
    lines = [f"{prefix}{p.field}: {p.message}" for p in problems]
    blocking = [
        line
        for line, problem in zip(lines, problems, strict=True)
        if strict or problem.field in FATAL_PROBLEM_FIELDS
    ]
    if blocking:
        raise CommandError(f"{case_file.path}: the case does not fit the definitions", lines)
    return lines


def assess_case_file(case_file: CaseFile, library: Library) -> Assessment:
    """Evaluate the case as of its date."""
    return evaluate(case_file.case, library, case_file.as_of)


def _print_json(data: Any, out: TextIO) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False)
    out.write("\n")


def _warn(lines: Sequence[str]) -> None:
    for line in lines:
        print(f"priorauth: warning: {line}", file=sys.stderr)


# Commands ------------------------------------------------------------------


def cmd_assess(args: argparse.Namespace) -> int:
    case_file = read_case_file(args.case, args.as_of)
    library = _library(args.forms)
    _warn(check_case(case_file, library, strict=False))
    assessment = assess_case_file(case_file, library)
    _print_json(assessment.model_dump(mode="json"), sys.stdout)
    return EXIT_OK


def cmd_render(args: argparse.Namespace) -> int:
    if args.output is None and args.html is None:
        raise CommandError("render: give -o OUT.pdf, --html OUT.html, or both")
    case_file = read_case_file(args.case, args.as_of)
    library = _library(args.forms)
    check_case(case_file, library, strict=True)
    assessment = assess_case_file(case_file, library)
    try:
        from priorauth.documents import DocumentTooLarge, render_letter
        from priorauth.documents.cost_summary import render_cost_summary
        from priorauth.rules.estimate import CostSummaryUnavailable
    except ImportError as error:
        raise CommandError(
            f"cannot render documents: the documents layer is unavailable ({error})",
            status=EXIT_FAILED,
        ) from None
    except OSError as error:
        # WeasyPrint raises OSError at import when Pango is missing.
        raise CommandError(
            f"cannot render documents here: {error}",
            ["install the system libraries with scripts/ensure-system-deps.sh (or `make run`)"],
            status=EXIT_FAILED,
        ) from None
    document_date = args.letter_date or case_file.as_of
    try:
        if args.document == "cost-summary":
            if args.product and args.product not in library.products:
                raise CommandError(f"--product: unknown product {args.product!r}")
            letter: Any = render_cost_summary(
                case_file.case,
                assessment,
                library,
                library.prices,
                prepared_on=document_date,
                product_id=args.product,
                site=SiteOfCare(args.site) if args.site else None,
            )
        elif args.document != "letter":
            from priorauth.cli_documents import render_document

            letter = render_document(
                args.document,
                case_file,
                library,
                assessment,
                document_date,
                want_html=args.html is not None,
            )
        else:
            letter = render_letter(case_file.case, assessment, library, letter_date=document_date)
    except DocumentTooLarge as error:
        raise CommandError(f"{case_file.path}: the document cannot be rendered: {error}") from None
    except CostSummaryUnavailable as error:
        raise CommandError(f"{case_file.path}: no cost summary: {error}") from None
    outputs: list[tuple[Path, bytes]] = []
    if args.output is not None:
        outputs.append((args.output, letter.pdf))
    if args.html is not None:
        # The preview carries its print stylesheet inline, so the file opens as it prints.
        html = getattr(letter, "preview_html", letter.html)
        outputs.append((args.html, html.encode("utf-8")))
    for target, content in outputs:
        try:
            target.write_bytes(content)
        except OSError as error:
            raise CommandError(f"{target}: cannot be written: {error.strerror}") from None
        print(f"wrote {target} ({len(content)} bytes)")
    if assessment.verdict is Verdict.NOT_READY:
        _warn([f"the assessment is {assessment.verdict_label.lower()}: review it before sending"])
    return EXIT_OK


def cmd_prices_import(args: argparse.Namespace) -> int:
    from priorauth.rules.prices import (
        PriceImportError,
        import_cms_asp_csv,
        import_contracted_csv,
        price_table_to_toml,
    )

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
            table = import_contracted_csv(
                args.file,
                table_id=args.table_id,
                name=args.name,
                payer_profile=args.payer_profile,
                effective_from=args.effective_from,
                source_name=args.source,
                source_date=args.source_date or dt.date.today().isoformat(),
            )
    except OSError as error:
        raise CommandError(f"{args.file}: cannot be read: {error.strerror}") from None
    except PriceImportError as error:
        raise CommandError(f"{args.file}: cannot be imported", error.problems) from None
    folder = (args.forms or _library(None).root) / "prices"
    target = args.output or folder / f"{table.id}.toml"
    try:
        target.write_text(price_table_to_toml(table), encoding="utf-8")
    except OSError as error:
        raise CommandError(f"{target}: cannot be written: {error.strerror}") from None
    print(f"wrote {target}: {len(table.drugs)} drug prices, {len(table.services)} service prices")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    _print_json(Case.model_json_schema(), sys.stdout)
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
    return EXIT_OK


def cmd_indications(args: argparse.Namespace) -> int:
    library = _library(args.forms)
    definitions = sorted(library.indications.values(), key=lambda d: d.id)
    if args.json:
        _print_json(
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
    from priorauth.domain.facts import FACTS

    facts = sorted(FACTS.values(), key=lambda f: (f.kind.value, f.name))
    if args.json:
        _print_json(
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


def _database_url(args: argparse.Namespace) -> str:
    """The URL given, else the one the web app would use, so both see one database."""
    if args.database_url:
        return str(args.database_url)
    from priorauth.web import create_app

    overrides = {"PRIORAUTH_FORMS_DIR": str(args.forms)} if args.forms else None
    return str(create_app(overrides).config["PRIORAUTH_DATABASE_URL"])


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from priorauth.store import db

    url = _database_url(args)
    db.upgrade(url)
    print(f"database is up to date: {_redact(url)}")
    return EXIT_OK


def cmd_demo_accounts(args: argparse.Namespace) -> int:
    from priorauth.store import db, seed

    url = _database_url(args)
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            accounts = seed.seed_demo(session)
    finally:
        engine.dispose()
    print("DEMO ONLY: these accounts are for trying the app with synthetic cases; never use")
    print("them on a server that holds real patients' data.")
    for account in accounts:
        print(f"  {account.role:<10} {account.email:<26} password: {account.password}")
    return EXIT_OK


def _redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def cmd_serve(args: argparse.Namespace) -> int:
    from priorauth.web import create_app

    overrides = {"PRIORAUTH_FORMS_DIR": str(args.forms)} if args.forms else None
    app = create_app(overrides)
    print(f"priorauth is serving on http://{args.host}:{args.port} (Ctrl-C stops it)")
    # Flask's development server: fine for one clinic workstation and for `make
    # run`; the Docker image serves through gunicorn instead.
    app.run(host=args.host, port=args.port, debug=args.debug, use_reloader=args.debug)
    return EXIT_OK


# Accounts, signed documents and the audit trail (issue 6) -----------------


def _session_for(args: argparse.Namespace) -> Any:
    """A session on the configured database (the caller closes it and disposes the engine)."""
    from priorauth.store import db

    engine = db.make_engine(_database_url(args))
    return engine, db.session_factory(engine)()


def _read_new_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no password given: pipe it in with --password-stdin")
    import getpass

    first = getpass.getpass("Password for the new account: ")
    if getpass.getpass("Again: ") != first:
        raise CommandError("the two passwords differ; nothing was created")
    return first


def cmd_users_create(args: argparse.Namespace) -> int:
    from priorauth.domain.identifiers import is_valid_npi
    from priorauth.store import accounts, audit

    npi = (args.npi or "").strip().replace(" ", "").replace("-", "") or None
    if npi and (len(npi) != 10 or not npi.isdigit() or not is_valid_npi(npi)):
        raise CommandError("the account cannot be created", [f"npi: {npi} is not a valid NPI"])
    password = _read_new_password(args)
    engine, session = _session_for(args)
    try:
        organization, made_organization = accounts.find_or_create_organization(
            session, args.organization
        )
        try:
            user = accounts.create_user(
                session,
                organization.id,
                accounts.NewAccount(
                    email=args.email,
                    name=args.name,
                    role=args.role,
                    password=password,
                    credentials=args.credentials or "",
                    npi=npi,
                ),
            )
        except accounts.AccountError as error:
            session.rollback()
            raise CommandError(
                "the account cannot be created",
                [f"{field}: {message}" for field, message in error.problems.items()],
            ) from None
        audit.append(
            session,
            action="accounts.create",
            outcome="ok",
            organization_id=organization.id,
            remote_addr="cli",
            detail=f"user {user.id} role {user.role}",
        )
        session.commit()
        if made_organization:
            print(f"created organization: {organization.name}")
        print(f"created account {user.id}: {user.email} ({user.role}) in {organization.name}")
    finally:
        session.close()
        engine.dispose()
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from priorauth.store.signatures import look_up_pdf

    try:
        data = Path(args.pdf).read_bytes()
    except OSError as error:
        raise CommandError(f"{args.pdf}: cannot be read ({error.strerror})") from None
    engine, session = _session_for(args)
    try:
        status = look_up_pdf(session, data)
    finally:
        session.close()
        engine.dispose()
    print(f"sha256: {status.sha256}")
    if not status.found:
        print("NOT A DOCUMENT OF RECORD: no stored document has exactly these bytes")
        return EXIT_FAILED
    if not status.signed:
        print(f"NOT SIGNED: an unsigned {status.kind} of case {status.case_id}")
        return EXIT_FAILED
    if not status.intact:
        print(
            f"SIGNATURE DOES NOT MATCH: the signature record of case {status.case_id} no "
            "longer matches the stored document; report this"
        )
        return EXIT_FAILED
    signed_at = status.signed_at.strftime("%Y-%m-%d %H:%M:%S UTC") if status.signed_at else ""
    print("SIGNED DOCUMENT OF RECORD")
    print(
        f"  signed by: {status.signer_name}, {status.signer_credentials} (NPI {status.signer_npi})"
    )
    print(f"  signed at: {signed_at}")
    print(f"  case: {status.case_id}, version {status.case_version}, document {status.document_id}")
    if status.superseded:
        when = (
            status.superseded_at.strftime("%Y-%m-%d %H:%M:%S UTC") if status.superseded_at else ""
        )
        print(f"  SUPERSEDED on {when} by version {status.superseded_by_version} of the case")
    else:
        print("  current: the case has not changed since it was signed")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from priorauth.store import audit

    engine, session = _session_for(args)
    try:
        result = audit.verify(session)
    finally:
        session.close()
        engine.dispose()
    if result.ok:
        print(f"OK: {result.events} audit events, chain intact")
        print(f"chain head: {result.head_hash} (keep a copy elsewhere to detect a rewrite)")
        return EXIT_OK
    print(f"TAMPERED: {len(result.problems)} problem(s) in {result.events} audit events")
    for problem in result.problems:
        print(f"  {problem}")
    return EXIT_FAILED


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
    audit_verify.set_defaults(handler=cmd_audit_verify)
    return [create, verify, audit_verify]


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

    indications = add("indications", cmd_indications, "List every indication and its codes.")
    indications.add_argument("--json", action="store_true", help="print JSON instead of text")

    facts = add("facts", cmd_facts, "List the facts that criteria and questions may use.")
    facts.add_argument("--json", action="store_true", help="print JSON instead of text")

    serve = add("serve", cmd_serve, "Run the web application.")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--debug", action="store_true", help="reload on change; never in a clinic")

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
    for sub in (upgrade, demo, *account_commands):
        sub.add_argument("--database-url", metavar="URL", help=database_url_help)
    return parser


def _report(error: CommandError) -> int:
    print(f"priorauth: error: {error.headline}", file=sys.stderr)
    for line in error.details:
        print(f"  {line}", file=sys.stderr)
    return error.status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except CommandError as error:
        return _report(error)
    except DefinitionError as error:
        return _report(
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
