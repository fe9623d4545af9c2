"""The medical vocabulary used to expand queries: abbreviations, lay <-> clinical synonyms, word parts.

The vocabulary ships as ``vocabulary.tsv`` next to this module (columns ``term``,
``expansions`` separated by ``|``, ``kind``). Users add entries in the same format from their
own files (``--vocabulary FILE`` or ``$PROCSEARCH_VOCABULARY``, several separated by ``:``).

Kinds: ``abbreviation`` expands the term to each of its meanings; ``synonym`` works both ways;
``root`` and ``suffix`` are word parts combined to read a clinical word in plain words
("cholecyst-" + "-ectomy" -> "gallbladder removal").
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from ..words import VOCABULARY_WORD
from .errors import SearchError
from .results import Expansion

ABBREVIATION = "abbreviation"
KINDS = (ABBREVIATION, "synonym", "root", "suffix")
MAX_PHRASE_WORDS = 5
MIN_WORD_PART_STEM = 3


class VocabularyError(SearchError):
    """A vocabulary file cannot be read; the message names the file and line."""


def words_of(text: str) -> list[str]:
    """Lower-case words as the vocabulary matches them ("D&C" -> ["d&c"], "A1c" -> ["a1c"])."""
    return VOCABULARY_WORD.findall(text.lower().replace("\u2019", "'"))


@dataclass
class Vocabulary:
    """Phrase -> expansions, and the word parts, ready for matching query words."""

    phrases: dict[tuple[str, ...], list[tuple[str, str]]] = field(default_factory=dict)
    roots: list[tuple[str, str]] = field(default_factory=list)
    suffixes: list[tuple[str, str]] = field(default_factory=list)
    _known: set[str] | None = field(default=None, repr=False)

    def add(self, term: str, expansions: Sequence[str], kind: str) -> None:
        self._known = None
        if kind == "root":
            stem = term.strip().rstrip("-").lower()
            self.roots.extend((stem, expansion) for expansion in expansions)
            return
        if kind == "suffix":
            stem = term.strip().lstrip("-").lower()
            self.suffixes.extend((stem, expansion) for expansion in expansions)
            return
        key = tuple(words_of(term))
        if not key:
            return
        for expansion in expansions:
            back = tuple(words_of(expansion))
            self._link(key, expansion, back, kind)
            if kind == "synonym" and back and back != key:
                self._link(back, term, key, kind)

    def _link(self, key: tuple[str, ...], expansion: str, expansion_words: tuple[str, ...], kind: str) -> None:
        if expansion_words == key:
            return
        entries = self.phrases.setdefault(key, [])
        lowered = expansion.lower()
        if all(lowered != existing.lower() for existing, _ in entries):
            entries.append((expansion, kind))

    def known_words(self) -> set[str]:
        """Every single word the vocabulary knows: typo correction leaves these alone."""
        if self._known is None:
            self._known = {word for key in self.phrases for word in key}
        return self._known

    def __len__(self) -> int:
        return len(self.phrases) + len(self.roots) + len(self.suffixes)

    def expand(self, text: str) -> list[Expansion]:
        """The expansions for the words of ``text``: longest phrases first, then word parts."""
        words = words_of(text)
        found: list[Expansion] = []
        position = 0
        while position < len(words):
            for size in range(min(MAX_PHRASE_WORDS, len(words) - position), 0, -1):
                key = tuple(words[position : position + size])
                entries = self.phrases.get(key)
                if entries:
                    kinds = {kind for _, kind in entries}
                    found.append(
                        Expansion(
                            " ".join(key),
                            tuple(e for e, _ in entries),
                            ABBREVIATION if ABBREVIATION in kinds else "synonym",
                        )
                    )
                    position += size
                    break
            else:
                parts = self.word_parts(words[position])
                if parts:
                    found.append(Expansion(words[position], parts, "word parts"))
                position += 1
        return found

    def word_parts(self, word: str) -> tuple[str, ...]:
        """Read a clinical word by its parts: "appendectomy" -> ("appendix removal", ...)."""
        if len(word) < 7 or not word.isalpha():
            return ()
        readings: list[str] = []
        for suffix, suffix_meaning in self.suffixes:
            if not word.endswith(suffix) or len(word) - len(suffix) < MIN_WORD_PART_STEM:
                continue
            stem = word[: -len(suffix)]
            for root, root_meaning in self.roots:
                if stem.startswith(root) and len(stem) - len(root) <= 3:
                    reading = f"{root_meaning} {suffix_meaning}"
                    if reading not in readings:
                        readings.append(reading)
        return tuple(readings[:4])


def read_entries(path: Path) -> Iterable[tuple[str, list[str], str]]:
    """Rows of a vocabulary file: (term, expansions, kind). Comment lines start with #."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise VocabularyError(f"{path}: cannot read vocabulary file ({exc.strerror})") from exc
    with handle:
        lines = (line for line in handle if line.strip() and not line.lstrip().startswith("#"))
        reader = csv.reader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None or [h.strip().lower() for h in header[:3]] != ["term", "expansions", "kind"]:
            raise VocabularyError(f"{path}: the first line must be the header: term<TAB>expansions<TAB>kind")
        for number, row in enumerate(reader, 2):
            if len(row) < 3 or not row[0].strip() or not row[1].strip():
                raise VocabularyError(f"{path}: row {number} needs three tab-separated columns: term, expansions, kind")
            kind = row[2].strip().lower()
            if kind not in KINDS:
                raise VocabularyError(f"{path}: row {number}: kind {kind!r} is not one of {', '.join(KINDS)}")
            yield row[0].strip(), [e.strip() for e in row[1].split("|") if e.strip()], kind


def bundled_vocabulary_file() -> Path:
    return Path(str(files(__package__) / "vocabulary.tsv"))


def user_vocabulary_files() -> list[Path]:
    value = os.environ.get("PROCSEARCH_VOCABULARY", "")
    return [Path(part).expanduser() for part in value.split(os.pathsep) if part.strip()]


@lru_cache(maxsize=8)
def _load(paths: tuple[Path, ...]) -> Vocabulary:
    vocabulary = Vocabulary()
    for path in paths:
        for term, expansions, kind in read_entries(path):
            vocabulary.add(term, expansions, kind)
    return vocabulary


def load_vocabulary(extra: Sequence[Path] = (), *, bundled: bool = True) -> Vocabulary:
    """The bundled vocabulary plus the user's files (``extra`` and $PROCSEARCH_VOCABULARY); cached."""
    paths = ([bundled_vocabulary_file()] if bundled else []) + [*user_vocabulary_files(), *extra]
    return _load(tuple(Path(p).resolve() for p in paths))
