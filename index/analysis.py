"""Text analysis, defined once and used for indexing and for queries alike."""

from __future__ import annotations

from whoosh.analysis import Analyzer, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter

TOKEN_PATTERN = r"\w+(?:[&'.]\w+)*"
"""Words, keeping "d&c", "i&d" and "o'brien" whole; the tokenizer and the query side share it."""

MIN_TOKEN = 1
MAX_TOKEN = 40


def text_analyzer() -> Analyzer:
    """Tokenise, lower-case, drop English stop words and over-long tokens, Porter-stem."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | StopFilter(minsize=MIN_TOKEN, maxsize=MAX_TOKEN)
        | StemFilter(cachesize=50000)
    )


ANALYZER_SETTINGS = {
    "tokenizer": TOKEN_PATTERN,
    "stop_words": "whoosh english",
    "stemmer": "porter",
    "max_token": MAX_TOKEN,
}
"""Recorded in every index, so an index built with other analysis is recognised as incompatible."""
