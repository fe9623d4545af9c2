"""Typo correction from the index's own vocabulary of unstemmed words (the ``spell`` field)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from whoosh.reading import IndexReader

from ..fields import POPULARITY_FIELDS
from ..index.schema import SPELL as SPELL_FIELD
from ..words import CORRECTABLE_WORD

"""Where a candidate's use is counted, to choose among equally close words."""
MIN_WORD = 5
"""Shorter words are left alone: too many real words are one edit apart."""
MAX_WORD = 40
"""Longer "words" are not words (the index drops them too), and correcting them would be costly."""

_FIELD_TERM = re.compile(r"\b\w+:(\"[^\"]*\"|\S+)")


@dataclass(frozen=True)
class Correction:
    word: str
    suggestion: str

    def to_dict(self) -> dict[str, str]:
        return {"word": self.word, "suggestion": self.suggestion}


class Speller:
    """Finds the closest indexed word to a misspelling, from the index's own vocabulary.

    The vocabulary (every distinct unstemmed word of the index, a few thousand to tens of
    thousands) is read once, on the first word that needs correcting, into a bigram index:
    one edit changes at most three of a word's letter pairs, so only words sharing enough
    pairs with the misspelling are compared letter by letter. That takes a few milliseconds
    where walking Whoosh's term list with an edit-distance automaton took a third of a second.
    """

    def __init__(self, reader: IndexReader) -> None:
        self.reader = reader
        self._words: list[str] | None = None
        self._bigrams: dict[str, list[int]] = {}

    def known(self, word: str) -> bool:
        return bool(self.reader.doc_frequency(SPELL_FIELD, word))

    def suggest(self, word: str) -> str | None:
        """The most frequent indexed word within one edit (two for long words), preferring words
        with the same first letter; None if ``word`` is known or nothing is close enough."""
        if SPELL_FIELD not in self.reader.schema or self.known(word):
            return None
        maxdist = 2 if len(word) >= 8 else 1
        best: tuple[bool, int, int, str] | None = None
        for candidate in self._candidates(word, maxdist):
            if abs(len(candidate) - len(word)) > maxdist or candidate == word:
                continue
            distance = edit_distance(word, candidate)
            if distance > maxdist:
                continue
            # First letters are rarely wrong: a word sharing it wins over a closer one that does not.
            key = (candidate[0] != word[0], distance, -self._popularity(candidate), candidate)
            if best is None or key < best:
                best = key
        return best[3] if best else None

    def _popularity(self, word: str) -> int:
        """How many documents use the word in their title, names or summary (ties go to the common word)."""
        schema: Any = self.reader.schema
        total = 0
        for fieldname in POPULARITY_FIELDS:
            if fieldname in schema:
                for token in schema[fieldname].analyzer(word):
                    total += self.reader.doc_frequency(fieldname, token.text)
        return total

    def _candidates(self, word: str, maxdist: int) -> list[str]:
        words = self._load()
        pairs = _bigrams(word)
        shared: Counter[int] = Counter()
        for pair in pairs:
            shared.update(self._bigrams.get(pair, ()))
        needed = len(pairs) - 3 * maxdist
        return [words[index] for index, count in shared.items() if count >= needed]

    def _load(self) -> list[str]:
        if self._words is None:
            words = [w.decode("utf-8") if isinstance(w, bytes) else w for w in self.reader.lexicon(SPELL_FIELD)]
            for index, known in enumerate(words):
                for pair in _bigrams(known):
                    self._bigrams.setdefault(pair, []).append(index)
            self._words = words
        return self._words


def _bigrams(word: str) -> set[str]:
    """The word's letter pairs, its first and last letters paired with a boundary mark."""
    marked = f"^{word}$"
    return {marked[i : i + 2] for i in range(len(marked) - 1)}


def correct_text(text: str, speller: Speller, known: set[str] | None = None) -> tuple[str, tuple[Correction, ...]]:
    """Replace words the index has never seen with the closest word it has.

    Codes, numbers, words shorter than :data:`MIN_WORD`, words in ``known`` (the query
    vocabulary) and field names before a colon are never changed.
    """
    if SPELL_FIELD not in speller.reader.schema:
        return text, ()
    corrections: list[Correction] = []
    cache: dict[str, str | None] = {}

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        lower = word.lower()
        if not MIN_WORD <= len(lower) <= MAX_WORD or (known and lower in known):
            return word
        if lower not in cache:
            cache[lower] = speller.suggest(lower)
        suggestion = cache[lower]
        if suggestion is None:
            return word
        corrections.append(Correction(word, suggestion))
        return suggestion

    # Field-scoped terms ("risks:infection") keep their field name; their word is still checked.
    pieces: list[str] = []
    position = 0
    for scoped in _FIELD_TERM.finditer(text):
        pieces.append(CORRECTABLE_WORD.sub(fix, text[position : scoped.start()]))
        name, _, value = scoped.group(0).partition(":")
        pieces.append(name + ":" + CORRECTABLE_WORD.sub(fix, value))
        position = scoped.end()
    pieces.append(CORRECTABLE_WORD.sub(fix, text[position:]))
    return "".join(pieces), tuple(corrections)


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
