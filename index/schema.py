"""The Whoosh schema, derived from the canonical sections."""

from __future__ import annotations

from typing import Any

from whoosh.fields import ID, KEYWORD, STORED, TEXT, Schema

from ..ingest.sections import OTHER, SECTION_NAMES
from .analysis import text_analyzer

SCHEMA_VERSION = 2
"""Bumped whenever the schema or the analysis changes: older indexes must then be rebuilt."""

TITLE = "title"
NAMES = "names"
SIMILAR = "similar"
SPELL = "spell"
TEXT_FIELDS: tuple[str, ...] = (TITLE, NAMES, *SECTION_NAMES, OTHER, SIMILAR)
"""Every field a free-text query searches, in display order."""

SNIPPET_FIELDS: tuple[str, ...] = (*SECTION_NAMES, OTHER, SIMILAR)
"""Fields a snippet may come from (the title and names are shown anyway)."""


def build_schema() -> Schema:
    """One stemmed, stored TEXT field per section, plus the code and the record's other parts."""
    analyzer = text_analyzer()
    fields: dict[str, Any] = {
        "code": ID(stored=True, unique=True),
        "code_system": ID(stored=True),
        "group": ID(stored=True),
        "source": ID(stored=True),
        "content_hash": STORED(),  # read back, never searched
        "extra": STORED(),  # JSON: the "other" headings and the similar codes' labels
        # Every distinct unstemmed word of the document: the vocabulary typo correction draws on.
        SPELL: KEYWORD(lowercase=True, scorable=False),
    }
    for name in TEXT_FIELDS:
        fields[name] = TEXT(analyzer=analyzer, stored=True, phrase=True)
    return Schema(**fields)
