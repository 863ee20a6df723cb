"""Benchmark the letter pipeline: against bare WeasyPrint, and at every field's length limit.

    .venv/bin/python bench/letter_pipeline.py [--iterations 30] [--warmup 3] [--case FILE]
                                              [--field-iterations 5] [--skip-fields]

Measured side by side in one run, interleaved so that drift in the machine's load
falls on all alike:

(a) the whole pipeline, as the web and CLI layers run it: parse the case JSON →
    validate → evaluate → build the context → render the HTML → PDF;
(b) bare WeasyPrint: ``HTML(string=final_html, url_fetcher=...).write_pdf()`` on
    the HTML that (a) produced, with the same parsed stylesheet, fonts and fetcher;
(c) the whole pipeline on the maximum-length-fields letter: the same case with every
    free-text field it fills (names, coverage, prescriber, clinical summary, each
    prior treatment's agent, dose and note) at its stated limit, all at once.

(a)/(b) is our overhead over WeasyPrint's own work (target ≤ 1.15, issue 2, item 10);
(c)/(a) is what the longest typed text costs (target ≤ 3, issue 10). Then each
free-text field alone at its limit, and each section of the physician's narrative
at its limit, against (a) again (target ≤ 3 each). The limits are read from the
case model, so a field added later is measured without a change here.

The definitions are loaded once before timing, as the app does at start-up. Not a
test: run it by hand or with ``make bench``.
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import gc
import json
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import weasyprint
from pydantic import BaseModel, ValidationError
from weasyprint import HTML

from priorauth.documents import NARRATIVE_SECTIONS, render_letter
from priorauth.documents.letter import MAX_NARRATIVE_CHARS
from priorauth.documents.pdf import AssetFetcher, resources
from priorauth.domain.case import Case
from priorauth.rules import evaluate, load_library
from priorauth.rules.library import Library

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CASE = ROOT / "examples" / "cidp-initial-qualifies.json"
# The example's dates are fixed; validate and assess as of the day it was written.
AS_OF = dt.date(2026, 11, 20)
# Text as a person pastes it: words and punctuation, so lines break as they would.
FILLER = (
    "Weakness progressed despite treatment, with a documented decline in grip strength "
    "and gait over several visits; repeat nerve conduction studies confirmed conduction "
    "block in two nerves. "
)
PIPELINE_TARGET = 1.15
LONG_TEXT_TARGET = 3.0

Path_ = tuple[str | int, ...]


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _timed(run: Callable[[], object]) -> float:
    gc.collect()  # outside the timing: a collection lands on neither side by chance
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def filler(length: int) -> str:
    """Pasted-looking text of exactly ``length`` characters."""
    text = (FILLER * (length // len(FILLER) + 1))[:length]
    return text[:-1] + "." if text.endswith(" ") else text


def _limit(model: type[BaseModel], name: str) -> int | None:
    """The field's stated length limit, for free text only (no pattern to match)."""
    for item in model.model_fields[name].metadata:
        if getattr(item, "max_length", None) and getattr(item, "pattern", None) is None:
            return int(item.max_length)
    return None


def text_fields(
    model: type[BaseModel], data: Mapping[str, Any], at: Path_ = ()
) -> Iterator[tuple[Path_, int]]:
    """Every free-text field the case data fills, as (path, limit), nested models included."""
    for name, value in data.items():
        if name not in model.model_fields:
            continue
        annotation = model.model_fields[name].annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if isinstance(value, dict) and isinstance(annotation, type):
            if issubclass(annotation, BaseModel):
                yield from text_fields(annotation, value, (*at, name))
        elif isinstance(value, list) and isinstance(inner, type) and issubclass(inner, BaseModel):
            for index, item in enumerate(value):
                yield from text_fields(inner, item, (*at, name, index))
        elif isinstance(value, str):
            limit = _limit(model, name)
            if limit is not None:
                yield (*at, name), limit


def _set(data: dict[str, Any], path: Path_, value: str) -> None:
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _valid(data: dict[str, Any]) -> bool:
    try:
        Case.model_validate(data, context={"today": AS_OF})
    except ValidationError:
        return False
    return True


def at_limits(data: dict[str, Any], paths: list[tuple[Path_, int]]) -> dict[str, Any]:
    """The case with each field on ``paths`` at its limit, where the model accepts filler.

    A field with a format of its own (a phone number, say) keeps the example's value.
    """
    out = copy.deepcopy(data)
    for path, limit in paths:
        trial = copy.deepcopy(out)
        _set(trial, path, filler(limit))
        if _valid(trial):
            out = trial
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print medians, p90, the ratios and peak memory."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=30, help="timed runs of each (30)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs of each first (3)")
    parser.add_argument("--case", type=Path, default=DEFAULT_CASE, help="case JSON file")
    parser.add_argument(
        "--field-iterations", type=int, default=5, help="timed runs per field at its limit (5)"
    )
    parser.add_argument("--skip-fields", action="store_true", help="skip the field-by-field part")
    args = parser.parse_args(argv)
    if args.iterations < 1 or args.warmup < 0 or args.field_iterations < 1:
        parser.error("--iterations and --field-iterations must be at least 1, --warmup at least 0")

    library = load_library()
    data = json.loads(args.case.read_text(encoding="utf-8"))
    fields = list(text_fields(Case, data))
    longest = at_limits(data, fields)

    def pipeline_of(
        case_data: dict[str, Any], narrative: Mapping[str, str] | None = None
    ) -> Callable[[], object]:
        case_text = json.dumps(case_data)

        def run() -> bytes:
            return _letter(case_text, library, narrative).pdf

        return run

    first = _letter(json.dumps(data), library, None)
    final_html = first.html
    shared = resources()

    def bare() -> bytes:
        return HTML(string=final_html, url_fetcher=AssetFetcher()).write_pdf(
            font_config=shared.font_config, stylesheets=[shared.stylesheet]
        )

    runs = {"a": pipeline_of(data), "b": bare, "c": pipeline_of(longest)}
    samples = _interleaved(runs, args.iterations, args.warmup)
    median = {key: statistics.median(values) for key, values in samples.items()}
    long_pages = _letter(json.dumps(longest), library, None).page_count

    print(f"letter pipeline benchmark: {args.case.name}, {args.iterations} iterations")
    print(
        f"  Python {platform.python_version()}, WeasyPrint {weasyprint.__version__}, "
        f"{len(final_html):,} characters of HTML, {first.page_count} pages"
    )
    labels = {
        "a": "(a) whole pipeline  ",
        "b": "(b) bare WeasyPrint ",
        "c": "(c) longest fields  ",
    }
    for key, label in labels.items():
        print(
            f"  {label} median {median[key] * 1000:7.1f} ms   "
            f"p90 {_percentile(samples[key], 0.9) * 1000:7.1f} ms"
        )
    print(f"  ratio (a)/(b)        {median['a'] / median['b']:.3f}   (target ≤ {PIPELINE_TARGET})")
    print(
        f"  ratio (c)/(a)        {median['c'] / median['a']:.3f}   (target ≤ {LONG_TEXT_TARGET}; "
        f"{len(fields)} fields at their limits, {long_pages} pages)"
    )
    worst = 0.0
    if not args.skip_fields:
        worst = _field_by_field(data, fields, library, pipeline_of, args.field_iterations)
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mib = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    print(f"  peak memory (RSS)    {peak_mib:.1f} MiB")
    over = median["c"] / median["a"] > LONG_TEXT_TARGET or worst > LONG_TEXT_TARGET
    return 1 if over else 0


def _letter(case_text: str, library: Library, narrative: Mapping[str, str] | None) -> Any:
    case = Case.model_validate(json.loads(case_text), context={"today": AS_OF})
    assessment = evaluate(case, library, AS_OF)
    return render_letter(case, assessment, library, letter_date=AS_OF, narrative=narrative)


def _interleaved(
    runs: Mapping[str, Callable[[], object]], iterations: int, warmup: int
) -> dict[str, list[float]]:
    """Time each run ``iterations`` times, rotating which goes first."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    keys = list(runs)
    samples: dict[str, list[float]] = {key: [] for key in keys}
    for index in range(iterations):
        shift = index % len(keys)
        for key in keys[shift:] + keys[:shift]:
            samples[key].append(_timed(runs[key]))
    return samples


def _field_by_field(
    data: dict[str, Any],
    fields: list[tuple[Path_, int]],
    library: Library,
    pipeline_of: Callable[..., Callable[[], object]],
    iterations: int,
) -> float:
    """Each field alone at its limit, and each narrative section, against the example."""
    print(f"  each field alone at its limit, against (a) ({iterations} iterations each):")
    cases: dict[str, Callable[[], object]] = {}
    for path, limit in fields:
        alone = at_limits(data, [(path, limit)])
        if alone != data:
            cases[".".join(map(str, path)) + f" ({limit:,})"] = pipeline_of(alone)
    for section in NARRATIVE_SECTIONS:
        narrative = {section: filler(MAX_NARRATIVE_CHARS)}
        cases[f"narrative.{section} ({MAX_NARRATIVE_CHARS:,})"] = pipeline_of(data, narrative)
    worst = 0.0
    for name, run in cases.items():
        samples = _interleaved({"a": pipeline_of(data), "x": run}, iterations, 1)
        ratio = statistics.median(samples["x"]) / statistics.median(samples["a"])
        worst = max(worst, ratio)
        print(f"    {name:48} {ratio:5.2f}")
    print(f"  worst single field   {worst:.3f}   (target ≤ {LONG_TEXT_TARGET})")
    return worst


if __name__ == "__main__":
    raise SystemExit(main())
