"""Look at how WeasyPrint laid a document out: rows cut across pages, text beyond
the page, headings left alone at a page's foot.

Reads WeasyPrint's box tree (``page._page_box``), an internal API: the checks
are worth it, and a WeasyPrint upgrade that moves it fails loudly here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from priorauth.documents.pdf import AssetFetcher, resources

EPSILON = 0.5
HEADINGS = ("h1", "h2", "h3")


@dataclass
class Layout:
    pages: int
    page_sizes: list[tuple[float, float]] = field(default_factory=list)
    # Rows (class "row") whose boxes appear on more than one page.
    split_rows: list[str] = field(default_factory=list)
    # Text beyond the page's content area, as (page, text).
    overflow: list[tuple[int, str]] = field(default_factory=list)
    # Headings with nothing after them on their page, as (page, text).
    stranded_headings: list[tuple[int, str]] = field(default_factory=list)
    row_pages: dict[str, set[int]] = field(default_factory=dict)
    # Flex items left at min-width: auto, as "container class > item class": WeasyPrint
    # then measures their text's min-content width, superlinear in its length.
    auto_min_width: set[str] = field(default_factory=set)


def _text(box: boxes.Box) -> str:
    if isinstance(box, boxes.TextBox):
        return str(box.text)
    if isinstance(box, boxes.ParentBox):
        return "".join(_text(child) for child in box.children)
    return ""


def _classes(box: boxes.Box) -> set[str]:
    element = getattr(box, "element", None)
    if element is None or getattr(box, "element_tag", None) != "div":
        return set()
    return set(str(element.get("class") or "").split())


def _flex_items_at_auto(box: boxes.Box) -> set[str]:
    if not isinstance(box, boxes.FlexContainerBox):
        return set()
    container = " ".join(sorted(_classes(box))) or box.element_tag
    return {
        f"{container} > {' '.join(sorted(_classes(child))) or child.element_tag}"
        for child in box.children
        if child.style["min_width"] == "auto"
    }


def inspect(html: str) -> Layout:
    """Render ``html`` as the app does and report the layout problems found."""
    shared = resources()
    document = HTML(string=html, base_url=None, url_fetcher=AssetFetcher()).render(
        font_config=shared.font_config, stylesheets=[shared.stylesheet]
    )
    result = Layout(pages=len(document.pages))
    row_pages: dict[int, set[int]] = defaultdict(set)
    row_text: dict[int, str] = {}
    last_page = len(document.pages) - 1
    for number, page in enumerate(document.pages):
        page_box = page._page_box
        result.page_sizes.append((page.width, page.height))
        top = page_box.content_box_y()
        bottom = top + page_box.height
        left = page_box.content_box_x()
        right = left + page_box.width
        root = page_box.children[0]
        leaves = []
        headings = []
        for box in root.descendants():
            result.auto_min_width |= _flex_items_at_auto(box)
            if isinstance(box, boxes.TextBox) and str(box.text).strip():
                leaves.append(box)
                if (
                    box.position_y + box.height > bottom + EPSILON
                    or box.position_x + box.width > right + EPSILON
                ):
                    result.overflow.append((number + 1, str(box.text)))
            if isinstance(box, boxes.BlockBox) and box.element_tag in HEADINGS:
                headings.append(box)
            if isinstance(box, boxes.BlockLevelBox) and "row" in _classes(box):
                key = id(box.element)
                row_pages[key].add(number + 1)
                row_text.setdefault(key, " ".join(_text(box).split())[:80])
        if number == last_page:
            continue
        for heading in headings:
            foot = heading.position_y + heading.margin_height()
            inside = {id(b) for b in heading.descendants()}
            if not any(
                leaf.position_y >= foot - EPSILON and id(leaf) not in inside for leaf in leaves
            ):
                result.stranded_headings.append((number + 1, " ".join(_text(heading).split())))
    result.split_rows = [row_text[key] for key, pages in row_pages.items() if len(pages) > 1]
    result.row_pages = {row_text[key]: pages for key, pages in row_pages.items()}
    return result
