"""Render the letter, the signed letter, its review sheet, the appeal, exception,
peer-to-peer, packet and continuation documents and keep one PNG per page under
docs/documents/ (pdftoppm -png -r 70).

    .venv/bin/python scripts/document_images.py

Uses `priorauth render` on the synthetic examples, so the pictures show exactly
what the command writes; every example is judged and dated on a fixed day (its
own, or AS_OF), so the pictures do not change with the calendar. Needs pdftoppm
(poppler-utils); downloads nothing. The cost-summary pictures come from
scripts/screenshots.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "documents"
EXAMPLES = ROOT / "examples"
# The day the case files without a date of their own are judged and dated on.
AS_OF = "2026-11-20"

# (picture name, example, document, packet pages to keep or None for every page)
DOCUMENTS: tuple[tuple[str, str, str, tuple[int, ...] | None], ...] = (
    # The letter as the payer reads it, and the physician's review sheet beside it.
    ("letter", "cidp-initial-qualifies.json", "letter", None),
    ("review-sheet", "cidp-initial-qualifies.json", "review-sheet", None),
    ("appeal", "appeal-not-medically-necessary.json", "appeal", None),
    ("exception", "exception-cidp-dose-product-site.json", "exception", None),
    ("peer-to-peer", "appeal-site-of-care.json", "peer-to-peer", None),
    ("letter-continuation", "cidp-continuation-incat-improved.json", "letter", None),
    # The packet: its cover sheet and an uploaded image on its own page.
    ("packet", "appeal-missing-information.json", "packet", (1, 6)),
)
# The signed letter: the same letter, signed by the demo physician (a throwaway
# self-signed certificate, made for the picture and discarded).
SIGNED_EXAMPLE = "cidp-initial-qualifies.json"


def _pdftoppm(pdf: Path, prefix: Path, first: int | None = None) -> list[Path]:
    command = ["pdftoppm", "-png", "-r", "70"]
    if first is not None:
        command += ["-f", str(first), "-l", str(first)]
    subprocess.run([*command, str(pdf), str(prefix)], check=True)
    return sorted(prefix.parent.glob(f"{prefix.name}-*.png"))


def _signed_letter(target: Path, work: Path) -> None:
    """The example letter as the demo physician signs it in the app (PAdES included)."""
    import datetime as dt
    import json

    from priorauth.documents import LETTER_TEMPLATE, render_letter
    from priorauth.documents.parts import SignedBy
    from priorauth.documents.signed import sign_document
    from priorauth.domain.case import Case
    from priorauth.rules import evaluate, load_library
    from priorauth.store.signatures import ATTESTATION
    from priorauth.store.signing_cert import signing_identity

    day = dt.date.fromisoformat(AS_OF)
    data = json.loads((EXAMPLES / SIGNED_EXAMPLE).read_text(encoding="utf-8"))
    case = Case.model_validate(data.get("case", data), context={"today": day})
    library = load_library()
    letter = render_letter(case, evaluate(case, library, day), library, letter_date=day)
    keys = signing_identity(work / "instance", "Demo Clinic (synthetic)")
    signed = sign_document(
        letter,
        LETTER_TEMPLATE,
        SignedBy(
            name="Dana Example",
            credentials="MD",
            npi="1234567893",
            signed_on="November 20, 2026",
            signed_at="2026-11-20 15:04 UTC",
            attestation=ATTESTATION,
        ),
        title=letter.context.pdf_title,
        key_pem=keys.key_pem,
        cert_pem=keys.cert_pem,
    )
    target.write_bytes(signed.pdf)


def main() -> int:
    if shutil.which("pdftoppm") is None:
        print("pdftoppm is missing: install poppler-utils", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    priorauth = [sys.executable, "-m", "priorauth"]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name, example, document, pages in DOCUMENTS:
            pdf = work / f"{name}.pdf"
            dated = '"as_of"' in (EXAMPLES / example).read_text(encoding="utf-8")
            subprocess.run(
                [
                    *priorauth,
                    "render",
                    str(EXAMPLES / example),
                    "--document",
                    document,
                    *(() if dated else ("--as-of", AS_OF)),
                    "-o",
                    str(pdf),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            for old in OUT.glob(f"{name}-[0-9]*.png"):
                old.unlink()
            if pages is None:
                made = _pdftoppm(pdf, work / name)
                for number, png in enumerate(made, start=1):
                    shutil.move(png, OUT / f"{name}-{number}.png")
            else:
                for page in pages:
                    (png,) = _pdftoppm(pdf, work / f"{name}-p{page}", first=page)
                    shutil.move(png, OUT / f"{name}-{page}.png")
        pdf = work / "signed-letter.pdf"
        _signed_letter(pdf, work)
        for old in OUT.glob("signed-letter-[0-9]*.png"):
            old.unlink()
        for number, png in enumerate(_pdftoppm(pdf, work / "signed-letter"), start=1):
            shutil.move(png, OUT / f"signed-letter-{number}.png")
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
