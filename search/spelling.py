"""Typo correction from the index's own vocabulary of unstemmed words (the ``spell`` field)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from whoosh.reading import IndexReader

from ..index.schema import SPELL as SPELL_FIELD

MIN_WORD = 5
"""Shorter words are left alone: too many real words are one edit apart."""
MAX_WORD = 40
"""Longer "words" are not words (the index drops them too), and correcting them would be costly."""

_WORD = re.compile(r"(?<![\w:&'-])[A-Za-z]+(?![\w:&'*-])")
_FIELD_TERM = re.compile(r"\b\w+:(\"[^\"]*\"|\S+)")


@dataclass(frozen=True)
class Correction:
    word: str
    suggestion: str

    def to_dict(self) -> dict[str, str]:
        return {"word": self.word, "suggestion": self.suggestion}


def correct_text(text: str, reader: IndexReader, known: set[str] | None = None) -> tuple[str, tuple[Correction, ...]]:
    """Replace words the index has never seen with the closest word it has.

    Codes, numbers, words shorter than :data:`MIN_WORD`, words in ``known`` (the query
    vocabulary) and field names before a colon are never changed.
    """
    if SPELL_FIELD not in reader.schema:
        return text, ()
    corrections: list[Correction] = []
    cache: dict[str, str | None] = {}

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        if not MIN_WORD <= len(lower) <= MAX_WORD or (known and lower in known):
            return word
        if lower not in cache:
            cache[lower] = suggest(lower, reader)
        suggestion = cache[lower]
        if suggestion is None:
            return word
        corrections.append(Correction(word, suggestion))
        return suggestion

    # Field-scoped terms ("risks:infection") keep their field name; their word is still checked.
    pieces: list[str] = []
    position = 0
    for scoped in _FIELD_TERM.finditer(text):
        pieces.append(_WORD.sub(fix, text[position : scoped.start()]))
        name, _, value = scoped.group(0).partition(":")
        pieces.append(name + ":" + _WORD.sub(fix, value))
        position = scoped.end()
    pieces.append(_WORD.sub(fix, text[position:]))
    return "".join(pieces), tuple(corrections)


def suggest(word: str, reader: IndexReader) -> str | None:
    """The most frequent indexed word within one edit (two for long words), or None if ``word`` is known."""
    field = SPELL_FIELD
    if reader.doc_frequency(field, word):
        return None
    maxdist = 2 if len(word) >= 8 else 1
    # First letters are rarely wrong, and requiring them keeps the search small; sound-alike
    # first letters ("sistoscopy" for "cystoscopy") get a second, unrestricted try.
    return _closest(word, reader, maxdist, prefix=1) or _closest(word, reader, maxdist, prefix=0)


def _closest(word: str, reader: IndexReader, maxdist: int, prefix: int) -> str | None:
    field = SPELL_FIELD
    best: tuple[int, int, str] | None = None
    for candidate in reader.terms_within(field, word, maxdist, prefix=prefix):
        candidate = candidate.decode("utf-8") if isinstance(candidate, bytes) else candidate
        if candidate == word:
            continue
        distance = edit_distance(word, candidate)
        if distance > maxdist:
            continue
        key = (distance, -reader.doc_frequency(field, candidate), candidate)
        if best is None or key < best:
            best = key
    return best[2] if best else None


def edit_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count as one edit)."""
    previous_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            cost = char_a != char_b
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        previous_previous, previous = previous, current
    return previous[-1]
