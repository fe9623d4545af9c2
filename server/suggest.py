"""Completions while typing: codes by prefix; titles, common names and abbreviations by word prefixes.

A :class:`CompletionTable` is built once per index generation from every document's code,
title and common names (and the vocabulary's abbreviations), and answers from memory:

- phrases are numbered best first (pages before generated ICD-10-PCS records, titles before
  abbreviations before common names), so the smallest numbers are the best completions;
- each distinct word keeps the ascending numbers of the phrases holding it, and the words are
  sorted, so a typed prefix is a range of words found by bisection and its phrases come out
  best first by merging those lists;
- codes are sorted, so a code prefix is a range too;
- a typed word that begins no indexed word is replaced by the indexed prefixes one or two edits
  away ("lapro" -> "lapar"), so a misspelled prefix still suggests something.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import os
import re
import unicodedata
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from ..search.spelling import edit_distance

TITLE, ABBREVIATION, NAME, CODE = "title", "abbreviation", "name", "code"
MAX_SUGGESTIONS = 20
MAX_QUERY = 100
"""Longer input is not typing a prefix: it is cut to this many characters."""
MAX_SCANNED = 5000
"""Phrases checked at most for one request (the rest of a very common prefix is not better)."""
MAX_ALTERNATIVES = 4
"""Indexed prefixes tried in place of one misspelled typed word."""
FORMAT_VERSION = 1

_WORD = re.compile(r"[a-z0-9]+")
_CODE_LIKE = re.compile(r"^(?=[A-Za-z]*\d)[A-Za-z0-9]{1,7}\*?$")
"""Up to seven letters and digits, at least one a digit: the beginning of a code."""


def words_of(text: str) -> list[str]:
    """Lower-case ASCII words ("Cholécystectomy (Lap)" -> ["cholecystectomy", "lap"])."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _WORD.findall(folded.lower())


@dataclass(frozen=True)
class Suggestion:
    """One completion: the text to show, what it is, and the code it leads to."""

    text: str
    kind: str
    code: str
    code_system: str
    title: str

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "kind": self.kind,
            "code": self.code,
            "code_system": self.code_system,
            "title": self.title,
        }


@dataclass(frozen=True)
class Suggestions:
    """The completions for what was typed; ``corrected`` when misspelled words were replaced."""

    query: str
    suggestions: tuple[Suggestion, ...]
    corrected: bool = False

    def to_dict(self) -> dict[str, object]:
        return {
            "query": self.query,
            "corrected": self.corrected,
            "suggestions": [s.to_dict() for s in self.suggestions],
        }


Heading = tuple[str, str, str, Sequence[str], str]
"""A document as the table reads it: code, code system, title, common names, source."""


class CompletionTable:
    """Sorted completions with weights for one index generation (see the module docstring)."""

    def __init__(self, docs: list[tuple[str, str, str, bool]], phrases: list[tuple[str, str, int, str]]) -> None:
        # docs: (code, code_system, title, generated), pages first; phrases: (text, kind, doc, words) best first.
        self.docs = docs
        self.texts = [text for text, _, _, _ in phrases]
        self.kinds = [kind for _, kind, _, _ in phrases]
        self.doc_of = array("I", (doc for _, _, doc, _ in phrases))
        self.phrase_words = [words.split() for _, _, _, words in phrases]
        postings: dict[str, array[int]] = {}
        for number, words in enumerate(self.phrase_words):
            for word in dict.fromkeys(words):
                postings.setdefault(word, array("I")).append(number)
        self.words = sorted(postings)
        self.postings = [postings[word] for word in self.words]
        # The same for each phrase's first word only: where the phrases that begin as typed are.
        first: dict[str, array[int]] = {}
        for number, words in enumerate(self.phrase_words):
            if words:
                first.setdefault(words[0], array("I")).append(number)
        self.first_postings = [first.get(word, array("I")) for word in self.words]
        # counts[i] = postings in words[:i], so a prefix's phrase count is one subtraction.
        self.counts = array("I", [0])
        for posting in self.postings:
            self.counts.append(self.counts[-1] + len(posting))
        self.codes = sorted((code.upper(), number) for number, (code, *_) in enumerate(docs))
        self._code_keys = [code for code, _ in self.codes]
        # Every word's prefixes of 3 to 16 letters, by length and first letter, for correcting.
        prefixes: dict[tuple[int, str], set[str]] = {}
        for word in self.words:
            for size in range(3, min(len(word), 16) + 1):
                prefixes.setdefault((size, word[0]), set()).add(word[:size])
        self._prefixes = {key: sorted(values) for key, values in prefixes.items()}

    # --- building ------------------------------------------------------------------------------

    @classmethod
    def build(cls, headings: Iterable[Heading], abbreviations: Iterable[tuple[str, str]] = ()) -> CompletionTable:
        """The table for documents' ``headings`` and ``abbreviations`` (term, meaning) pairs: a
        meaning found word for word in a title or name leads to that document."""
        rows = sorted(headings, key=lambda row: (row[4].startswith("icd10pcs:"), row[0]))
        docs = [(code, system, title, source.startswith("icd10pcs:")) for code, system, title, _, source in rows]
        phrases: list[tuple[int, int, int, str, str, str]] = []  # sort key parts, then text, kind, words
        for number, (_, _, title, names, _) in enumerate(rows):
            generated = int(docs[number][3])
            if title:
                phrases.append((generated, 0, number, title, TITLE, " ".join(words_of(title))))
            for name in dict.fromkeys(names):
                if name != title:
                    phrases.append((generated, 2, number, name, NAME, " ".join(words_of(name))))
        phrases.sort(key=lambda p: (p[0], p[1], p[2]))
        table = cls(docs, [(text, kind, doc, words) for _, _, doc, text, kind, words in phrases])
        extra = table._abbreviation_phrases(abbreviations)
        if not extra:
            return table
        generated_of = {doc: g for g, _, doc, _, _, _ in phrases}
        phrases.extend((generated_of[doc], 1, doc, text, ABBREVIATION, words) for doc, text, words in extra)
        phrases.sort(key=lambda p: (p[0], p[1], p[2]))
        return cls(docs, [(text, kind, doc, words) for _, _, doc, text, kind, words in phrases])

    def _abbreviation_phrases(self, abbreviations: Iterable[tuple[str, str]]) -> list[tuple[int, str, str]]:
        """(doc, shown text, words) for each abbreviation whose meaning a title or name holds."""
        found = []
        for term, meaning in abbreviations:
            wanted = words_of(meaning)
            if not wanted:
                continue
            number = self._first_phrase_with(wanted)
            if number is not None:
                found.append((self.doc_of[number], f"{meaning} ({term.upper()})", " ".join(words_of(term) + wanted)))
        return found

    def _first_phrase_with(self, wanted: list[str]) -> int | None:
        """The best phrase holding the words ``wanted`` next to each other, in order."""
        lists = []
        for word in set(wanted):
            i = bisect_left(self.words, word)
            if i == len(self.words) or self.words[i] != word:
                return None
            lists.append(self.postings[i])
        lists.sort(key=len)
        others = [set(posting) for posting in lists[1:]]
        for number in lists[0]:
            if all(number in other for other in others) and _holds_run(self.phrase_words[number], wanted):
                return number
        return None

    # --- answering -----------------------------------------------------------------------------

    def suggest(self, query: str, *, limit: int = 10) -> Suggestions:
        """The best ``limit`` completions of ``query`` (a code prefix, or word prefixes)."""
        limit = max(1, min(limit, MAX_SUGGESTIONS))
        text = query[:MAX_QUERY].strip()
        if not text:
            return Suggestions(query, ())
        found: list[Suggestion] = []
        if _CODE_LIKE.match(text):
            found = self._codes(text.rstrip("*"), limit)
        corrected = False
        if len(found) < limit:
            tokens = words_of(text)
            seen = {s.code for s in found}
            phrases, corrected = self._phrases(tokens, limit - len(found))
            for number in phrases:
                doc = self.doc_of[number]
                code, system, title, _ = self.docs[doc]
                if code in seen:
                    continue
                seen.add(code)
                found.append(Suggestion(self.texts[number], self.kinds[number], code, system, title))
                if len(found) >= limit:
                    break
        return Suggestions(query, tuple(found), corrected and bool(found))

    def _codes(self, prefix: str, limit: int) -> list[Suggestion]:
        key = prefix.upper()
        start = bisect_left(self._code_keys, key)
        found: list[Suggestion] = []
        for code, number in self.codes[start : start + limit]:
            if not code.startswith(key):
                break
            code, system, title, _ = self.docs[number]
            found.append(Suggestion(code, CODE, code, system, title))
        return found

    def _phrases(self, tokens: list[str], wanted: int) -> tuple[list[int], bool]:
        """Phrase numbers where every token begins a word, closest to what was typed first, at
        least ``wanted`` documents' phrases beginning as typed when there are; and whether some
        token had to be corrected."""
        if not tokens:
            return [], False
        alternatives: list[tuple[str, ...]] = []
        corrected = False
        for token in tokens:
            if self._count(token):
                alternatives.append((token,))
                continue
            close = self._close_prefixes(token)
            if not close:
                return [], False
            alternatives.append(tuple(close))
            corrected = True

        def closeness(number: int) -> tuple[bool, int, int, int]:
            # Pages' phrases before generated ones; then phrases whose words begin as typed, then
            # those whose first word does; then shorter ones (less left to type); the table's order.
            words = self.phrase_words[number]
            if len(words) >= len(tokens) and all(words[i].startswith(alternatives[i]) for i in range(len(tokens))):
                start = 0
            else:
                start = 1 if words[0].startswith(alternatives[0]) else 2
            size = 0 if self.kinds[number] == ABBREVIATION else len(words)  # an abbreviation is typed whole
            return (self.docs[self.doc_of[number]][3], start, size, number)

        def begins_as_typed(number: int) -> bool:
            words = self.phrase_words[number]
            return len(words) >= len(tokens) and all(words[i].startswith(alternatives[i]) for i in range(len(tokens)))

        def holds_all(number: int) -> bool:
            words = self.phrase_words[number]
            return all(any(w.startswith(prefixes) for w in words) for prefixes in alternatives)

        # First the phrases that begin as typed (from the phrases listed by their first word),
        # best first, until ``wanted`` documents have one.
        candidates: list[int] = []
        documents: set[int] = set()
        for number in islice(self._numbers(alternatives[0], self.first_postings), MAX_SCANNED):
            if begins_as_typed(number):
                candidates.append(number)
                documents.add(self.doc_of[number])
                if len(documents) >= wanted:
                    break
        # Then phrases holding the words elsewhere, walking the rarest token's phrases: every
        # page's (they rank first), generated records' only while documents are missing.
        order = sorted(range(len(tokens)), key=lambda i: sum(self._count(p) for p in alternatives[i]))
        taken = set(candidates)
        for number in islice(self._numbers(alternatives[order[0]]), MAX_SCANNED):
            if len(documents) >= wanted and self.docs[self.doc_of[number]][3]:
                break
            if number not in taken and holds_all(number):
                candidates.append(number)
                documents.add(self.doc_of[number])
        candidates.sort(key=closeness)
        return candidates, corrected

    def _range(self, prefix: str) -> tuple[int, int]:
        return bisect_left(self.words, prefix), bisect_right(self.words, prefix + "\uffff")

    def _count(self, prefix: str) -> int:
        lo, hi = self._range(prefix)
        return self.counts[hi] - self.counts[lo]

    def _numbers(self, prefixes: Sequence[str], postings: Sequence[array[int]] | None = None) -> Iterator[int]:
        """The phrases holding a word that starts with any of ``prefixes`` (in ``postings``: by
        default anywhere), best first, once each."""
        lists = [(postings or self.postings)[i] for prefix in prefixes for i in range(*self._range(prefix))]
        last = -1
        for number in heapq.merge(*lists):
            if number != last:
                last = number
                yield number

    def _close_prefixes(self, token: str) -> list[str]:
        """Indexed word prefixes one edit (two for longer words) from ``token``, commonest first."""
        if len(token) < 3 or not token.isalpha():
            return []
        budget = 1 if len(token) < 6 else 2
        letters = set(token)
        scored = []
        for size in range(len(token) - budget, len(token) + budget + 1):
            for prefix in self._prefixes.get((size, token[0]), ()):
                if len(letters.symmetric_difference(prefix)) > 2 * budget:
                    continue  # one edit changes at most two of the letters used: a cheap test first
                distance = edit_distance(token, prefix)
                if distance <= budget:
                    scored.append((distance, -self._count(prefix), prefix))
        scored.sort()
        nearest = [prefix for distance, _, prefix in scored if distance == scored[0][0]] if scored else []
        return nearest[:MAX_ALTERNATIVES]

    # --- storing -------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "docs": self.docs,
            "phrases": [
                [self.texts[n], self.kinds[n], self.doc_of[n], " ".join(self.phrase_words[n])]
                for n in range(len(self.texts))
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CompletionTable:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"completion table format {data.get('version')!r}, expected {FORMAT_VERSION}")
        docs = [
            (str(code), str(system), str(title), bool(generated)) for code, system, title, generated in data["docs"]
        ]
        return cls(docs, [(str(text), str(kind), int(doc), str(words)) for text, kind, doc, words in data["phrases"]])

    def __len__(self) -> int:
        return len(self.texts)


def _holds_run(words: Sequence[str], run: Sequence[str]) -> bool:
    size = len(run)
    return any(list(words[i : i + size]) == list(run) for i in range(len(words) - size + 1))


# --- one table per generation, cached on disk ------------------------------------------------------

CACHE_DIR = "completions"
"""Folder next to the index's generations holding one cached table per generation."""


def cache_path(index_path: Path, generation: str) -> Path:
    return index_path / CACHE_DIR / f"{generation}.json"


def load_table(
    index_path: Path,
    generation: str,
    build: Callable[[], Iterable[Heading]],
    abbreviations: Sequence[tuple[str, str]] = (),
) -> CompletionTable:
    """The table of ``generation``: read from its cache file, or built from ``build()`` (the
    documents' headings) and cached. A cache made with other abbreviations is rebuilt, one that
    cannot be written is skipped (the table then lives in memory only), and cache files of
    generations that no longer exist are removed."""
    path = cache_path(index_path, generation)
    fingerprint = hashlib.sha256(json.dumps(list(abbreviations)).encode("utf-8")).hexdigest()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("abbreviations") == fingerprint:
            return CompletionTable.from_json(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    table = CompletionTable.build(build(), abbreviations)
    try:
        path.parent.mkdir(mode=0o755, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps({**table.to_json(), "abbreviations": fingerprint}), encoding="utf-8")
        os.replace(temporary, path)
        for stale in path.parent.glob("*.json"):
            if not (index_path / stale.stem).is_dir():
                stale.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only index folder
    return table
