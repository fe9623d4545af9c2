"""Section weights: how much a match in each field counts. Applied at query time."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import UsageError
from ..index.schema import NAMES, SIMILAR, TEXT_FIELDS, TITLE
from ..ingest.sections import OTHER, OTHER_WEIGHT, SECTIONS

TITLE_WEIGHT = 6.0
NAMES_WEIGHT = 5.0
SIMILAR_WEIGHT = 0.3
EXPANSION_WEIGHT = 0.5
"""Vocabulary expansions count at half the weight of the words the user typed."""
EXPANSION_FIELDS = (TITLE, NAMES, "summary")
"""Where expansions are looked for: the fields that name and define the procedure."""

DEFAULT_WEIGHTS: Mapping[str, float] = {
    TITLE: TITLE_WEIGHT,
    NAMES: NAMES_WEIGHT,
    **{section.name: section.weight for section in SECTIONS},
    OTHER: OTHER_WEIGHT,
    SIMILAR: SIMILAR_WEIGHT,
}
"""The default weight of every searched field: title and common names far above the sections,
Summary and Purpose above Alternatives, Risks and Similar Codes."""


def resolve_weights(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The default weights with ``overrides`` applied; unknown fields, and weights that are negative,
    infinite or not a number, raise UsageError (a ValueError)."""
    weights = dict(DEFAULT_WEIGHTS)
    for name, value in (overrides or {}).items():
        if name not in weights:
            raise UsageError(f"unknown field {name!r} in weights; fields are: {', '.join(TEXT_FIELDS)}")
        if not math.isfinite(value) or value < 0:
            raise UsageError(f"weight for {name!r} must be a finite number, zero or more, not {value}")
        weights[name] = float(value)
    return weights


def parse_weight_option(text: str) -> dict[str, float]:
    """Parse "title=8,alternatives=0" (the CLI's --weights) into a mapping."""
    weights: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            if not sep:
                raise ValueError
            weights[name.strip()] = float(value)
        except ValueError:
            raise UsageError(f"cannot read weight {part!r}: write FIELD=NUMBER, e.g. title=8,alternatives=0") from None
    return weights
