"""PDF/A-3b: the document carries its own record as one embedded JSON file, and only that."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pdf_inspect
import pytest
from appeal_examples import APPEAL_EXAMPLES, load_example

from priorauth.documents.output import RECORD_NAME, RECORD_TYPE
from priorauth.documents.pdf import PDFA_VARIANT, RecordFile, convert
from priorauth.documents.pdfa import render_pdfa
from priorauth.domain.case import Case
from priorauth.rules import evaluate
from priorauth.rules.library import Library

TODAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def appeal_pdfa(library: Library) -> tuple[Any, Any]:
    example = load_example(APPEAL_EXAMPLES[0], library)
    rendered = render_pdfa(
        example.case,
        example.assessment,
        library,
        letter_date=example.as_of,
        denial=example.denial,
        attachments=example.attachments,
    )
    return example, rendered


def test_the_json_attachment_reads_back_as_the_record(appeal_pdfa: tuple[Any, Any]) -> None:
    example, rendered = appeal_pdfa
    reader = pdf_inspect.reader(rendered.pdf)
    attachments = reader.attachments
    assert list(attachments) == [RECORD_NAME]
    (data,) = attachments[RECORD_NAME]
    record = json.loads(data)
    assert record == json.loads(rendered.record.json_bytes())
    assert record["record_type"] == RECORD_TYPE
    assert record["document"] == "appeal"
    assert record["case"] == example.case.model_dump(mode="json")
    assert Case.model_validate(record["case"], context={"today": example.as_of}) == example.case
    assert record["denial"] == example.denial.model_dump(mode="json")
    assert record["definition_versions"] == dict(example.assessment.definition_versions)
    assert record["assessment"]["verdict"] == example.assessment.verdict.value


def test_it_is_marked_pdf_a_3b_with_the_file_associated(appeal_pdfa: tuple[Any, Any]) -> None:
    _, rendered = appeal_pdfa
    reader = pdf_inspect.reader(rendered.pdf)
    root = reader.trailer["/Root"]
    xmp = root["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    assert root["/OutputIntents"][0].get_object()["/S"] == "/GTS_PDFA1"
    associated = root["/AF"]
    assert len(associated) == 1
    filespec = associated[0].get_object()
    assert filespec["/AFRelationship"] == "/Data"
    assert filespec["/EF"]["/F"].get_object()["/Subtype"] == "/application/json"
    assert rendered.pdf.startswith(b"%PDF-1.7")


def test_the_metadata_holds_only_what_was_chosen(appeal_pdfa: tuple[Any, Any]) -> None:
    example, rendered = appeal_pdfa
    reader = pdf_inspect.reader(rendered.pdf)
    info = {str(k): str(v) for k, v in (reader.metadata or {}).items()}
    assert info == {"/Title": "Appeal of a coverage denial"}
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    for private in (
        example.case.patient.last_name,
        example.case.coverage.member_id,
        example.denial.payer_reference,
        "WeasyPrint",
    ):
        assert private not in xmp, private
        assert private not in " ".join(info.values())
    # The record itself is inside the file, where it belongs, and nowhere else in the clear.
    assert re.findall(rb"<dc:title>.*?</dc:title>", xmp.encode(), re.S)


def test_without_a_denial_the_letter_is_archived(
    library: Library, make_case: Any, example_data: dict[str, Any]
) -> None:
    case: Case = make_case(example_data)
    rendered = render_pdfa(case, evaluate(case, library, TODAY), library, letter_date=TODAY)
    assert "Letter of medical necessity" in pdf_inspect.text(rendered.pdf)
    record = json.loads(pdf_inspect.reader(rendered.pdf).attachments[RECORD_NAME][0])
    assert record["document"] == "letter" and record["denial"] is None


def test_the_html_still_cannot_attach_anything() -> None:
    html = (
        "<!doctype html><html lang='en'><head><title>x</title>"
        "<link rel='attachment' href='file:///etc/passwd'></head><body>"
        "<a rel='attachment' href='asset:print.css'>css</a><p>Body</p></body></html>"
    )
    record = RecordFile(RECORD_NAME, b'{"ok": true}', "Record", dt.datetime(2026, 11, 20))
    pdf = convert(html, variant=PDFA_VARIANT, record=record).pdf
    assert list(pdf_inspect.reader(pdf).attachments) == [RECORD_NAME]
    assert not pdf_inspect.contains_bytes(pdf, b"root:x:0:0")
    assert not pdf_inspect.contains_bytes(pdf, b"@font-face")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"record": RecordFile(RECORD_NAME, b"{}", "r", dt.datetime(2026, 1, 1))}, "PDF/A-3b"),
        ({"variant": "pdf/ua-1"}, "unsupported PDF variant"),
        (
            {
                "variant": PDFA_VARIANT,
                "record": RecordFile("../case.json", b"{}", "r", dt.datetime(2026, 1, 1)),
            },
            "a record's name",
        ),
        (
            {
                "variant": PDFA_VARIANT,
                "record": RecordFile(RECORD_NAME, b"not json", "r", dt.datetime(2026, 1, 1)),
            },
            "Expecting value",
        ),
    ],
)
def test_records_are_only_for_pdf_a_and_only_json(kwargs: dict[str, Any], needle: str) -> None:
    html = "<!doctype html><html lang='en'><head><title>x</title></head><body>x</body></html>"
    with pytest.raises(ValueError, match=re.escape(needle)):
        convert(html, **kwargs)


def test_the_same_input_gives_the_same_record_and_text(library: Library) -> None:
    example = load_example(APPEAL_EXAMPLES[0], library)

    def render() -> Any:
        return render_pdfa(
            example.case,
            example.assessment,
            library,
            letter_date=example.as_of,
            denial=example.denial,
        )

    first, second = render(), render()
    assert pdf_inspect.text(first.pdf) == pdf_inspect.text(second.pdf)
    read = [pdf_inspect.reader(r.pdf).attachments[RECORD_NAME][0] for r in (first, second)]
    assert read[0] == read[1]
