"""Citations a payer accepts: its own policy first, then guidelines; never another payer's.

Every source in the definitions has a kind, and a payer's policy names its payer;
the rules choose and order the sources for each payer (rules/citations.py), and
the assessment carries only those.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from priorauth.domain.case import Case
from priorauth.rules import evaluate, load_library
from priorauth.rules.assessment import walk_results
from priorauth.rules.citations import RANKS, cite, cited_to, not_cited
from priorauth.rules.library import Library
from priorauth.rules.schema import Citation, CitationKind

AS_OF = dt.date(2026, 11, 20)
PID_QUALIFIES = (
    Path(__file__).resolve().parents[2] / "forms/indications/pid/examples/initial-qualifies.json"
)
# Issuers of payer policies the definitions cite that no payer profile stands for.
ISSUERS_WITHOUT_A_PROFILE = {"premera", "bcbs_ma", "unidentified_payer", "several_payers"}


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library()


def test_every_payer_policy_names_a_payer_profile_or_a_known_issuer(library: Library) -> None:
    unknown = [
        f"{definition.id}: {c.id} names {c.payer!r}"
        for definition in library.indications.values()
        for c in definition.citations
        if c.kind is CitationKind.PAYER_POLICY
        and c.payer not in library.payers
        and c.payer not in ISSUERS_WITHOUT_A_PROFILE
    ]
    assert not unknown, unknown


def test_a_payer_policy_must_name_its_payer_and_nothing_else_may() -> None:
    base: dict[str, Any] = {"id": "x", "text": "A policy", "date": "2026"}
    with pytest.raises(ValidationError, match="payer"):
        Citation.model_validate({**base, "kind": "payer_policy"})
    with pytest.raises(ValidationError, match="payer"):
        Citation.model_validate({**base, "kind": "national_guideline", "payer": "aetna"})
    with pytest.raises(ValidationError, match="kind"):
        Citation.model_validate(base)


@pytest.mark.parametrize("profile", ["reference", "aetna", "uhc", "commercial", "medicare"])
def test_each_payer_is_cited_its_own_policy_first_and_no_other(
    library: Library, profile: str
) -> None:
    for definition in library.indications.values():
        payer = library.payers[profile]
        ids = [c.id for c in definition.citations]
        chosen = cite(definition, ids, payer)
        assert [c.rank for c in chosen] == sorted(c.rank for c in chosen), definition.id
        for ref in chosen:
            source = definition.citation(ref.id)
            assert source.kind is not CitationKind.PROJECT_NOTE
            if source.kind is CitationKind.PAYER_POLICY:
                assert source.payer == profile, (definition.id, ref.id)
        left_out = {ref.id for ref in not_cited(definition, ids, payer)}
        assert left_out | {ref.id for ref in chosen} == set(ids)
        assert all(not cited_to(definition.citation(i), payer) for i in left_out)


def test_the_order_is_policy_guideline_label_foreign_other() -> None:
    assert sorted(RANKS, key=RANKS.__getitem__) == [
        CitationKind.PAYER_POLICY,
        CitationKind.NATIONAL_GUIDELINE,
        CitationKind.LABEL,
        CitationKind.FOREIGN_PROGRAM,
        CitationKind.OTHER,
    ]


def _pid_case(profile: str) -> Case:
    data = json.loads(PID_QUALIFIES.read_text(encoding="utf-8"))["case"]
    data["coverage"]["payer_profile"] = profile
    return Case.model_validate(data, context={"today": AS_OF})


def test_an_assessment_for_uhc_carries_no_aetna_or_evicore_policy(library: Library) -> None:
    assessment = evaluate(_pid_case("uhc"), library, AS_OF)
    cited = {c.id for r in walk_results(assessment.criteria) for c in r.citations}
    cited |= {c.id for c in assessment.dose.limit_citations}
    assert cited
    assert not cited & {"aetna_0206", "evicore", "premera_2025", "bcnc_medicare"}


def test_an_assessment_for_aetna_cites_its_policy_first(library: Library) -> None:
    assessment = evaluate(_pid_case("aetna"), library, AS_OF)
    low_igg = assessment.result("low_igg")
    assert low_igg is not None
    first = low_igg.citations[0]
    assert (first.id, first.kind) == ("aetna_0206", CitationKind.PAYER_POLICY)
    assert "third-party summaries" in first.note
    assert "third-party" not in first.text
