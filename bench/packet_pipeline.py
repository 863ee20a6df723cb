"""Benchmark the fax packet against bare WeasyPrint on the same final HTML documents.

    .venv/bin/python bench/packet_pipeline.py [--iterations 10] [--warmup 2] [--case FILE]

(a) the whole packet, as the web and CLI layers build it: parse the case JSON →
    validate → evaluate → check every upload (type, size, integrity) → render
    the letter, cost summary, checklist, image pages, cover and page stamps →
    merge with pypdf, strip uploaded PDFs, stamp every page;
(b) bare WeasyPrint: ``HTML(string=html, url_fetcher=...).write_pdf()`` on each
    HTML document that (a) rendered, with the same stylesheet, fonts and fetcher.

The ratio (a)/(b) is our overhead over WeasyPrint's own work. The default case
is examples/appeal-missing-information.json: an appeal, a cost summary, a
checklist, four uploaded PDFs and one image. Not a test; run it by hand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import weasyprint
from weasyprint import HTML

from priorauth.documents import output
from priorauth.documents import pdf as pdf_module
from priorauth.documents.packet import build_packet
from priorauth.documents.uploads import Upload
from priorauth.domain.case import Case
from priorauth.domain.denial import Denial
from priorauth.rules import evaluate, load_library

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CASE = ROOT / "examples" / "appeal-missing-information.json"
TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg"}


def _timed(run: Callable[[], object]) -> float:
    gc.collect()
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print medians, the ratio and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--case", type=Path, default=DEFAULT_CASE)
    args = parser.parse_args(argv)

    library = load_library()
    rules = library.appeal_rules
    tables = library.prices
    wrapper = json.loads(args.case.read_text(encoding="utf-8"))
    as_of = dt.date.fromisoformat(wrapper["as_of"])
    uploads = [
        Upload(
            filename=(args.case.parent / item["path"]).name,
            declared_type=TYPES[Path(item["path"]).suffix],
            data=(args.case.parent / item["path"]).read_bytes(),
            enclosure_id=item.get("enclosure"),
            title=item.get("title", ""),
        )
        for item in wrapper.get("attachments", [])
    ]
    case_text = json.dumps(wrapper["case"])
    denial_data = wrapper.get("denial")

    def pipeline() -> bytes:
        case = Case.model_validate(json.loads(case_text), context={"today": as_of})
        denial = (
            Denial.model_validate(denial_data, context={"today": as_of}) if denial_data else None
        )
        assessment = evaluate(case, library, as_of)
        return build_packet(
            case,
            assessment,
            library,
            packet_date=as_of,
            denial=denial,
            uploads=uploads,
            price_tables=tables,
            rules=rules,
        ).pdf

    # Record every document the packet renders, to give bare WeasyPrint the same work.
    rendered: list[tuple[str, dict[str, Any]]] = []
    real_convert = pdf_module.convert

    def recording(html: str, **kwargs: Any) -> Any:
        rendered.append((html, kwargs))
        return real_convert(html, **kwargs)

    # Every document and packet part goes through output.convert.
    output.convert = recording
    try:
        first = pipeline()
    finally:
        output.convert = real_convert
    shared = pdf_module.resources()

    def bare() -> None:
        for html, kwargs in rendered:
            images = kwargs.get("images")
            fetcher = pdf_module._UploadFetcher(images) if images else pdf_module.AssetFetcher()
            HTML(string=html, url_fetcher=fetcher).write_pdf(
                font_config=shared.font_config, stylesheets=[shared.stylesheet]
            )

    for _ in range(args.warmup):
        pipeline()
        bare()
    pipeline_s: list[float] = []
    bare_s: list[float] = []
    for index in range(args.iterations):
        pair = (pipeline, bare) if index % 2 == 0 else (bare, pipeline)
        for run in pair:
            (pipeline_s if run is pipeline else bare_s).append(_timed(run))

    median_a, median_b = statistics.median(pipeline_s), statistics.median(bare_s)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mib = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    from io import BytesIO

    from pypdf import PdfReader

    pages = len(PdfReader(BytesIO(first)).pages)
    print(f"packet pipeline benchmark: {args.case.name}, {args.iterations} iterations")
    print(
        f"  Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, "
        f"{len(rendered)} HTML documents, {len(uploads)} uploads, {pages} pages, "
        f"{len(first):,} bytes"
    )
    print(f"  (a) whole packet      median {median_a * 1000:7.1f} ms")
    print(f"  (b) bare WeasyPrint   median {median_b * 1000:7.1f} ms")
    print(f"  ratio (a)/(b)         {median_a / median_b:.3f}")
    print(f"  peak memory (RSS)     {peak_mib:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
