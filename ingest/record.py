"""The one record type that flows from ingest to index to search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .sections import OTHER, SECTION_NAMES


@dataclass(frozen=True)
class SimilarCode:
    """A related code listed on a page, with the label the page gives it."""

    code: str
    label: str = ""


@dataclass(frozen=True)
class ProcedureDoc:
    """One procedure document: a scraped page or one code of a public code set.

    ``code`` is the document's unique id: the procedure code when the page has one, otherwise a
    slug from the page's canonical URL or file name (then ``code_system`` is empty).
    ``sections`` maps canonical section names (see :mod:`.sections`) to their text, in page
    order; ``other`` maps headings that match no canonical section to their text.
    """

    code: str
    code_system: str
    title: str
    common_names: tuple[str, ...] = ()
    sections: Mapping[str, str] = field(default_factory=dict)
    other: Mapping[str, str] = field(default_factory=dict)
    similar_codes: tuple[SimilarCode, ...] = ()
    group: str = ""
    source: str = ""
    content_hash: str = ""

    def __post_init__(self) -> None:
        unknown = set(self.sections) - set(SECTION_NAMES)
        if unknown:
            raise ValueError(f"unknown section names: {sorted(unknown)}")
        # Freeze the mappings so the record really is immutable.
        object.__setattr__(self, "sections", MappingProxyType(dict(self.sections)))
        object.__setattr__(self, "other", MappingProxyType(dict(self.other)))

    def __reduce__(self) -> tuple[type[ProcedureDoc], tuple[object, ...]]:
        # Picklable (pages parsed in worker processes come back this way): the frozen mappings
        # travel as plain dicts and are frozen again on arrival.
        return (
            ProcedureDoc,
            (
                self.code,
                self.code_system,
                self.title,
                self.common_names,
                dict(self.sections),
                dict(self.other),
                self.similar_codes,
                self.group,
                self.source,
                self.content_hash,
            ),
        )

    @property
    def other_text(self) -> str:
        """The unmatched sections as one text, each under its own heading."""
        return "\n\n".join(f"{heading}\n{text}" for heading, text in self.other.items())

    def section_text(self, name: str) -> str:
        """The text of a canonical section, or of the ``other`` field; empty if absent."""
        if name == OTHER:
            return self.other_text
        return self.sections.get(name, "")

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict; the shape ``procsearch show --json`` prints."""
        return {
            "code": self.code,
            "code_system": self.code_system,
            "title": self.title,
            "common_names": list(self.common_names),
            "group": self.group,
            "sections": dict(self.sections),
            "other": dict(self.other),
            "similar_codes": [{"code": s.code, "label": s.label} for s in self.similar_codes],
            "source": self.source,
            "content_hash": self.content_hash,
        }
