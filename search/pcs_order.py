"""Ordering ICD-10-PCS hits by how well their axes agree with the query's reading.

The engine ranks by text first; then, when the query names a root operation or a body part
(:mod:`.pcs_axes`), the ICD-10-PCS documents among the best :data:`CANDIDATES`, together with
every code of the families the reading points to, are ordered by their text score (relative to
the best) plus their agreement with the reading. Documents of other code systems keep their
places: the ICD-10-PCS codes are reordered within the places they held, so a search over pages
and codes together is ordered as before between the two.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from whoosh.searching import Searcher

from ..ingest.codes import ICD10PCS
from .codeset import code_docs
from .pcs_axes import Interpretation, interpret, merged, pcs_lexicon
from .query import CodePart
from .ranking import Ranking
from .results import Expansion

CANDIDATES = 300
"""How many of the best text matches are reordered by their axes."""
MAX_FAMILY_CODES = 600
"""At most this many codes are added from the families the reading points to."""
_SYSTEM_TERM = ("code_system", ICD10PCS.encode())


def load_axes(searcher: Searcher) -> None:
    """Read the axis data now if the index holds ICD-10-PCS codes (once a process; about 0.4 s)."""
    if _SYSTEM_TERM in searcher.reader():
        pcs_lexicon()


def axis_reading(
    searcher: Searcher, text: str, expansions: tuple[Expansion, ...], system: str | None
) -> Interpretation | None:
    """The query's reading along the ICD-10-PCS axes, or None when the index holds no ICD-10-PCS
    codes, the search is limited to another code system, or the words name no root operation or body part."""
    if not text or _SYSTEM_TERM not in searcher.reader():
        return None
    if system and system.replace("-", "").replace(":", "").lower() not in ("icd10pcs", "pcs", "icd"):
        return None
    lexicon = pcs_lexicon()
    if lexicon is None:
        return None
    # The vocabulary's expansions count too ("womb" -> "uterus"), below the typed words.
    extra = " ".join(meaning for e in expansions for meaning in e.expansions[:2])
    reading = merged(interpret(text, lexicon), interpret(extra, lexicon))
    return reading or None


def reorder(
    searcher: Searcher,
    ranking: Ranking,
    reading: Interpretation,
    allowed: set[int] | None,
    score_text: Callable[[set[int]], Ranking | None],
) -> Ranking:
    """``ranking`` with its ICD-10-PCS documents ordered by text and axes (see the module).

    ``score_text`` gives the text scores of a set of documents (the same query, restricted).
    """
    reader = searcher.reader()
    codes: dict[int, str] = {}
    for docnum, _ in ranking.top:
        stored = reader.stored_fields(docnum)
        if stored.get("code_system") == ICD10PCS:
            codes[docnum] = str(stored.get("code", ""))
    added = _family_docs(searcher, reading, allowed, exclude={d for d, _ in ranking.top})
    scores = dict(ranking.top)
    terms = dict(ranking.terms)
    if added:
        extra = score_text(set(added))
        if extra is not None:
            scores.update(extra.top)
            terms.update(extra.terms)
        codes.update(added)
    if not codes:
        return ranking
    best = max((scores.get(d, 0.0) for d in codes), default=0.0) or 1.0
    combined = {d: scores.get(d, 0.0) / best + reading.agreement(code) for d, code in codes.items()}
    order = sorted(combined, key=lambda d: (-combined[d], codes[d]))
    slots = [i for i, (docnum, _) in enumerate(ranking.top) if docnum in codes]
    top = list(ranking.top)
    for slot, docnum in zip(slots, order, strict=False):
        top[slot] = (docnum, top[slot][1])
    lowest = top[-1][1] if top else 0.0
    top.extend((docnum, lowest) for docnum in order[len(slots) :])
    return Ranking(
        top=top, matching=ranking.matching | set(added), terms=terms, partial=ranking.partial
    )


def _family_docs(
    searcher: Searcher, reading: Interpretation, allowed: set[int] | None, exclude: set[int]
) -> dict[int, str]:
    """The ICD-10-PCS documents of the families the reading points to, not yet among the candidates."""
    families = reading.families()
    if not families:
        return {}
    found = code_docs(searcher, [CodePart("prefix", family) for family in families])
    added: dict[int, str] = {}
    for docnum, code in sorted(found.items(), key=lambda item: item[1]):
        # Seven characters: only ICD-10-PCS codes are that long.
        if docnum in exclude or (allowed is not None and docnum not in allowed) or len(code) != 7:
            continue
        added[docnum] = code
        if len(added) >= MAX_FAMILY_CODES:
            break
    return added


def candidate_limit(window: int, reading: Any) -> int:
    """How many text matches to rank: the page, or :data:`CANDIDATES` when they are to be reordered."""
    return max(window, CANDIDATES) if reading else window
