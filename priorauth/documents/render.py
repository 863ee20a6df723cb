"""Render document templates (templates/documents/) to HTML with Jinja2.

One Environment per process, built on first use: autoescaping on for every
.html template, so text a person typed can never become markup, and
StrictUndefined, so a misspelt variable fails the render instead of leaving a
blank dose or diagnosis in a letter sent to a payer.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from priorauth.paths import templates_dir

_lock = threading.Lock()
_environment: Environment | None = None


def environment() -> Environment:
    """The process's Jinja2 environment for documents, built once."""
    global _environment
    if _environment is None:
        with _lock:
            if _environment is None:
                _environment = Environment(
                    loader=FileSystemLoader(templates_dir()),
                    autoescape=select_autoescape(
                        enabled_extensions=("html", "htm", "xml"), default_for_string=True
                    ),
                    undefined=StrictUndefined,
                    trim_blocks=True,
                    lstrip_blocks=True,
                    # Templates do not change while a worker runs; skip the mtime check.
                    auto_reload=False,
                )
    return _environment


def _variables(context: Any) -> dict[str, Any]:
    """Expose a context's fields as template variables, and the whole of it as ``doc``."""
    if isinstance(context, Mapping):
        return {**context, "doc": context}
    if dataclasses.is_dataclass(context) and not isinstance(context, type):
        fields = {f.name: getattr(context, f.name) for f in dataclasses.fields(context)}
        return {**fields, "doc": context}
    raise TypeError(f"a document context is a dataclass or a mapping, not {type(context)!r}")


def render_html(template: str, context: Any) -> str:
    """Render a document template (e.g. ``documents/letter.html``) with plain values."""
    return environment().get_template(template).render(_variables(context))
