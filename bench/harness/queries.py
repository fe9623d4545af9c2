"""The query mix: the ``query`` column of bench/queries/*.tsv, with each query's kind and answers."""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

QUERY_DIR = Path(__file__).resolve().parent.parent / "queries"
QUERY_FILES = (QUERY_DIR / "pages.tsv", QUERY_DIR / "icd10pcs.tsv")

MIN_QUERIES = 200
MAX_WORDS = 6
EXTRA_WORDS = ("procedure", "surgery", "pain", "risks", "recovery", "adult", "cost", "treatment")
"""Appended, in turn, to make deterministic variants when more queries are asked for than the files hold."""

_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class BenchQuery:
    """One query of the mix; ``acceptable`` (codes, ``0DTJ*`` prefixes) is empty for variants."""

    text: str
    kind: str
    acceptable: tuple[str, ...] = ()

    def accepts(self, code: str) -> bool:
        code = code.upper()
        return any(code.startswith(a[:-1].upper()) if a.endswith("*") else code == a.upper() for a in self.acceptable)


def read_query_files(paths: Sequence[Path] = QUERY_FILES) -> list[BenchQuery]:
    """The ``query`` column of the TSV files (with kind and answers), 1 to 6 words, each text once."""
    queries: list[BenchQuery] = []
    seen: set[str] = set()
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                text = (row.get("query") or "").strip()
                if not text or text in seen or not 1 <= len(text.split()) <= MAX_WORDS:
                    continue
                seen.add(text)
                acceptable = tuple(a.strip() for a in (row.get("acceptable") or "").split(",") if a.strip())
                queries.append(BenchQuery(text, (row.get("kind") or "").strip() or "other", acceptable))
    return queries


def query_mix(count: int | None, base: Sequence[BenchQuery]) -> list[BenchQuery]:
    """A fixed mix of ``count`` queries (default: every query of the files, at least MIN_QUERIES).

    Fewer than the files hold: evenly spaced over them, so every kind stays in. More: the files'
    queries, then variants "QUERY WORD" with WORD from EXTRA_WORDS in turn (never random).
    """
    wanted = count if count is not None else max(MIN_QUERIES, len(base))
    if wanted <= len(base):
        return [base[i * len(base) // wanted] for i in range(wanted)]
    mix = list(base)
    round_ = 0
    while len(mix) < wanted:
        for query in base:
            if len(mix) >= wanted:
                break
            words = query.text.split()
            if len(words) < MAX_WORDS:
                extra = EXTRA_WORDS[(len(mix) + round_) % len(EXTRA_WORDS)]
                mix.append(BenchQuery(f"{query.text} {extra}", f"{query.kind}+word"))
        round_ += 1
    return mix


def query_words(text: str, drop: str = '"') -> list[str]:
    """The words of a query (split on white space) with ``drop`` characters blanked out; words
    with no letter or digit are left out. The engines' tokenizers split on those characters anyway."""
    table = str.maketrans({char: " " for char in drop})
    words = []
    for word in text.split():
        cleaned = " ".join(word.translate(table).split())
        if _WORD.search(cleaned):
            words.append(cleaned)
    return words
