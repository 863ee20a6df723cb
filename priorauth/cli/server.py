"""Run the web application and keep its database: serve, db upgrade, demo-accounts, users."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from priorauth.domain.identifiers import is_valid_npi
from priorauth.store import accounts, anchors, audit, db, seed

from .console import EXIT_FAILED, EXIT_OK, CommandError

if TYPE_CHECKING:
    from flask import Flask

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
WORKERS_ENV = "PRIORAUTH_WORKERS"
MAX_WORKERS = 8
# A worker silent for this long is restarted: above the slowest letter render.
WORKER_TIMEOUT_SECONDS = 120


def web_app(args: argparse.Namespace) -> Flask:
    """The web application, configured as `priorauth serve` would run it."""
    try:
        # Imported here, not at the top, because the web app imports the documents
        # layer and so WeasyPrint, which raises OSError at import when Pango is
        # missing: the other commands must still run then.
        from priorauth.web import create_app
    except OSError as error:
        raise CommandError(
            f"cannot start the web application here: {error}",
            ["install the system libraries with scripts/ensure-system-deps.sh (or `make run`)"],
            status=EXIT_FAILED,
        ) from None
    overrides = {"PRIORAUTH_FORMS_DIR": str(args.forms)} if args.forms else None
    return create_app(overrides)


def database_url(args: argparse.Namespace) -> str:
    """The URL given, else the one the web app would use, so both see one database."""
    if args.database_url:
        return str(args.database_url)
    return str(web_app(args).config["PRIORAUTH_DATABASE_URL"])


def redact(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url


def instance_folder() -> Path:
    """The web app's instance folder: PRIORAUTH_INSTANCE_PATH, else Flask's default for it."""
    from_env = os.environ.get("PRIORAUTH_INSTANCE_PATH")
    if from_env:
        return Path(from_env)
    # Imported here: the CLI imports no web library at start (test_cli_without_pango).
    from flask.sansio.scaffold import find_package

    # What Flask's App.auto_find_instance_path answers for priorauth.web.
    prefix, package_path = find_package("priorauth.web")
    if prefix is None:
        return Path(package_path) / "instance"
    return Path(prefix) / "var" / "priorauth.web-instance"


def audit_key(*, create: bool) -> bytes | None:
    """The audit key the web app signs with (PRIORAUTH_AUDIT_KEY, else the instance file)."""
    return anchors.key_from(instance_folder(), create=create)


def session_for(args: argparse.Namespace, *, key: bytes | None = None) -> tuple[Engine, Session]:
    """A session on the configured database (the caller closes it and disposes the engine).

    With ``key``, the events it appends sign the chain's head, as the web app's do.
    """
    engine = db.make_engine(database_url(args))
    session = db.session_factory(engine)()
    if key is not None:
        session.info[audit.KEY_INFO] = key
    return engine, session


def default_workers() -> int:
    """Gunicorn's rule of thumb, 2 x cores + 1, within 2 to MAX_WORKERS.

    Each worker is a process with its own WeasyPrint and definitions (about 150
    MB): the cap keeps a large machine from spending its memory on idle workers.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(2, min(2 * (cores or 1) + 1, MAX_WORKERS))


def worker_count(args: argparse.Namespace) -> int:
    """--workers, else PRIORAUTH_WORKERS, else the machine's default."""
    if args.workers:
        return int(args.workers)
    from_env = os.environ.get(WORKERS_ENV, "").strip()
    if from_env:
        if not from_env.isdigit() or not 1 <= int(from_env) <= 64:
            raise CommandError(f"{WORKERS_ENV}={from_env!r}: give a whole number from 1 to 64")
        return int(from_env)
    return default_workers()


def cmd_serve(args: argparse.Namespace) -> int:
    app = web_app(args)  # fails here, once, if the app cannot start
    url = f"http://{args.host}:{args.port}"
    if args.debug:
        print(f"priorauth is serving on {url} (Flask's debug server; Ctrl-C stops it)")
        app.run(host=args.host, port=args.port, debug=True, use_reloader=True)
        return EXIT_OK
    workers = worker_count(args)
    print(f"priorauth is serving on {url} with {workers} gunicorn workers (Ctrl-C stops it)")
    # Imported here: gunicorn runs on POSIX only, and the other commands need it not.
    from .gunicorn_server import run

    run(
        app,
        {
            "bind": f"{args.host}:{args.port}",
            "workers": workers,
            "timeout": WORKER_TIMEOUT_SECONDS,
            "accesslog": "-",
        },
    )
    return EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    url = database_url(args)
    db.upgrade(url)
    print(f"database is up to date: {redact(url)}")
    return EXIT_OK


def cmd_demo_accounts(args: argparse.Namespace) -> int:
    url = database_url(args)
    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            demo = seed.seed_demo(session)
    finally:
        engine.dispose()
    print("DEMO ONLY: these accounts are for trying the app with synthetic cases; never use")
    print("them on a server that holds real patients' data.")
    for account in demo:
        print(f"  {account.role:<10} {account.email:<26} password: {account.password}")
    return EXIT_OK


def _read_new_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no password given: pipe it in with --password-stdin")
    first = getpass.getpass("Password for the new account: ")
    if getpass.getpass("Again: ") != first:
        raise CommandError("the two passwords differ; nothing was created")
    return first


def cmd_users_create(args: argparse.Namespace) -> int:
    npi = (args.npi or "").strip().replace(" ", "").replace("-", "") or None
    if npi and (len(npi) != 10 or not npi.isdigit() or not is_valid_npi(npi)):
        raise CommandError("the account cannot be created", [f"npi: {npi} is not a valid NPI"])
    password = _read_new_password(args)
    engine, session = session_for(args, key=audit_key(create=True))
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
