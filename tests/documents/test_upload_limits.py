"""An uploaded PDF is read under explicit limits and kept as a clean rebuild of its pages;
an image is decoded in full, and one carrying another file is refused."""

from __future__ import annotations

import io
import zlib

import pikepdf
import pytest
from PIL import Image

from priorauth.documents.upload_image import ImageRefused, check_image
from priorauth.documents.upload_pdf import MAX_PDF_IMAGE_PIXELS, PdfRefused, clean_pdf

MB = 1024 * 1024


def _saved(pdf: pikepdf.Pdf) -> bytes:
    out = io.BytesIO()
    pdf.save(out, stream_decode_level=pikepdf.StreamDecodeLevel.none)
    return out.getvalue()


def _clean(data: bytes) -> tuple[bytes, int]:
    out = io.BytesIO()
    kept = clean_pdf(io.BytesIO(data), out)
    return out.getvalue(), kept.pages


def _with_image(width: int, height: int, deflated: bytes) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    image = pikepdf.Stream(pdf, b"")
    image.write(deflated, filter=pikepdf.Name.FlateDecode)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height, image.BitsPerComponent = width, height, 8
    image.ColorSpace = pikepdf.Name.DeviceGray
    page = pdf.pages[0]
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.obj.Contents = pdf.make_indirect(pikepdf.Stream(pdf, b"q 100 0 0 100 0 0 cm /Im0 Do Q"))
    return _saved(pdf)


def test_an_image_stream_that_inflates_past_the_limit_is_refused() -> None:
    compressor = zlib.compressobj(9)
    block = bytes(MB)
    deflated = b"".join(compressor.compress(block) for _ in range(300)) + compressor.flush()
    data = _with_image(100, 100, deflated)
    assert len(data) < 1 * MB
    with pytest.raises(PdfRefused, match="decompresses to more than 200 MB"):
        _clean(data)


def test_an_image_with_too_many_pixels_is_refused() -> None:
    data = _with_image(10_000, 5_000, zlib.compress(bytes(100)))
    assert MAX_PDF_IMAGE_PIXELS < 10_000 * 5_000
    with pytest.raises(PdfRefused, match="10000 × 5000 pixels"):
        _clean(data)


def test_what_a_page_inherits_is_kept_and_nothing_else_of_the_document() -> None:
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(612, 792))
    page = pdf.pages[0]
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
    )
    # Resources and size on the page tree, not the page: a reader looks up the tree.
    pdf.Root.Pages.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    pdf.Root.Pages.MediaBox = page.obj.MediaBox
    del page.obj["/MediaBox"]
    if "/Resources" in page.obj:
        del page.obj["/Resources"]
    page.obj.Contents = pdf.make_indirect(
        pikepdf.Stream(pdf, b"BT /F1 12 Tf 72 700 Td (Synthetic IgG result) Tj ET")
    )
    pdf.docinfo["/Title"] = "Avery Testpatient lab report"
    pdf.Root.Outlines = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Outlines))
    pdf.attachments["notes.txt"] = b"synthetic attached file"
    data, pages = _clean(_saved(pdf))
    assert pages == 1
    for absent in (b"Avery", b"/Outlines", b"/EmbeddedFile", b"notes.txt", b"/Names"):
        assert absent not in data, absent
    with pikepdf.open(io.BytesIO(data)) as kept:
        obj = kept.pages[0].obj
        assert [float(v) for v in obj.MediaBox] == [0, 0, 612, 792]
        assert "/F1" in obj.Resources.Font
        assert b"Synthetic IgG result" in obj.Contents.read_bytes()


def test_a_png_carrying_another_file_is_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, "PNG")
    with pytest.raises(ImageRefused, match="more data after the end of the picture"):
        check_image(out.getvalue() + b"PK\x03\x04 a zip file", png=True)
    check_image(out.getvalue(), png=True)


def test_an_image_that_is_also_a_pdf_is_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(out, "JPEG", comment=b"%PDF-1.4 1 0 obj")
    with pytest.raises(ImageRefused, match="also readable as a PDF"):
        check_image(out.getvalue(), png=False)
