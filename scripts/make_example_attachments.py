"""Write the synthetic files the appeal examples attach (examples/attachments/).

    .venv/bin/python scripts/make_example_attachments.py

Every file says on its face that it is synthetic: no person in them exists.
The PDFs are rendered by the app's own locked-down renderer; the image with
Pillow. Run again to regenerate them; the output does not depend on the date.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PIL import Image, ImageDraw

from priorauth.documents.pdf import html_to_pdf

OUT = Path(__file__).resolve().parents[1] / "examples" / "attachments"
BANNER = "SYNTHETIC TEST DOCUMENT: no real patient, clinic or payer."

DOCUMENTS = {
    "ncs-report.pdf": (
        "Nerve conduction study report",
        [
            "Patient: Avery Testpatient (synthetic). Study date 09/28/2026.",
            "Motor conduction: prolonged distal latencies and reduced velocities in the median, "
            "ulnar, peroneal and tibial nerves; conduction block in the left ulnar nerve.",
            "Impression: electrodiagnostic findings of an acquired demyelinating polyneuropathy.",
        ],
        2,
    ),
    "neurology-note.pdf": (
        "Neurology consultation note",
        [
            "Patient: Avery Testpatient (synthetic). Visit 10/01/2026.",
            "Five months of progressive symmetric proximal and distal weakness with areflexia; "
            "walks with a cane. Adjusted INCAT 4, MRC sum score 48.",
            "Assessment: chronic inflammatory demyelinating polyneuropathy.",
        ],
        2,
    ),
    "igg-lab-report.pdf": (
        "Immunoglobulin results",
        [
            "Patient: Riley Example (synthetic).",
            "Serum IgG 380 mg/dL (08/03/2026); 410 mg/dL (09/14/2026). IgA 12 mg/dL and "
            "IgM 18 mg/dL (08/03/2026).",
        ],
        1,
    ),
    "immunology-note.pdf": (
        "Immunology consultation note",
        [
            "Patient: Riley Example (synthetic). Visit 09/20/2026.",
            "Recurrent sinopulmonary infections; two low IgG results six weeks apart; impaired "
            "response to pneumococcal polysaccharide vaccine.",
            "Assessment: common variable immunodeficiency.",
        ],
        1,
    ),
    "infection-history.pdf": (
        "Infection history",
        [
            "Patient: Riley Example (synthetic).",
            "Five bacterial infections in the past 12 months, three of them pneumonias during "
            "azithromycin prophylaxis; one hospital stay (synthetic dates and organisms omitted).",
        ],
        1,
    ),
    "denial-notice.pdf": (
        "Notice of adverse benefit determination",
        [
            "Example Health Plan (synthetic). Reference DN-2026-0042, dated 11/05/2026.",
            "The request for immune globulin was denied. See the appeal examples for the reasons.",
        ],
        1,
    ),
}


def _pdf(title: str, lines: list[str], pages: int) -> bytes:
    body = "".join(
        f"<section style='break-after: page'><p><strong>{escape(BANNER)}</strong></p>"
        f"<h1>{escape(title)}</h1>"
        + "".join(f"<p>{escape(line)}</p>" for line in lines)
        + f"<p>Page {page} of {pages}.</p></section>"
        for page in range(1, pages + 1)
    )
    html = f"<!doctype html><html lang='en'><head><title>x</title></head><body>{body}</body></html>"
    return html_to_pdf(html, title="Synthetic attachment")


def _titres_png() -> Image.Image:
    image = Image.new("RGB", (850, 1100), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 810, 1060), outline="black", width=3)
    lines = [
        BANNER,
        "",
        "Pneumococcal polysaccharide vaccine response (synthetic)",
        "Patient: Riley Example",
        "Pre-vaccination: 1 of 23 serotypes >= 1.3 ug/mL (07/01/2026)",
        "Post-vaccination: 3 of 23 serotypes >= 1.3 ug/mL (08/05/2026)",
        "Interpretation: impaired response",
    ]
    for index, line in enumerate(lines):
        draw.text((80, 90 + 40 * index), line, fill="black")
    return image


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (title, lines, pages) in DOCUMENTS.items():
        (OUT / name).write_bytes(_pdf(title, lines, pages))
    _titres_png().save(OUT / "vaccine-titres.png", optimize=True)
    print(f"wrote {len(DOCUMENTS) + 1} files to {OUT}")


if __name__ == "__main__":
    main()
