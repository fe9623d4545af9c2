"""Ingest: turn scraped procedure pages (and public code sets) into ProcedureDoc records."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:
    from .coverage import ParseReport
    from .errors import IngestError, PageSkipped, SourceUnavailableError, StrictModeError
    from .pages import PageBatch, load_pages, read_page
    from .parse import parse_page, parse_page_report
    from .record import ProcedureDoc, SimilarCode
    from .sections import SECTION_NAMES, SECTIONS, Section, match_heading
    from .skips import SkippedPage, SkipReason

__all__ = [
    "SECTIONS",
    "SECTION_NAMES",
    "IngestError",
    "PageBatch",
    "PageSkipped",
    "ProcedureDoc",
    "Section",
    "SimilarCode",
    "SkipReason",
    "SkippedPage",
    "SourceUnavailableError",
    "StrictModeError",
    "load_pages",
    "match_heading",
    "parse_page",
    "parse_page_report",
    "ParseReport",
    "read_page",
]

# Imported on first use: the search path needs the records, not the HTML parser (bs4).
__getattr__ = lazy_attributes(
    __name__,
    {
        **dict.fromkeys(("IngestError", "PageSkipped", "SourceUnavailableError", "StrictModeError"), ".errors"),
        **dict.fromkeys(("PageBatch", "load_pages", "read_page"), ".pages"),
        **dict.fromkeys(("parse_page", "parse_page_report"), ".parse"),
        "ParseReport": ".coverage",
        **dict.fromkeys(("ProcedureDoc", "SimilarCode"), ".record"),
        **dict.fromkeys(("SECTION_NAMES", "SECTIONS", "Section", "match_heading"), ".sections"),
        **dict.fromkeys(("SkipReason", "SkippedPage"), ".skips"),
    },
)
