"""The packet's fax cover sheet: to, from, re, the page count and the contents."""

from __future__ import annotations

from dataclasses import dataclass

from priorauth.domain.case import Case
from priorauth.domain.denial import Denial
from priorauth.rules.appeals import AppealRules

from .parts import Row


@dataclass(frozen=True, slots=True)
class PacketPart:
    """One document in the packet and the pages it occupies."""

    title: str
    kind: str
    first_page: int
    page_count: int
    note: str = ""

    @property
    def pages(self) -> str:
        last = self.first_page + self.page_count - 1
        return str(self.first_page) if last == self.first_page else f"{self.first_page}–{last}"


@dataclass(frozen=True, slots=True)
class CoverContext:
    pdf_title: str
    document_title: str
    urgent: str
    to_rows: tuple[Row, ...]
    from_rows: tuple[Row, ...]
    re_rows: tuple[Row, ...]
    pages_text: str
    contents: tuple[PacketPart, ...]
    confidentiality: str
    # Required enclosures the clinic confirmed it sends separately (not in this packet).
    to_follow: tuple[str, ...] = ()


def cover_context(
    case: Case,
    main_title: str,
    denial: Denial | None,
    rules: AppealRules,
    *,
    total: int,
    contents: tuple[PacketPart, ...],
    fax_to: str,
    attention: str,
    to_follow: tuple[str, ...] = (),
) -> CoverContext:
    """The cover sheet for a packet of ``total`` pages holding ``contents``."""
    prescriber = case.prescriber
    to_rows = [Row("To", case.coverage.payer_name)]
    if attention:
        to_rows.append(Row("", attention))
    fax = fax_to or (denial.appeals_fax if denial is not None else "")
    to_rows.append(Row("Fax", fax or "—"))
    from_rows = [
        Row("From", prescriber.practice_name or prescriber.name),
        Row("Physician", f"{prescriber.name}, {prescriber.credentials}"),
        Row("NPI", prescriber.npi),
    ]
    if prescriber.phone:
        from_rows.append(Row("Phone", prescriber.phone))
    if prescriber.fax:
        from_rows.append(Row("Fax", prescriber.fax))
    re_rows = [Row("Re", main_title), Row("Member ID", case.coverage.member_id)]
    if denial is not None:
        re_rows.append(Row("Your reference", denial.payer_reference))
    urgent = ""
    if denial is not None and denial.expedited:
        urgent = "URGENT: expedited review requested (see the appeal letter)"
    return CoverContext(
        pdf_title="Fax cover sheet",
        document_title=main_title,
        urgent=urgent,
        to_rows=tuple(to_rows),
        from_rows=tuple(from_rows),
        re_rows=tuple(re_rows),
        pages_text=f"{total} pages, including this cover sheet",
        contents=contents,
        confidentiality=rules.packet.confidentiality_notice,
        to_follow=to_follow,
    )
