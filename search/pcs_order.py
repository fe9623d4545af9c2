"""Ordering ICD-10-PCS hits by how well their axes agree with the query's reading.

The engine ranks by text first; then, when the query names a root operation or a body part
(:mod:`.pcs_axes`), the ICD-10-PCS documents among the best :data:`CANDIDATES`, together with
every code of the families the reading points to, are ordered by their text score (relative to
the best) plus their agreement with the reading. Documents of other code systems keep their
places: the ICD-10-PCS codes are reordered within the places they held, so a search over pages
and codes together is ordered as before between the two.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from whoosh.searching import Searcher

from ..ingest.codes import ICD10PCS
from .codeset import code_docs
from .pcs_axes import interpret, negated_words, pcs_lexicon
from .pcs_interpretation import Interpretation
from .query import CodePart
from .ranking import Ranking, reader_cache
from .results import Expansion

CANDIDATES = 150
"""How many of the best text matches are reordered by their axes."""
TEXT_WEIGHT = 1.0
"""The text score, relative to the best candidate's, counts up to this much next to the axes."""
MAX_FAMILY_CODES = 600
"""At most this many codes are added from the families the reading points to."""
_SYSTEM_TERM = ("code_system", ICD10PCS.encode())


def load_axes(searcher: Searcher) -> None:
    """Read the axis data now if the index holds ICD-10-PCS codes (once a process)."""
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
    # The vocabulary's expansions count too ("womb" -> "uterus"), below the typed words; not those
    # of words a negation rules out ("non-laparoscopic").
    ruled_out = negated_words(text)
    extra = " ".join(
        meaning
        for e in expansions
        if not ruled_out.intersection(e.term.lower().split())
        for meaning in e.expansions[:2]
    )
    reading = merged(interpret(text, lexicon), interpret(extra, lexicon))
    return reading or None


def merged(primary: Interpretation, secondary: Interpretation, share: float = 0.5) -> Interpretation:
    """``primary`` with ``secondary``'s evidence added at ``share`` of its weight, where it is stronger
    (the typed words first, their vocabulary expansions after)."""
    if not secondary:
        return primary

    def join(a: Mapping[str, float], b: Mapping[str, float]) -> dict[str, float]:
        out = dict(a)
        for key, value in b.items():
            if value > 0 and out.get(key, 0.0) >= 0 and share * value > out.get(key, 0.0):
                out[key] = share * value
        return out

    axes = ("roots", "parts", "systems", "approaches", "devices", "qualifiers")
    joined = {name: join(getattr(primary, name), getattr(secondary, name)) for name in axes}
    for name in ("roots", "approaches"):
        if getattr(primary, name):
            # What the typed words name, an expansion of them does not outvote ("appendectomy" ->
            # "appendix excision" against the guideline's Resection; "laparoscopic" -> "endoscopic").
            joined[name] = dict(getattr(primary, name))
    return replace(primary, **joined, side=primary.side or secondary.side)


def reorder(
    searcher: Searcher,
    ranking: Ranking,
    reading: Interpretation,
    allowed: set[int] | None,
    score_text: Callable[[set[int]], Ranking | None],
) -> Ranking:
    """``ranking`` with its ICD-10-PCS documents ordered by text and axes (see the module).

    ``score_text`` gives the text scores and matched words of a set of documents (the same query,
    restricted); it is asked about the family codes added to the candidates.
    """
    codes = _codes_of(searcher, (docnum for docnum, _ in ranking.top))
    added = _family_docs(searcher, reading, allowed, exclude={d for d, _ in ranking.top})
    if not codes and not added:
        return ranking
    scores = dict(ranking.top)
    terms = dict(ranking.terms)
    # A family code outside the candidates is scored for real, with its matched words (a few
    # hundred documents of known numbers: cheap); one the words do not match scores 0, so that
    # every code is placed by the same rule whatever the page size.
    extra = score_text(set(added)) if added else None
    unmatched = {docnum: 0.0 for docnum in added}
    scores.update(unmatched)
    if extra is not None:
        scores.update(extra.top)
        terms.update(extra.terms)
    codes.update(added)
    order, best = _ordered(codes, scores, reading)
    slots = [i for i, (docnum, _) in enumerate(ranking.top) if docnum in codes]
    top = list(ranking.top)
    for slot, docnum in zip(slots, order, strict=False):
        top[slot] = (docnum, top[slot][1])
    lowest = ranking.top[-1][1] if ranking.top else 0.0
    top.extend((docnum, lowest) for docnum in order[len(slots) :])
    # What an explanation reads of traced documents: their own text scores and parts (an added
    # code the words do not match: 0, no parts), and their places in the new order.
    contributions = {**ranking.contributions, **(extra.contributions if extra is not None else {})}
    traced = {**unmatched, **ranking.scores, **(extra.scores if extra is not None else {})}
    positions = dict(ranking.positions)
    positions.update({docnum: place for place, (docnum, _) in enumerate(top, 1) if docnum in traced})
    return Ranking(
        top=top,
        matching=ranking.matching | set(added),
        terms=terms,
        partial=ranking.partial,
        contributions=contributions,
        scores=traced,
        positions=positions,
        text_best=best,
    )


def _ordered(codes: dict[int, str], scores: dict[int, float], reading: Interpretation) -> tuple[list[int], float]:
    """The documents by text score (relative to the best) plus axis agreement, best first, and
    the best text score."""
    best = max((scores[d] for d in codes), default=0.0) or 1.0
    combined = {d: placing_score(scores[d], best, reading.agreement(code)) for d, code in codes.items()}
    return sorted(combined, key=lambda d: (-combined[d], codes[d])), best


def placing_score(text: float, best: float, agreement: float) -> float:
    """What an ICD-10-PCS code is placed by: its text score relative to the best, plus agreement."""
    return TEXT_WEIGHT * text / best + agreement


def _codes_of(searcher: Searcher, docnums: Iterable[int]) -> dict[int, str]:
    """The ICD-10-PCS codes of these documents (others left out), remembered on the open reader:
    the candidates of one search are read once, and searches that follow reuse them."""
    known: dict[int, str] = reader_cache(searcher.reader(), "_procsearch_pcs_codes")
    reader = searcher.reader()
    found: dict[int, str] = {}
    for docnum in docnums:
        if docnum not in known:
            stored = reader.stored_fields(docnum)
            known[docnum] = str(stored.get("code", "")) if stored.get("code_system") == ICD10PCS else ""
        if known[docnum]:
            found[docnum] = known[docnum]
    return found


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
