"""Benchmark the letter pipeline against bare WeasyPrint on the same final HTML.

    .venv/bin/python bench/letter_pipeline.py [--iterations 30] [--warmup 3] [--case FILE]

(a) the whole pipeline, as the web and CLI layers run it: parse the case JSON →
    validate → evaluate → build the context → render the HTML → PDF;
(b) bare WeasyPrint: ``HTML(string=final_html, url_fetcher=...).write_pdf()`` on
    the HTML that (a) produced, with the same parsed stylesheet, fonts and fetcher.

The two are interleaved, alternating which goes first, so drift in the machine's
load falls on both alike. The ratio (a)/(b) is our overhead over WeasyPrint's
own work; the target is 1.15 or below (issue 2, item 10). The definitions are
loaded once before timing, as the app does at start-up. Not a test: run it by
hand or with ``make bench``.
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

import weasyprint
from weasyprint import HTML

from priorauth.documents import render_letter
from priorauth.documents.pdf import AssetFetcher, resources
from priorauth.domain.case import Case
from priorauth.rules import evaluate, load_library

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CASE = ROOT / "examples" / "cidp-initial-qualifies.json"
# The example's dates are fixed; validate and assess as of the day it was written.
AS_OF = dt.date(2026, 11, 20)


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _timed(run: Callable[[], object]) -> float:
    gc.collect()  # outside the timing: a collection lands on neither side by chance
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print medians, p90, the ratio and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30, help="timed runs of each (30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs of each first (3)")
    parser.add_argument("--case", type=Path, default=DEFAULT_CASE, help="case JSON file")
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.warmup < 0:
        parser.error("--iterations must be at least 1 and --warmup at least 0")

    library = load_library()
    case_text = args.case.read_text(encoding="utf-8")

    def pipeline() -> bytes:
        case = Case.model_validate(json.loads(case_text), context={"today": AS_OF})
        assessment = evaluate(case, library, AS_OF)
        return render_letter(case, assessment, library, letter_date=AS_OF).pdf

    case = Case.model_validate(json.loads(case_text), context={"today": AS_OF})
    first = render_letter(case, evaluate(case, library, AS_OF), library, letter_date=AS_OF)
    final_html = first.html
    shared = resources()

    def bare() -> bytes:
        return HTML(string=final_html, url_fetcher=AssetFetcher()).write_pdf(
            font_config=shared.font_config, stylesheets=[shared.stylesheet]
        )

    for _ in range(args.warmup):
        pipeline()
        bare()

    pipeline_s: list[float] = []
    bare_s: list[float] = []
    for index in range(args.iterations):
        if index % 2 == 0:
            pipeline_s.append(_timed(pipeline))
            bare_s.append(_timed(bare))
        else:
            bare_s.append(_timed(bare))
            pipeline_s.append(_timed(pipeline))

    median_a = statistics.median(pipeline_s)
    median_b = statistics.median(bare_s)
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mib = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024

    print(f"letter pipeline benchmark: {args.case.name}, {args.iterations} iterations")
    print(
        f"  Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, "
        f"{len(final_html):,} characters of HTML, {first.page_count} pages"
    )
    print(
        f"  (a) whole pipeline   median {median_a * 1000:7.1f} ms   "
        f"p90 {_percentile(pipeline_s, 0.9) * 1000:7.1f} ms"
    )
    print(
        f"  (b) bare WeasyPrint  median {median_b * 1000:7.1f} ms   "
        f"p90 {_percentile(bare_s, 0.9) * 1000:7.1f} ms"
    )
    print(f"  ratio (a)/(b)        {median_a / median_b:.3f}   (target ≤ 1.15)")
    print(f"  peak memory (RSS)    {peak_mib:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
