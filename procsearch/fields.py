"""The field table: every field of an indexed record, its display label, its default weight and
the roles it plays. Data only; the rest derives from it.

The index schema (``index/schema.py``), the default section weights (``search/weights.py``), the
labels of snippets and sections, the fields expansions are looked for in, and the fields that
rank spelling corrections all read this table; the canonical sections' heading rules (which page
headings map to which section) are ``ingest/sections.py``'s. It lives at the top of the package
because all three layers (ingest, index, search) read it and none of them owns it.

Weights apply at query time (BM25F per-field boosts), so changing one needs no re-index.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXT = "text"
"""Analysed (stemmed) text, stored, with positions: searched by words and phrases."""
ID = "id"
"""One exact term, stored: looked up and filtered by, never analysed."""
STORED = "stored"
"""Stored only, never searched."""
WORDS = "words"
"""Every distinct unstemmed word of the record, neither stored nor scored: the vocabulary typo
correction draws on."""


@dataclass(frozen=True)
class Field:
    """One field of an indexed record."""

    name: str
    label: str
    kind: str
    weight: float = 0.0
    """The default weight of a match in it (text fields)."""
    section: bool = False
    """One of the canonical sections of a page (``ProcedureDoc.sections``), in page order."""
    snippet: bool = False
    """A snippet may come from it (the title and names are shown anyway)."""
    expansion: bool = False
    """Vocabulary expansions are looked for in it: the fields that name and define the procedure."""
    popularity: bool = False
    """Its document frequency ranks spelling corrections of equal distance."""
    facet: bool = False
    """Counted per value by ``search --facets`` and ``stats``."""
    unique: bool = False

    @property
    def searched(self) -> bool:
        """Free-text queries search it."""
        return self.kind == TEXT


def _section(name: str, label: str, weight: float, **roles: bool) -> Field:
    return Field(name, label, TEXT, weight, section=True, snippet=True, **roles)


TITLE = "title"
NAMES = "names"
OTHER = "other"
SIMILAR = "similar"
SPELL = "spell"

FIELDS: tuple[Field, ...] = (
    Field("code", "Code", ID, unique=True),
    Field("code_system", "Code system", ID, facet=True),
    Field("group", "Group", ID, facet=True),
    Field("source", "Source", ID),
    Field("content_hash", "Content hash", STORED),
    Field("extra", "Other headings and similar codes' labels", STORED),  # JSON
    Field(SPELL, "Spelling vocabulary", WORDS),
    # The searched fields, in display order: title and common names far above the sections,
    # Summary and Purpose above Alternatives, Risks and Similar Codes.
    Field(TITLE, "Title", TEXT, 6.0, expansion=True, popularity=True),
    Field(NAMES, "Common Names", TEXT, 5.0, expansion=True, popularity=True),
    _section("summary", "Summary", 2.0, expansion=True, popularity=True),
    _section("purpose", "Purpose", 1.6),
    _section("indications", "Indications", 1.3),
    _section("preparation", "Preparation", 1.0),
    _section("procedure", "Procedure Description", 1.2),
    _section("duration", "Duration", 0.6),
    _section("setting", "Setting", 0.5),
    _section("personnel", "Personnel", 0.5),
    _section("risks", "Risks and Complications", 0.6),
    _section("benefits", "Benefits", 0.7),
    _section("recovery", "Recovery", 0.6),
    _section("alternatives", "Alternatives", 0.4),
    _section("experience", "Patient Experience", 0.5),
    Field(OTHER, "Other", TEXT, 0.3, snippet=True),  # headings that match no canonical section: kept, never dropped
    Field(SIMILAR, "Similar Codes", TEXT, 0.3, snippet=True),  # the codes are searched, their labels only shown
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

SECTION_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS if f.section)
"""The canonical sections in page order."""
TEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.searched)
"""Every field a free-text query searches, in display order."""
SNIPPET_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.snippet)
"""Fields a snippet may come from (the title and names are shown anyway)."""
EXPANSION_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.expansion)
"""Where vocabulary expansions are looked for."""
POPULARITY_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.popularity)
"""Where a word's document frequency ranks spelling corrections."""
FACET_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.facet)
"""Counted per value by ``search --facets`` and ``stats``."""
DEFAULT_WEIGHTS: dict[str, float] = {f.name: f.weight for f in FIELDS if f.searched}
"""The default weight of every searched field."""


def label(name: str) -> str:
    """The display label of a field ("risks" -> "Risks and Complications"); KeyError if unknown."""
    return BY_NAME[name].label


_PROSE_LABELS = {"title": "title", "names": "common names", "similar": "Similar Codes", "other": "other"}


def prose_label(name: str) -> str:
    """How a sentence names a field: a canonical section by its label ("Risks and Complications"),
    the other parts of a record in lower case ("common names"); an unknown name as it is."""
    field = BY_NAME.get(name)
    return field.label if field is not None and field.section else _PROSE_LABELS.get(name, name)
