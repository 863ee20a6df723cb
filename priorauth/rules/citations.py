"""Which sources a document for a payer cites, and in which order.

A payer accepts its own coverage policy and published guidance. It does not
accept another payer's policy (a letter to UnitedHealthcare citing Aetna's), and
the project's own notes are for staff. The order a reviewer looks for: the
payer's own policy first, then guidelines, the product's label, other countries'
programs, then trials and reviews. Documents number and word what this module
chooses; they never choose again.
"""

from __future__ import annotations

from collections.abc import Iterable

from .assessment import CitationRef
from .schema import Citation, CitationKind, IndicationDefinition, PayerProfile

RANKS = {
    CitationKind.PAYER_POLICY: 0,
    CitationKind.NATIONAL_GUIDELINE: 1,
    CitationKind.LABEL: 2,
    CitationKind.FOREIGN_PROGRAM: 3,
    CitationKind.OTHER: 4,
}


def cited_to(citation: Citation, payer: PayerProfile) -> bool:
    """Whether a document for this payer may cite the source at all."""
    if citation.kind is CitationKind.PAYER_POLICY:
        return citation.payer == payer.id
    return citation.kind in RANKS


def reference(citation: Citation) -> CitationRef:
    return CitationRef(
        id=citation.id,
        kind=citation.kind,
        rank=RANKS.get(citation.kind, len(RANKS)),
        text=citation.text,
        date=citation.date,
        url=citation.url,
        note=citation.note,
        unverified=citation.unverified,
    )


def cite(
    definition: IndicationDefinition, ids: Iterable[str], payer: PayerProfile
) -> tuple[CitationRef, ...]:
    """The sources behind a rule that this payer accepts, each once, in the payer's order."""
    chosen = [definition.citation(citation_id) for citation_id in dict.fromkeys(ids)]
    # sorted() is stable: within a kind, the definition's own order stands.
    return tuple(
        reference(c)
        for c in sorted(chosen, key=lambda c: RANKS.get(c.kind, len(RANKS)))
        if cited_to(c, payer)
    )


def not_cited(
    definition: IndicationDefinition, ids: Iterable[str], payer: PayerProfile
) -> tuple[CitationRef, ...]:
    """The sources behind a rule that a document for this payer leaves out, for staff."""
    chosen = [definition.citation(citation_id) for citation_id in dict.fromkeys(ids)]
    return tuple(reference(c) for c in chosen if not cited_to(c, payer))
