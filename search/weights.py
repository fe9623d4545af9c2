"""Field weights: how much a match in each field counts (defaults from the field table), applied at
query time."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import UsageError
from ..fields import DEFAULT_WEIGHTS, EXPANSION_FIELDS, TEXT_FIELDS

__all__ = ["DEFAULT_WEIGHTS", "EXPANSION_FIELDS", "EXPANSION_WEIGHT", "parse_weight_option", "resolve_weights"]

EXPANSION_WEIGHT = 0.5
"""Vocabulary expansions count at half the weight of the words the user typed."""


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
