"""Ingest: turn scraped procedure pages (and public code sets) into ProcedureDoc records."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .errors import IngestError, PageSkipped, SourceUnavailableError, StrictModeError
    from .pages import PageBatch, load_pages, read_page
    from .parse import parse_page
    from .record import ProcedureDoc, SimilarCode
    from .sections import SECTION_NAMES, SECTIONS, Section, match_heading

__all__ = [
    "SECTIONS",
    "SECTION_NAMES",
    "IngestError",
    "PageBatch",
    "PageSkipped",
    "ProcedureDoc",
    "Section",
    "SimilarCode",
    "SourceUnavailableError",
    "StrictModeError",
    "load_pages",
    "match_heading",
    "parse_page",
    "read_page",
]

_WHERE = {
    **dict.fromkeys(("IngestError", "PageSkipped", "SourceUnavailableError", "StrictModeError"), "errors"),
    **dict.fromkeys(("PageBatch", "load_pages", "read_page"), "pages"),
    "parse_page": "parse",
    **dict.fromkeys(("ProcedureDoc", "SimilarCode"), "record"),
    **dict.fromkeys(("SECTION_NAMES", "SECTIONS", "Section", "match_heading"), "sections"),
}


def __getattr__(name: str) -> Any:
    # Imported on first use: the search path needs the records, not the HTML parser (bs4).
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
