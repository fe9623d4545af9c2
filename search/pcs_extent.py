"""How much of a body part a procedure takes, the choice between Resection and Excision that an
"-ectomy" leaves open (guideline B3.8: Resection whenever all of the body part is cut out): an
organ's own "-ectomy" takes it whole, a lesion resected is a portion."""

from __future__ import annotations

from ..ingest.icd10pcs.axis_words import stems
from ..ingest.icd10pcs.lexicon import EXCISION, QUALIFYING_WEIGHT, RESECTION, AxisLexicon

WHOLE_ORGAN_SHARE = 0.2
"""Resection's lead over Excision for an "-ectomy" of the organ its word names (guideline B3.8)."""
LESIONS = frozenset(
    stems("lesion tumor tumour mass polyp cyst nodule neoplasm carcinoma lipoma fibroid myoma adenoma growth")
)
"""Words for what is cut out of a body part: resecting one takes a portion of the body part."""


def settle_extent(
    lexicon: AxisLexicon, words: list[str], present: set[str], roots: dict[str, float], parts: dict[str, float]
) -> None:
    """Lead Resection or Excision in ``roots`` (the root operation evidence, changed in place) as
    the words say: a lesion resected is a portion, unless an organ's own "-ectomy" or "total" says
    the organ is taken."""
    organ = _ectomy_organ(lexicon, words)
    if not _whole_organ(lexicon, organ, present, roots, parts) and not organ:
        _lesion(lexicon, present, roots)


def _whole_organ(
    lexicon: AxisLexicon, organ: set[str], present: set[str], roots: dict[str, float], parts: dict[str, float]
) -> bool:
    """An "-ectomy" word that names its organ (``organ``: "thymectomy", "nephrectomy"), with no other body part
    named and no word saying part of it ("partial"), takes all of it: Resection leads Excision
    (guideline B3.8: Resection whenever all of the body part is cut out). The organ of a lesion's
    "-ectomy" ("polypectomy", "ovarian cystectomy") is named by other words: no lead.

    Returns whether how much is taken is settled: the organ is taken whole, or a word says so
    ("partial", "total", "radical")."""
    if present & lexicon.qualifying_words.keys():
        return True
    resection = {key for key, name in lexicon.root_names.items() if name == RESECTION}
    excision = {key for key, name in lexicon.root_names.items() if name == EXCISION}
    # A root operation named outright says more; so does an index term that points to Excision
    # alone ("Gastrectomy, vertical (sleeve)").
    if any(w >= QUALIFYING_WEIGHT for word in present for w in lexicon.root_words.get(word, {}).values()):
        return False
    lead = {k: v for k, v in roots.items() if k[0] + k[2] in resection}
    rival = max((v for k, v in roots.items() if k[0] + k[2] in excision), default=0.0)
    if not lead or max(lead.values()) < 0.95 * rival:
        return False
    others = {key for key, cover in parts.items() if cover >= 0.5}
    if organ and others <= organ:
        for key in lead:
            roots[key] *= 1.0 + WHOLE_ORGAN_SHARE
        return True
    return False


def _ectomy_organ(lexicon: AxisLexicon, words: list[str]) -> set[str]:
    """The body parts an "-ectomy" word's combining form names ("nephrectomy": the kidneys), or
    none ("polypectomy")."""
    for word in words:
        if word.endswith("ectomy"):
            base = word[: -len("ectomy")]
            meanings = {m for form, ms in lexicon.forms.items() if base.startswith(form) for m in ms}
            organ = set(lexicon.parts_named(meanings)) if meanings else set()
            if organ:
                return organ
    return set()


def _lesion(lexicon: AxisLexicon, present: set[str], roots: dict[str, float]) -> None:
    """A lesion cut out ("transurethral resection of bladder tumor") takes a portion of the body
    part, not all of it (guideline B3.8): what the words say for Resection goes to Excision, a
    little ahead ("Excision of lesion in the ascending colon", the guidelines' example)."""
    if not present & LESIONS:
        return
    names = lexicon.root_names
    for key, value in list(roots.items()):
        if names.get(key[0] + key[2]) == RESECTION:
            excision = next((c for k, name in names.items() if name == EXCISION and k[0] == key[0] for c in k[1]), "")
            if excision:
                twin = key[:2] + excision
                roots[twin] = max(roots.get(twin, 0.0), value * (1.0 + WHOLE_ORGAN_SHARE))
