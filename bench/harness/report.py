"""Report tables: one row per figure, one column per engine, and procsearch's ratio to each other engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

BASELINE = "procsearch"


@dataclass(frozen=True)
class Row:
    """One figure of the table: its label, a value per engine (None: not measured) and its format."""

    label: str
    values: dict[str, float | None]
    fmt: str = "{:.2f}"
    ratios: bool = True


def ratio_of(row: Row, other: str) -> float | None:
    """procsearch's value over another engine's, or None where it means nothing or is missing."""
    mine, theirs = row.values.get(BASELINE), row.values.get(other)
    if not row.ratios or mine is None or not theirs:
        return None
    return mine / theirs


def figure_table(rows: Sequence[Row], labels: Mapping[str, str]) -> list[str]:
    """The Markdown table: a column per engine of ``labels`` (procsearch first), then procsearch's ratios."""
    others = [engine for engine in labels if engine != BASELINE]

    def cell(row: Row, engine: str) -> str:
        value = row.values.get(engine)
        return "n/a" if value is None else row.fmt.format(value)

    def ratio(row: Row, other: str) -> str:
        value = ratio_of(row, other)
        return "-" if value is None else f"{value:.1f}x"

    header = ["figure", *labels.values(), *(f"{labels[BASELINE]} / {labels[o]}" for o in others)]
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for row in rows:
        cells = [row.label, *(cell(row, e) for e in labels), *(ratio(row, o) for o in others)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
