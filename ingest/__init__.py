"""Ingest: turn scraped procedure pages (and public code sets) into ProcedureDoc records."""

from __future__ import annotations

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
