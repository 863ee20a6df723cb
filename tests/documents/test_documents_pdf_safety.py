"""Typed text stays text, and the renderer reads nothing but its own packaged assets.

Two layers are tested separately: the template's escaping (payloads in the case's
free text) and, in case escaping ever fails, the fetcher and the PDF writer
(payloads given straight to the renderer as raw HTML).
"""

from __future__ import annotations

import logging
import secrets
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pdf_inspect
import pytest
from weasyprint import HTML, Attachment
from weasyprint.urls import FatalURLFetchingError

from priorauth.documents import LetterContext, Rendered
from priorauth.documents.pdf import (
    DEFAULT_TITLE,
    MAX_HTML_CHARS,
    RENDER_OPTIONS,
    AssetFetcher,
    DocumentTooLarge,
    MissingAsset,
    RefusedFetch,
    asset_name,
    convert,
    html_to_pdf,
)
from priorauth.paths import ASSETS_DIR

PAYLOADS = (
    "<b>x</b>",
    '<img src="file:///etc/passwd">',
    '<link rel="attachment" href="file:///etc/passwd">',
)
PASSWD_MARKER = b"root:x:0:0"


@pytest.fixture
def hostile_letter(
    render: Callable[..., Rendered[LetterContext]], example_data: dict[str, Any]
) -> Rendered[LetterContext]:
    """The example case with every payload in the summary, a therapy note and the name."""
    joined = " ".join(PAYLOADS)
    example_data["clinical_summary"] = f"Summary start {joined} summary end {{{{7*7}}}}"
    example_data["prior_therapies"][0]["note"] = f"Note {joined}"
    example_data["patient"]["last_name"] = f"Testpatient {PAYLOADS[0]}"
    example_data["patient"]["first_name"] = PAYLOADS[2]
    return render(example_data)


def test_payloads_are_escaped_in_the_html(hostile_letter: Rendered[LetterContext]) -> None:
    html = hostile_letter.html
    for payload in PAYLOADS:
        assert payload not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html
    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in html
    assert "&lt;link rel=&#34;attachment&#34; href=&#34;file:///etc/passwd&#34;&gt;" in html
    # No template evaluation of typed text either.
    assert "{{7*7}}" in html
    assert "49" not in hostile_letter.context.clinical_history[0]


def test_payloads_appear_literally_in_the_pdf(hostile_letter: Rendered[LetterContext]) -> None:
    text = pdf_inspect.squeezed(pdf_inspect.text(hostile_letter.pdf))
    for payload in PAYLOADS:
        assert pdf_inspect.squeezed(payload) in text
    name = pdf_inspect.squeezed(f"{PAYLOADS[2]} Testpatient {PAYLOADS[0]}")
    assert name in text
    assert "{{7*7}}" in text


def test_payloads_embed_and_fetch_nothing(hostile_letter: Rendered[LetterContext]) -> None:
    assert hostile_letter.fetches == ()
    assert pdf_inspect.embedded_files(hostile_letter.pdf) == []
    assert b"/EmbeddedFiles" not in hostile_letter.pdf
    assert b"/Filespec" not in hostile_letter.pdf
    assert not pdf_inspect.contains_bytes(hostile_letter.pdf, PASSWD_MARKER)
    assert "root:x:0:0" not in pdf_inspect.text(hostile_letter.pdf)


def test_payloads_in_the_name_stay_out_of_the_metadata(
    hostile_letter: Rendered[LetterContext],
) -> None:
    info = pdf_inspect.reader(hostile_letter.pdf).metadata or {}
    assert str(info.get("/Title")) == DEFAULT_TITLE
    assert all("passwd" not in str(value) for value in info.values())


@pytest.fixture
def canary(tmp_path: Path) -> tuple[Path, bytes]:
    token = f"CANARY-{secrets.token_hex(8)}".encode()
    path = tmp_path / "canary.txt"
    path.write_bytes(token + b"\n")
    return path, token


def test_raw_html_attacks_are_refused_by_the_fetcher(
    canary: tuple[Path, bytes], weasyprint_messages: list[logging.LogRecord]
) -> None:
    # Raw HTML, as if escaping had failed: every resource-bearing element and CSS
    # construct, pointing at a local file, the network, data: and a relative path.
    path, token = canary
    url = path.as_uri()
    html = f"""<!doctype html><html><head>
    <title>Avery Testpatient</title>
    <meta name="author" content="Avery Testpatient">
    <meta name="keywords" content="G61.81, EHP000123">
    <link rel="attachment" href="{url}">
    <link rel="attachment" href="canary.txt">
    <link rel="stylesheet" href="{url}">
    <style>
      @import url("{url}");
      @font-face {{ font-family: Evil; src: url("{url}"); }}
      body {{ background: url("http://169.254.169.254/latest/meta-data/"); }}
    </style></head><body>
    <p style="font-family: Evil">text</p>
    <a rel="attachment" href="{url}">attached?</a>
    <img src="{url}"><img src="http://127.0.0.1:9/x.png"><img src="http://[::ffff:10.0.0.1]/x.png">
    <img src="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E">
    <object data="{url}" type="text/plain"></object>
    <embed src="{url}"><iframe src="{url}"></iframe>
    <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
      <image href="{url}" width="10" height="10"/>
      <image xlink:href="{url}" width="10" height="10"/>
    </svg>
    <div style="background-image: url('{url}')">styled</div>
    </body></html>"""
    output = convert(html)
    pdf = output.pdf

    assert output.fetches, "the payloads were offered to the fetcher"
    assert not any(f.served for f in output.fetches)
    assert pdf_inspect.embedded_files(pdf) == []
    assert not pdf_inspect.contains_bytes(pdf, token)
    assert token.decode() not in pdf_inspect.text(pdf)
    info = pdf_inspect.reader(pdf).metadata or {}
    assert str(info.get("/Title")) == DEFAULT_TITLE
    assert "/Author" not in info
    assert "/Keywords" not in info
    # WeasyPrint did report the refused resources: the guard would have seen them.
    assert weasyprint_messages


def test_an_unknown_asset_stops_the_render() -> None:
    for url in ("asset:fonts/missing.ttf", "asset:../paths.py", "asset:fonts/../../paths.py"):
        with pytest.raises(MissingAsset):
            html_to_pdf(f'<img src="{url}">')


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1:5000/admin",
        "https://example.org/x.css",
        "http://169.254.169.254/latest/meta-data/",
        "ftp://example.org/x",
        "data:text/plain,hello",
        "canary.txt",
        "/etc/passwd",
        "asset:/etc/passwd",
        "asset:../paths.py",
        "asset:fonts/../print.css",
        "asset:fonts%2fLiberationSans-Regular.ttf",
        "asset:fonts/LiberationSans-Regular.ttf?x=1",
        "asset:fonts\\LiberationSans-Regular.ttf",
        "asset:fonts/LICENSE-Liberation.txt",
        "asset:fonts/missing.ttf",
    ],
)
def test_the_fetcher_refuses_everything_but_packaged_assets(url: str) -> None:
    fetcher = AssetFetcher()
    assert asset_name(url) is None
    # Foreign URLs are dropped (RefusedFetch); a bad asset: name stops the render.
    expected = FatalURLFetchingError if url.lower().startswith("asset:") else RefusedFetch
    with pytest.raises(expected):
        fetcher.fetch(url)
    assert [(f.url, f.served) for f in fetcher.fetches] == [(url, False)]


def test_the_fetcher_serves_packaged_fonts_from_memory() -> None:
    fetcher = AssetFetcher()
    response = fetcher.fetch("asset:fonts/LiberationSans-Regular.ttf")
    body = response.read()
    assert body == (ASSETS_DIR / "fonts" / "LiberationSans-Regular.ttf").read_bytes()
    assert body[:4] == b"\x00\x01\x00\x00"  # a TrueType file
    assert [f.served for f in fetcher.fetches] == [True]


def test_the_fetcher_has_no_redirect_handler() -> None:
    fetcher = AssetFetcher()
    assert not any(isinstance(h, urllib.request.HTTPRedirectHandler) for h in fetcher.handlers)


def test_risky_weasyprint_features_stay_off() -> None:
    assert RENDER_OPTIONS["presentational_hints"] is False
    assert RENDER_OPTIONS["pdf_forms"] is False
    assert RENDER_OPTIONS["custom_metadata"] is False
    assert RENDER_OPTIONS["attachments"] is None
    assert RENDER_OPTIONS["xmp_metadata"] is None


def test_html_beyond_the_size_limit_is_refused_before_rendering() -> None:
    with pytest.raises(DocumentTooLarge, match="characters of HTML"):
        html_to_pdf("x" * (MAX_HTML_CHARS + 1))


def test_too_many_pages_is_a_clean_error() -> None:
    html = '<p style="break-after: page">p</p>' * 101
    with pytest.raises(DocumentTooLarge, match="101 pages"):
        html_to_pdf(html)


def test_deep_nesting_is_a_clean_error_not_a_recursion_crash() -> None:
    html = "<div>" * 5000 + "x" + "</div>" * 5000
    with pytest.raises(DocumentTooLarge, match="nested too deeply"):
        html_to_pdf(html)


def test_the_warning_guard_sees_weasyprint_warnings(
    weasyprint_messages: list[logging.LogRecord],
) -> None:
    # Positive control for the autouse guard: a bad CSS declaration is only logged.
    html_to_pdf('<p style="colr: red">x</p>')
    assert any("colr" in record.getMessage() for record in weasyprint_messages)


def test_the_embedded_file_scan_finds_a_real_attachment() -> None:
    # Positive control for the scan used above: a PDF that does embed a file.
    pdf = HTML(string="<p>x</p>").write_pdf(
        attachments=[Attachment(string=b"secret", name="secret.txt")]
    )
    found = pdf_inspect.embedded_files(pdf)
    assert "/EmbeddedFiles" in found
    assert "/Filespec" in found
    assert pdf_inspect.contains_bytes(pdf, b"secret")
