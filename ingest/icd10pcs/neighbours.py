"""Similar codes: codes of the same table that differ in exactly one axis."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable

from .axes import _APPROACH, _BODY_PART, _DEVICE, _QUALIFIER

MAX_SIMILAR = 6
# Similar codes differ in one of these axes; they are taken in turns, in this order.
_SIMILAR_AXES = (_APPROACH, _DEVICE, _QUALIFIER, _BODY_PART)


class _Neighbours:
    """Codes of the same table that differ in exactly one axis, found through one-axis keys."""

    def __init__(self, codes: Iterable[str]) -> None:
        groups: dict[tuple[int, str], list[str]] = defaultdict(list)
        for code in sorted(codes):
            for axis in _SIMILAR_AXES:
                groups[(axis, code[:axis] + "*" + code[axis + 1 :])].append(code)
        self._groups = groups

    def similar(self, code: str, limit: int = MAX_SIMILAR) -> list[str]:
        """Up to ``limit`` codes, taking one axis after another (approach, device, qualifier,
        body part); within an axis the codes nearest in code order come first."""
        candidates = [self._nearest(code, axis, limit) for axis in _SIMILAR_AXES]
        chosen: list[str] = []
        for depth in range(limit):
            for ordered in candidates:
                if depth < len(ordered):
                    chosen.append(ordered[depth])
                    if len(chosen) == limit:
                        return chosen
        return chosen

    def _nearest(self, code: str, axis: int, limit: int) -> list[str]:
        """Up to ``limit`` codes of the group, alternating after and before ``code``."""
        group = self._groups.get((axis, code[:axis] + "*" + code[axis + 1 :]), [])
        at = bisect_left(group, code)
        found = at < len(group) and group[at] == code
        after, before = at + 1 if found else at, at - 1
        nearest: list[str] = []
        while len(nearest) < limit and (after < len(group) or before >= 0):
            if after < len(group):
                nearest.append(group[after])
                after += 1
            if before >= 0 and len(nearest) < limit:
                nearest.append(group[before])
                before -= 1
        return nearest
