"""Personal API tokens from the command line: make one for an account, list, revoke."""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import select

from priorauth.store import audit, repository, tokens
from priorauth.store.models import ApiToken

from .console import EXIT_OK, CommandError
from .server import session_for


def _audit(session: Any, action: str, token: Any, detail: str) -> None:
    audit.append(
        session,
        action=action,
        outcome="ok",
        organization_id=token.organization_id,
        remote_addr="cli",
        detail=detail,
    )


def cmd_tokens_create(args: argparse.Namespace) -> int:
    """Make a token for an account and print it once (it is never shown again)."""
    engine, session = session_for(args)
    try:
        user = repository.find_user_by_email(session, args.email)
        if user is None:
            raise CommandError("no token was made", [f"email: no account {args.email}"])
        try:
            made = tokens.create_token(
                session, user, args.name, created_by_id=None, lifetime_days=args.days
            )
        except tokens.TokenError as error:
            session.rollback()
            raise CommandError("no token was made", [f"name: {error}"]) from None
        _audit(
            session,
            "token.create",
            made.token,
            f"token {made.token.prefix} for user {user.id}",
        )
        session.commit()
        print(made.secret_text)
        print(
            f"token {made.token.prefix} for {user.email} ({user.role}); it is shown only now: "
            "keep it in a secret store"
        )
    finally:
        session.close()
        engine.dispose()
    return EXIT_OK


def cmd_tokens_list(args: argparse.Namespace) -> int:
    """List an account's tokens (prefix, name, state); never a secret."""
    engine, session = session_for(args)
    try:
        user = repository.find_user_by_email(session, args.email)
        if user is None:
            raise CommandError("cannot list tokens", [f"email: no account {args.email}"])
        for token in tokens.list_tokens(session, user.organization_id, user_id=user.id):
            print(f"{token.prefix}\t{tokens.token_state(token)}\t{token.name}")
    finally:
        session.close()
        engine.dispose()
    return EXIT_OK


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    """Revoke a token by its prefix (the part after pa_)."""
    engine, session = session_for(args)
    try:
        token = session.scalar(select(ApiToken).where(ApiToken.prefix == args.prefix))
        if token is None:
            raise CommandError("no token was revoked", [f"prefix: no token {args.prefix}"])
        if tokens.revoke_token(session, token, revoked_by_id=None):
            _audit(session, "token.revoke", token, f"token {token.prefix}")
            session.commit()
            print(f"token {token.prefix} revoked")
        else:
            print(f"token {token.prefix} was revoked already")
    finally:
        session.close()
        engine.dispose()
    return EXIT_OK


def add_token_commands(add: Any) -> list[Any]:
    """The tokens commands; returns the parsers that take --database-url."""
    group = add("tokens", lambda _args: 2, "Manage personal API tokens.")
    commands = group.add_subparsers(dest="tokens_command", metavar="COMMAND", required=True)
    create = commands.add_parser(
        "create",
        help="Make a token for an account and print it once.",
        description="Make a personal API token for an account; it acts with the account's "
        "organization and role. The token is printed once and never stored.",
    )
    create.add_argument("--email", required=True, help="the account the token acts as")
    create.add_argument("--name", required=True, help="where it is used, e.g. 'EHR interface'")
    create.add_argument("--days", type=int, help="expire after this many days (default: never)")
    create.set_defaults(handler=cmd_tokens_create)
    listing = commands.add_parser("list", help="List an account's tokens.")
    listing.add_argument("--email", required=True)
    listing.set_defaults(handler=cmd_tokens_list)
    revoke = commands.add_parser("revoke", help="Revoke a token by its prefix.")
    revoke.add_argument("prefix", help="the 12 characters after pa_")
    revoke.set_defaults(handler=cmd_tokens_revoke)
    return [create, listing, revoke]
