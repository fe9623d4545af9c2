"""What a word is, defined once for every layer: data only (patterns), no logic but a count.

:data:`WORD` is the word: the ingest side counts words with it (coverage, boilerplate
fingerprints, link density). The others are that word narrowed for one job, each used by exactly
one module and each kept here so that the differences stay visible side by side:

- :data:`TOKEN_PATTERN` (index/analysis.py): a word as indexed and searched, keeping "d&c",
  "i&d", "o'brien" and "2.5" whole;
- :data:`SPELLING_WORD` (index/documents.py): a word of the spelling vocabulary;
- :data:`CORRECTABLE_WORD` (search/spelling.py): a query word typo correction may replace;
- :data:`VOCABULARY_WORD` (search/vocabulary.py): a word of a vocabulary entry, or of the
  lower-cased query it is matched against;
- :data:`PLAIN_WORD` (search/query.py): a query word that holds no query syntax.
"""

from __future__ import annotations

import re

WORD = re.compile(r"\w+")
"""A word: a run of letters, digits or underscores."""

TOKEN_PATTERN = r"\w+(?:[&'.]\w+)*"
"""A word as the index tokenizer reads it (for pages and queries alike): words joined by "&",
"'" or "." stay one token. Recorded in every index (a change makes old indexes incompatible)."""

SPELLING_WORD = re.compile(r"[^\W\d_]{4,30}")
"""A word the spelling vocabulary holds: 4 to 30 letters (no digits, no underscores)."""

CORRECTABLE_WORD = re.compile(r"(?<![\w:&'-])[A-Za-z]+(?![\w:&'*-])")
"""A query word typo correction may replace: ASCII letters standing alone, not part of a field
prefix (``risks:``), a joined word (``d&c``, ``x-ray``), a wildcard or a code."""

VOCABULARY_WORD = re.compile(r"[a-z0-9]+(?:[&'][a-z0-9]+)*")
"""A word of a vocabulary entry (lower-cased): ASCII letters and digits, "&" and "'" joining."""

PLAIN_WORD = re.compile(r"[^\W_]+")
"""A query word with no query syntax in it: letters and digits only."""


def words(text: str) -> list[str]:
    """The words (:data:`WORD`) of ``text``."""
    return WORD.findall(text)


def word_count(text: str) -> int:
    """How many words (:data:`WORD`) ``text`` holds."""
    return len(words(text))
