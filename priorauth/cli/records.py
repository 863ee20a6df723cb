"""The records of the app: whether a PDF is a signed document of record, the audit chain."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from priorauth.store import anchors, audit
from priorauth.store.signatures import look_up_pdf
from priorauth.store.signing_cert import installation_certificate

from .console import EXIT_FAILED, EXIT_OK, CommandError
from .server import audit_key, instance_folder, session_for, web_app


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        data = Path(args.pdf).read_bytes()
    except OSError as error:
        raise CommandError(f"{args.pdf}: cannot be read ({error.strerror})") from None
    print(f"sha256: {hashlib.sha256(data).hexdigest()}")
    try:
        # Imported here: the documents package imports WeasyPrint, which raises OSError
        # at import when Pango is missing; the store's record can still be checked then.
        from priorauth.documents.pades import check_pdf
    except OSError as error:
        print(f"DIGITAL SIGNATURE NOT CHECKED: the documents layer cannot load here ({error})")
        return _record_of(args, data)
    check = check_pdf(data, trusted_pem=_installation_certificate(args))
    if check.signed and not check.valid:
        print(f"DIGITAL SIGNATURE BROKEN: {check.problem or 'it does not cover the whole file'}")
        return EXIT_FAILED
    if check.valid:
        whose = (
            "this installation's certificate" if check.trusted else "a certificate not trusted here"
        )
        print(f"DIGITAL SIGNATURE VALID (PAdES): intact, covers the whole file, {whose}")
        print(f"  digitally signed by: {check.signer}")
    else:
        print("NO DIGITAL SIGNATURE: the PDF carries no PAdES signature")
    return _record_of(args, data)


def _record_of(args: argparse.Namespace, data: bytes) -> int:
    """Say whether the PDF is a signed document of record in the store, and whose."""
    engine, session = session_for(args)
    try:
        status = look_up_pdf(session, data)
    finally:
        session.close()
        engine.dispose()
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


def _anchors_path(args: argparse.Namespace) -> Path:
    given = getattr(args, "anchors", None)
    return Path(given) if given else instance_folder() / anchors.ANCHORS_FILE


def _read_anchors(path: Path) -> list[anchors.Anchor]:
    try:
        return anchors.read_anchors(path)
    except (anchors.AnchorFileError, OSError, UnicodeDecodeError) as error:
        raise CommandError(f"the anchors cannot be read: {error}") from None


def _installation_certificate(args: argparse.Namespace) -> bytes | None:
    """The certificate this installation signs with (configured or under instance/)."""
    try:
        app = web_app(args)
    except CommandError:
        return None
    return installation_certificate(
        Path(app.instance_path), cert_path=app.config.get("PRIORAUTH_SIGNING_CERT")
    )


def cmd_audit_verify(args: argparse.Namespace) -> int:
    key = audit_key(create=False)
    path = _anchors_path(args)
    kept = _read_anchors(path) if key is not None else []
    engine, session = session_for(args)
    try:
        result = audit.verify(session, key=key, anchors=kept)
    finally:
        session.close()
        engine.dispose()
    if result.ok:
        print(f"OK: {result.events} audit events, chain intact")
        print(f"chain head: position {result.head_seq}, {result.head_hash}")
        if key is None:
            print(
                "NOT CHECKED: the head's signature and the anchors (no audit key: set "
                f"{anchors.KEY_ENV} or give the instance folder's {anchors.KEY_FILE})"
            )
        else:
            print(f"head signature: valid; anchors checked: {result.anchors_checked} ({path})")
        return EXIT_OK
    print(f"TAMPERED: {len(result.problems)} problem(s) in {result.events} audit events")
    for problem in result.problems:
        print(f"  {problem}")
    return EXIT_FAILED


def cmd_audit_anchor(args: argparse.Namespace) -> int:
    """Verify the trail, record an anchor event, and export the signed head."""
    key = audit_key(create=True)
    assert key is not None
    path = _anchors_path(args)
    kept = _read_anchors(path)
    engine, session = session_for(args, key=key)
    try:
        result = audit.verify(session, key=key, anchors=kept)
        # A head never signed (written before this version, or only by keyless
        # tools) is signed now, on first use: but never once anchors exist.
        first_use = not kept and all(p.kind == "unsigned" for p in result.problems)
        if not result.ok and not first_use:
            print(f"NOT ANCHORED: the trail fails verification ({len(result.problems)} problem(s))")
            for problem in result.problems:
                print(f"  {problem}")
            return EXIT_FAILED
        audit.append(
            session,
            action="audit.anchor",
            outcome="ok",
            remote_addr="cli",
            detail=f"anchored after position {result.head_seq}",
        )
        session.commit()
        made = audit.anchor(session, key)
    finally:
        session.close()
        engine.dispose()
    try:
        anchors.append_anchors(path, [made])
    except OSError as error:
        raise CommandError(f"{path}: the anchor cannot be written ({error.strerror})") from None
    print(made.line())
    print(f"anchored: position {made.seq}, added to {path}; keep a copy elsewhere too")
    return EXIT_OK
