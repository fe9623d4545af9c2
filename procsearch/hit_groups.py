"""The CLI's grouped view of a result page: each ICD-10-PCS code family shown once, at its best
hit's rank, with the family's other codes on the page as variants ("0DTJ0ZZ open (4)")."""

from __future__ import annotations

from typing import Any


def folded(results: Any) -> list[tuple[Any, str]]:
    """(hit, variants line) for each hit that is the best of its family on the page, or has no
    family; the line is empty when the family has no other code on the page."""
    families = {family.family: family for family in results.families}
    shown: list[tuple[Any, str]] = []
    for hit in results.hits:
        family = families.get(hit.family)
        if family is None:
            shown.append((hit, ""))
            continue
        if family.variants[0].code != hit.code:
            continue  # folded into its family's best hit
        first, others = family.variants[0], family.variants[1:]
        line = ""
        if others:
            variants = ", ".join(f"{v.code} {v.variant} ({v.rank})" for v in others)
            line = f"{family.family} {family.label} ({first.variant} above): {variants}"
        shown.append((hit, line))
    return shown
