"""A query read along the ICD-10-PCS axes (:class:`Interpretation`), and how well a code agrees
with it: what :mod:`.pcs_axes` builds from the words and :mod:`.pcs_order` ranks codes by."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ..ingest.icd10pcs.lexicon import DIAGNOSTIC, AxisLexicon

ROOT_WEIGHT = 1.2
BODY_PART_WEIGHT = 1.2
APPROACH_WEIGHT = 0.3
DEVICE_WEIGHT = 0.2
QUALIFIER_WEIGHT = 0.2
DEVICE_TABLE_WEIGHT = 0.4
SIDE_WEIGHT = 0.4
"""How much each axis adds to a code's score (the text score, relative to the best, adds up to 1)."""
SYSTEM_SHARE = 0.5
"""A body system named by the query counts this much for each of its body parts."""
GENERIC_ROOT = 0.8
"""A root operation named without a table counts this much of one the index ties to the code's table."""
_LIST_SIZE = 5
_NO_NAMES = AxisLexicon()
AXIS_LABELS = (
    ("root_operation", "root operation"),
    ("body_part", "body part"),
    ("body_system", "body system"),
    ("approach", "approach"),
    ("approach_ruled_out", "not approach"),
    ("device", "device"),
    ("device_ruled_out", "not device"),
    ("qualifier", "qualifier"),
    ("laterality", "side"),
)
"""How a person is shown each axis of a reading (:meth:`Interpretation.named_axes`), in this order."""


@dataclass(frozen=True)
class Interpretation:
    """What a query's words say about each axis: value -> evidence (the best value weighs 1)."""

    roots: Mapping[str, float] = field(default_factory=dict)
    """Root key: section, body system (or a space: any) and root operation ("04C", "0 C")."""
    parts: Mapping[str, float] = field(default_factory=dict)
    """Body part key: section, body system and body part ("04K")."""
    systems: Mapping[str, float] = field(default_factory=dict)
    """Body systems named ("09": "nose" in "Ear, Nose, Sinus"): their body parts count for a part."""
    approaches: Mapping[str, float] = field(default_factory=dict)
    """Section and approach character ("0X"); negative where the query rules it out."""
    devices: Mapping[str, float] = field(default_factory=dict)
    qualifiers: Mapping[str, float] = field(default_factory=dict)
    side: str = ""
    lexicon: AxisLexicon | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.roots or self.parts)

    def agreement(self, code: str) -> float:
        """How well a seven-character code agrees with the reading: 0 when it agrees with nothing."""
        return sum(points for _axis, _value, points in self.agreement_parts(code))

    def agreement_parts(self, code: str) -> list[tuple[str, str, float]]:
        """(axis, the code's value on it, points) for each axis that adds to or takes from the
        code's agreement (what :meth:`agreement` sums, and an explanation shows)."""
        if len(code) != 7:
            return []
        lex = self.lexicon
        names = lex if lex is not None else _NO_NAMES
        part_key = code[0] + code[1] + code[3]
        part = max(self.parts.get(part_key, 0.0), SYSTEM_SHARE * self.systems.get(code[:2], 0.0))
        found = [
            ("root operation", names.root_names.get(code[0] + code[2], ""), ROOT_WEIGHT * self._root(code[:3])),
            ("body part", names.part_names.get(part_key, ""), BODY_PART_WEIGHT * part),
            (
                "approach",
                names.approach_names.get(code[0] + code[4], ""),
                APPROACH_WEIGHT * self.approaches.get(code[0] + code[4], 0.0),
            ),
        ]
        if lex is not None:
            device = lex.devices.get(code[:3] + code[5], "")
            found.append(("device", device, DEVICE_WEIGHT * self.devices.get(device, 0.0)))
            # A device named stays in the body: only a root operation whose table holds it can be
            # coded ("hernia repair with mesh" is a Supplement: Repair holds no device).
            held = [(v, name) for name, v in self.devices.items() if name in lex.table_devices.get(code[:3], ())]
            if held:
                value, name = max(held)
                found.append(("table holds the device", name, DEVICE_TABLE_WEIGHT * value))
            qualifier = lex.qualifiers.get(code[:3] + code[6], "")
            points = QUALIFIER_WEIGHT * self.qualifiers.get(qualifier, 0.0)
            if qualifier == DIAGNOSTIC and DIAGNOSTIC not in self.qualifiers:
                points -= QUALIFIER_WEIGHT  # done for diagnosis, which the words do not say
            found.append(("qualifier", qualifier, points))
            side = lex.part_side.get(part_key, "")
            if self.side and side:
                found.append(("side", side, SIDE_WEIGHT * (1.0 if side == self.side else -1.0)))
        return [(axis, value, points) for axis, value, points in found if points]

    def _root(self, table: str) -> float:
        """The root operation evidence for a table ("04C"): the index's for that table, plus what
        the words say for the root operation in general, relative to the best table's."""
        raw = self.roots.get(table, 0.0) + GENERIC_ROOT * self.roots.get(table[0] + " " + table[2], 0.0)
        return raw / self.root_scale if self.root_scale else 0.0

    @cached_property
    def root_scale(self) -> float:
        """The best table's root operation evidence (computed once: every code's agreement asks)."""
        best = 0.0
        for key, value in self.roots.items():
            if key[1] == " ":
                best = max(best, GENERIC_ROOT * value)
            else:
                best = max(best, value + GENERIC_ROOT * self.roots.get(key[0] + " " + key[2], 0.0))
        return best

    def families(self, limit: int = 12) -> list[str]:
        """The four-character families (section, system, root operation, body part) that agree
        best with both the root operation and the body part, best first."""
        lex = self.lexicon
        if lex is None or not (self.roots and self.parts):
            return []
        scored: dict[str, float] = {}
        for part, part_weight in self.parts.items():
            for root, _root_weight in self.roots.items():
                if root[0] != part[0] or root[1] not in (" ", part[1]):
                    continue
                family = part[0] + part[1] + root[2] + part[2]
                weight = part_weight * self._root(part[0] + part[1] + root[2])
                if family in lex.codes and weight > scored.get(family, 0.0):
                    scored[family] = weight
        return sorted(scored, key=lambda f: (-scored[f], f))[:limit]

    def _best_parts(self) -> list[str]:
        """The best body parts, strongest first, the side the words name before the other."""
        lex = self.lexicon
        sides = lex.part_side if lex is not None else {}
        return sorted(
            _best(self.parts), key=lambda k: (-self.parts[k], bool(self.side) and sides.get(k) != self.side, k)
        )

    def named_axes(self) -> list[tuple[str, list[str]]]:
        """The reading as (axis label, values) pairs, in :data:`AXIS_LABELS` order, for a person to
        read (the web page's and the terminal's "Read as" line); the body system only when no body
        part is named."""
        reading: dict[str, Any] = self.to_dict()
        if reading.get("body_part"):
            reading.pop("body_system", None)
        pairs = []
        for key, label in AXIS_LABELS:
            values = reading.get(key) or []
            pairs.append((label, [values] if isinstance(values, str) else [str(v) for v in values]))
        return [(label, values) for label, values in pairs if values]

    def to_dict(self) -> dict[str, object]:
        """The reading as names, strongest first (what ``--json`` shows as ``interpretation``)."""
        lex = self.lexicon
        if lex is None:
            return {}
        roots = _names([lex.root_names.get(k[0] + k[2], "") for k in _best(self.roots)])
        systems = _names([lex.system_names.get(k[:2], "") for k in _best(self.roots) if k[1] != " "])
        systems += [n for n in _names([lex.system_names.get(k[:2], "") for k in _best(self.parts)]) if n not in systems]
        return {
            "root_operation": roots,
            "body_system": systems[:_LIST_SIZE],
            "body_part": _names([lex.part_names.get(k, "") for k in self._best_parts()]),
            "approach": _names([lex.approach_names.get(k, "") for k in _best(self.approaches)]),
            "approach_ruled_out": _names(
                sorted(lex.approach_names.get(k, "") for k, v in self.approaches.items() if v < 0)
            ),
            "device": [n for n in _best(self.devices)][:_LIST_SIZE],
            "device_ruled_out": sorted(n for n, v in self.devices.items() if v < 0)[:_LIST_SIZE],
            "qualifier": [n for n in _best(self.qualifiers)],
            "laterality": self.side,
        }


def _best(values: Mapping[str, float]) -> list[str]:
    """The values within reach of the strongest (at least half its evidence), strongest first."""
    if not values:
        return []
    top = max(values.values())
    return [k for k in sorted(values, key=lambda k: (-values[k], k)) if top > 0 and values[k] >= 0.5 * top]


def _names(names: list[str]) -> list[str]:
    """The names in the order given (strongest first), once each, at most :data:`_LIST_SIZE`."""
    return list(dict.fromkeys(n for n in names if n))[:_LIST_SIZE]
