"""PDF/A-3b: the letter or the appeal as an archival PDF that carries its own record.

The document is the same HTML as the ordinary PDF, written as PDF/A-3b with
exactly one embedded file, ``case-record.json``: the record of what produced
it (output.DocumentRecord: the case snapshot, the assessment, the definition
versions, the denial and the grounds when there are any). It is attached by
our code alone, as a PDF/A-3 associated file with the relationship ``Data``;
the HTML still cannot attach anything. The PDF's metadata holds only the
document's generic title and language.

WeasyPrint's PDF/A output is best effort (perf-security.md §1.2: validity "not
guaranteed"); check a sample with a validator such as veraPDF before relying
on it for an archive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from priorauth.domain.case import Case
from priorauth.domain.denial import Attachment, Denial, Justification
from priorauth.rules.appeals import AppealRules
from priorauth.rules.assessment import Assessment
from priorauth.rules.library import Library

from .appeal import AppealContext, render_appeal
from .letter import LetterContext, render_letter
from .output import Rendered


def render_pdfa(
    case: Case,
    assessment: Assessment,
    library: Library,
    *,
    letter_date: dt.date,
    denial: Denial | None = None,
    justification: Justification | None = None,
    attachments: Sequence[Attachment] = (),
    narrative: Mapping[str, str] | None = None,
    rules: AppealRules | None = None,
) -> Rendered[AppealContext | LetterContext]:
    """Render the appeal (when a denial is given) or the letter as PDF/A-3b with its record."""
    if denial is None:
        return render_letter(
            case, assessment, library, letter_date=letter_date, narrative=narrative, archival=True
        )
    return render_appeal(
        case,
        assessment,
        library,
        denial,
        letter_date=letter_date,
        rules=rules,
        justification=justification,
        attachments=attachments,
        narrative=narrative,
        archival=True,
    )
