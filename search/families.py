"""ICD-10-PCS code families: codes of one table row (the same section, body system, root
operation and body part) that differ only in approach, device or qualifier, shown once with
their variants ("0DTJ Resection of Appendix: 0DTJ0ZZ open, 0DTJ4ZZ percutaneous endoscopic")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from .limits import MAX_LIMIT
from .pcs_axes import pcs_lexicon
from .results import SearchHit, SearchResults

FAMILY_DEPTH = 8
"""How many hits per row a page of families reads at most (a row is a family or a hit without one)."""


@dataclass(frozen=True)
class Variant:
    """One code of a family as a result: its rank and what sets it apart."""

    code: str
    rank: int
    variant: str

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "rank": self.rank, "variant": self.variant}


@dataclass(frozen=True)
class Family:
    """The hits of one family, in rank order; ``rank`` is its best hit's."""

    family: str
    label: str
    variants: tuple[Variant, ...]

    @property
    def rank(self) -> int:
        return self.variants[0].rank

    def to_dict(self) -> dict[str, object]:
        return {
            "family": self.family,
            "label": self.label,
            "rank": self.rank,
            "codes": [variant.to_dict() for variant in self.variants],
        }


def group_families(hits: Iterable[SearchHit]) -> tuple[Family, ...]:
    """The ICD-10-PCS hits grouped by family, families in the order their best hits rank."""
    grouped: dict[str, list[SearchHit]] = {}
    for hit in hits:
        if hit.family:
            grouped.setdefault(hit.family, []).append(hit)
    if not grouped:
        return ()
    return tuple(
        Family(family, _label(family, members[0]), tuple(Variant(h.code, h.rank, _variant(h)) for h in members))
        for family, members in grouped.items()
    )


def family_page(
    search: Callable[..., SearchResults], query: str, *, limit: int = 10, offset: int = 0, **options: Any
) -> SearchResults:
    """``search``'s results with ``limit`` rows instead of ``limit`` hits, a row being an
    ICD-10-PCS code family (all its codes among the hits read) or a hit of no family: ten rows
    name ten procedures, where ten hits may be three families' variants. The hits keep their
    own ranks; a page that already has ``limit`` rows is returned as it is."""
    results = search(query, limit=limit, offset=offset, **options)
    if len(_rows(results.hits)) >= limit or results.total <= offset + len(results.hits):
        return results
    deeper = search(query, limit=min(MAX_LIMIT, limit * FAMILY_DEPTH), offset=offset, **options)
    rows = _rows(deeper.hits)
    if len(rows) <= limit:
        return deeper
    # The page ends before the first hit of the next row, so ranks stay contiguous and the next
    # page starts at --offset of the last rank shown (a later variant of a row shown heads its own).
    cut = next(i for i, hit in enumerate(deeper.hits) if _row(hit) == rows[limit])
    return replace(deeper, hits=deeper.hits[:cut])


def fold(results: SearchResults) -> list[tuple[SearchHit, Family | None]]:
    """The page as rows: each hit of no family with None, and each family's best hit with its
    family (the family's other hits are left out of the list: they are its variants)."""
    families = {family.family: family for family in results.families}
    rows: list[tuple[SearchHit, Family | None]] = []
    for hit in results.hits:
        family = families.get(hit.family)
        if family is None:
            rows.append((hit, None))
        elif family.variants[0].code == hit.code:
            rows.append((hit, family if len(family.variants) > 1 else None))
    return rows


def _row(hit: SearchHit) -> str:
    return hit.family or f"code:{hit.code}"


def _rows(hits: Iterable[SearchHit]) -> list[str]:
    """The rows of ``hits`` in the order they first appear."""
    return list(dict.fromkeys(_row(hit) for hit in hits))


def _label(family: str, hit: SearchHit) -> str:
    lexicon = pcs_lexicon()
    if lexicon is not None:
        root = lexicon.root_names.get(family[0] + family[2], "")
        part = lexicon.part_names.get(family[0] + family[1] + family[3], "")
        if root and part:
            return f"{root} of {part}"
    return hit.title.rpartition(", ")[0] or hit.title


def _variant(hit: SearchHit) -> str:
    """The approach, device and qualifier of a code, as words ("percutaneous endoscopic")."""
    lexicon = pcs_lexicon()
    code = hit.code
    if lexicon is None:
        return hit.title.rpartition(", ")[2].lower()
    words = [lexicon.approach_names.get(code[0] + code[4], code[4]).lower()]
    device = lexicon.devices.get(code[:3] + code[5], "")
    qualifier = lexicon.qualifiers.get(code[:3] + code[6], "")
    words += [value.lower() for value in (device, qualifier) if value and not value.lower().startswith("no ")]
    return ", ".join(words)
