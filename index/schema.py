"""The Whoosh schema, derived from the field table (:mod:`procsearch.fields`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from whoosh import fields as whoosh_fields

from ..fields import FIELDS, ID, NAMES, SIMILAR, SNIPPET_FIELDS, SPELL, STORED, TEXT, TEXT_FIELDS, TITLE, WORDS, Field
from .analysis import text_analyzer

__all__ = ["NAMES", "SCHEMA_VERSION", "SIMILAR", "SNIPPET_FIELDS", "SPELL", "TEXT_FIELDS", "TITLE", "build_schema"]

SCHEMA_VERSION = 2
"""Bumped whenever the schema or the analysis changes: older indexes must then be rebuilt."""


def build_schema() -> whoosh_fields.Schema:
    """One stemmed, stored TEXT field per searched field (each section, the title, ...), plus
    the code and the record's other parts, each as the field table says."""
    analyzer = text_analyzer()
    kinds: dict[str, Callable[[Field], Any]] = {
        ID: lambda f: whoosh_fields.ID(stored=True, unique=f.unique),
        STORED: lambda f: whoosh_fields.STORED(),
        WORDS: lambda f: whoosh_fields.KEYWORD(lowercase=True, scorable=False),
        TEXT: lambda f: whoosh_fields.TEXT(analyzer=analyzer, stored=True, phrase=True),
    }
    return whoosh_fields.Schema(**{f.name: kinds[f.kind](f) for f in FIELDS})
