"""The plain-English text of a document: the summary sentence, the purpose and the procedure."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from .axes import _APPROACH, _BODY_SYSTEM

if TYPE_CHECKING:
    from .tables import RootOperation

_POSITIONS = {"right", "left", "bilateral", "upper", "lower", "middle"}
# Lay words for "percutaneous endoscopic", by body system.
_ENDOSCOPY_WORDS = {
    **dict.fromkeys("DFTUV", "laparoscopic"),
    "R": "arthroscopic",
    "S": "arthroscopic",
    "B": "thoracoscopic",
}
# In the "Anatomical Regions, General" system the word depends on the region.
_THORACIC_WORDS = ("pleura", "mediastinum", "chest", "pericardial", "thora")
_ABDOMINAL_WORDS = ("abdom", "peritone", "pelvic", "gastrointestinal", "genitourinary")


def _summary(root: RootOperation | None, body_part: str, code: str, approach: str, device: str, qualifier: str) -> str:
    if root is None or not body_part:
        return ""
    definition = _lower_first(root.definition.rstrip("."))
    text = f"{root.name} ({definition}) of the {_body_part_phrase(body_part)}"
    approach_text = _approach_phrase(code, approach, body_part)
    if approach_text:
        text += f", {approach_text}"
    if device:
        text += ", with no device" if device.lower() == "no device" else f", with {_lower(device)}"
    if qualifier and qualifier.lower() != "no qualifier":
        # A bypass qualifier names where the contents are rerouted to.
        joiner = ", to the " if root.name == "Bypass" else ", "
        text += joiner + _lower(qualifier)
    return text + "."


def _approach_phrase(code: str, approach: str, body_part: str) -> str:
    char = code[_APPROACH]
    if char == "4":
        word = _ENDOSCOPY_WORDS.get(code[_BODY_SYSTEM], "")
        if code[_BODY_SYSTEM] == "W":
            part = body_part.lower()
            word = (
                "thoracoscopic"
                if any(w in part for w in _THORACIC_WORDS)
                else "laparoscopic"
                if any(w in part for w in _ABDOMINAL_WORDS)
                else ""
            )
        return f"by a percutaneous endoscopic ({word}) approach" if word else "by a percutaneous endoscopic approach"
    if char in "78" and approach:
        words = _natural_opening_words(code[_BODY_SYSTEM], char == "8", body_part.lower())
        phrase = "via a natural or artificial opening" + (", endoscopically" if char == "8" else "")
        return f"{phrase} ({words})" if words else phrase
    phrases = {
        "0": "by an open approach",
        "3": "by a percutaneous approach",
        "F": "via a natural or artificial opening with percutaneous endoscopic assistance"
        + (" (laparoscopic-assisted vaginal)" if code[_BODY_SYSTEM] == "U" else ""),
        "X": "by an external approach",
    }
    if char in phrases and approach:
        return phrases[char]
    return f"by the {_lower(approach)} approach" if approach else ""


def _natural_opening_words(body_system: str, endoscopic: bool, part: str) -> str:
    """What clinicians call an approach through a body opening, where the body system says which
    opening it is: "transurethral" (urinary, male reproductive), "vaginal" and "hysteroscopic"
    (female reproductive), "bronchoscopic" (respiratory). Nouns are added next to adjectives
    because they stem apart ("cystoscopy" is not "cystoscopic" to the stemmer)."""
    if body_system in "TV":
        if not endoscopic:
            return "transurethral"
        scope = "ureteroscopic, ureteroscopy" if "ureter" in part or "kidney" in part else "cystoscopic, cystoscopy"
        return f"transurethral, {scope}"
    if body_system == "U":
        if endoscopic and any(word in part for word in ("uterus", "endometrium", "cervix")):
            return "hysteroscopic, hysteroscopy"
        return "vaginal" if not endoscopic or "vagina" in part else ""
    if body_system == "B" and endoscopic:
        return "bronchoscopic, bronchoscopy"
    return ""


def _purpose(root: RootOperation) -> str:
    parts = [f"{root.name}: {_sentence(root.definition)}"]
    if root.explanation:
        parts.append(_sentence(root.explanation))
    if root.examples:
        parts.append(f"Examples: {_sentence(root.examples)}")
    return " ".join(parts)


def _procedure(
    approach: str, approach_definition: str, device: str, qualifier: str, body_part: str, body_system: str
) -> str:
    parts = []
    if approach:
        parts.append(f"Approach: {approach}." + (f" {_sentence(approach_definition)}" if approach_definition else ""))
    if device:
        parts.append(f"Device: {device}.")
    if qualifier:
        parts.append(f"Qualifier: {qualifier}.")
    if body_part:
        parts.append(f"Body part: {body_part}" + (f" ({body_system})." if body_system else "."))
    return " ".join(parts)


@lru_cache(maxsize=4096)
def _body_part_phrase(name: str) -> str:
    """ "Knee Joint, Right" -> "right knee joint"; "Esophagus, Upper" -> "upper esophagus"."""
    parts = [part.strip() for part in name.split(",")]
    front: list[str] = []
    while len(parts) > 1 and parts[-1].lower() in _POSITIONS:
        front.insert(0, parts.pop())
    return _lower(" ".join([*front, ", ".join(parts)]))


@lru_cache(maxsize=4096)
def _lower(text: str) -> str:
    """Lower-case the words of an axis value, keeping acronyms and codes ("IUD", "C1-C2")."""
    return " ".join(word if _keeps_case(word) else word.lower() for word in text.split())


def _keeps_case(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    if any(c.isdigit() for c in word):
        return True
    return len(letters) > 1 and all(c.isupper() for c in letters)


@lru_cache(maxsize=4096)
def _lower_first(text: str) -> str:
    if not text:
        return text
    first = text.split(" ", 1)[0]
    return text if _keeps_case(first) else text[0].lower() + text[1:]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text.endswith((".", "!", "?")) else text + "."
