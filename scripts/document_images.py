"""Render the letter, its review sheet, the appeal, exception, peer-to-peer, packet and
continuation documents and keep one PNG per page under docs/documents/ (pdftoppm -png
-r 70).

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
    # The packet: its cover sheet, its checklist and an uploaded image on its own page.
    ("packet", "appeal-missing-information.json", "packet", (1, 5, 8)),
)


def _pdftoppm(pdf: Path, prefix: Path, first: int | None = None) -> list[Path]:
    command = ["pdftoppm", "-png", "-r", "70"]
    if first is not None:
        command += ["-f", str(first), "-l", str(first)]
    subprocess.run([*command, str(pdf), str(prefix)], check=True)
    return sorted(prefix.parent.glob(f"{prefix.name}-*.png"))


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
    for png in sorted(OUT.glob("*.png")):
        print(png.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
