"""The words of ICD-10-PCS names and of queries, as the axis evidence compares them: stemmed
content words, without stop words, sides or words that only classify."""

from __future__ import annotations

import re

from whoosh.lang.porter import stem

LATERALITY = frozenset(("left", "right", "bilateral"))
SIDES = frozenset(stem(w) for w in LATERALITY)
"""The stems of the side words: they say where, never what is done."""
CLASSIFYING_WORDS = frozenset(("other", "nec", "nos", "unspecified", "elsewhere", "classified", "specified"))
"""Words that classify rather than describe a procedure: they never count as evidence."""
_STOP_TEXT = (
    "a an and or of the with without for in on to by from into at as is are be using via use see "
    "its it this that any all one more than"
)
STOP = frozenset(_STOP_TEXT.split())
WORD = re.compile(r"[a-z0-9]+")


def stems(text: str) -> list[str]:
    """The content words of ``text``, stemmed (stop words and classifying words dropped)."""
    return [stem(w) for w in WORD.findall(text.lower()) if w not in STOP and w not in CLASSIFYING_WORDS]
