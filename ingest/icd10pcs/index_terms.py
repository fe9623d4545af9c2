"""The alphabetic index as axis evidence: its "see" references (a term -> root operations,
narrowed to tables and body parts by their codes) and "use" references (a term -> the official
body part or device it stands for), with each entry's bracketed alternatives read as names of
their own ("Anterior cruciate ligament (ACL)")."""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .alphabetic_index import index_lines
from .axis_words import SIDES, stems

if TYPE_CHECKING:
    from .lexicon import AxisLexicon

_BRACKETS = re.compile(r"\(([^()]*)\)")
_ABBREVIATION = re.compile(r"[A-Z][A-Z0-9]{1,6}")
_MARKS = frozenset(("r", "tm", "c"))
_CODE_REF = re.compile(r"\*\*([0-9A-HJ-NP-Z]{3,7})\*\*")


@dataclass(frozen=True)
class IndexTerm:
    """An alphabetic index entry as evidence: the stems a query must hold, and what it points to."""

    words: frozenset[str]
    roots: tuple[str, ...] = ()
    """Root operation keys: section + body system (or "") + root operation character ("04C", "0 C")."""
    parts: tuple[str, ...] = ()
    """Body part keys: section + body system + body part character ("04K")."""
    qualifier: str = ""
    use: str = ""
    """A "use" reference: the official name the term stands for (a body part or a device)."""


def read_index(lex: AxisLexicon, connection: sqlite3.Connection) -> None:
    root_by_name: dict[str, list[str]] = defaultdict(list)
    for key, name in lex.root_names.items():
        root_by_name[name.lower()].append(key)
    found: list[IndexTerm] = []
    for term, content in _rows_raw(connection):
        heads = _variants(term, main_term=True)
        path: list[str] = []
        for depth, text in index_lines(content):
            del path[depth:]
            label = _CODE_REF.sub("", text).strip()
            refs = _CODE_REF.findall(text)
            if label.startswith("use "):
                use = _use_target(lex, label[4:])
                for head in heads:
                    found.append(IndexTerm(frozenset(stems(head + " " + " ".join(path))), use=use))
            elif " see " in f" {label}" or label.startswith("see "):
                before, _, target = label.partition("see ")
                for head in heads:
                    for words in _variants(before):
                        entry = _see_entry(head, [*path, words], target, refs, root_by_name)
                        if entry is not None:
                            found.append(entry)
            path.append(_variants(label)[0])
    _use_words(lex, found)
    weight = lex.word_weight
    for entry in found:
        if entry.words:
            rarest = min(entry.words, key=lambda w: (-weight.get(w, 9.0), w))
            lex.terms.setdefault(rarest, []).append(entry)


def _use_target(lex: AxisLexicon, target: str) -> str:
    """The name a "use" reference gives: "Contraceptive Device in Female Reproductive System" is the
    device Contraceptive Device (of that body system), not the system's body parts."""
    name, sep, _system = target.partition(" in ")
    return name if sep and name in lex.device_names else target


def _variants(text: str, *, main_term: bool = False) -> list[str]:
    """An index label's readings: without its brackets, and with a bracketed alternative in place
    of what it stands for. An abbreviation stands for all that comes before it ("Anterior cruciate
    ligament (ACL)" -> "ACL"), a lower-case word for the word before it ("Vertical (sleeve)" ->
    "sleeve"); trademark marks ("(R)", "(tm)") are dropped. A main term's alternative must keep a
    word of its own: "Acromion (process)" is not "process"."""
    plain = " ".join(_BRACKETS.sub(" ", text).split())
    readings = [plain]
    for match in _BRACKETS.finditer(text):
        inner, before, after = match.group(1).strip(), text[: match.start()], text[match.end() :]
        if inner.lower() in _MARKS or not inner:
            continue
        if _ABBREVIATION.fullmatch(inner):
            reading = inner
        else:
            reading = re.sub(r"\S+\s*$", "", before) + inner + _BRACKETS.sub(" ", after)
        reading = " ".join(_BRACKETS.sub(" ", reading).split())
        if main_term and " " not in reading and reading == inner and not _ABBREVIATION.fullmatch(inner):
            continue
        if reading and reading not in readings:
            readings.append(reading)
    return readings


def _use_words(lex: AxisLexicon, found: list[IndexTerm]) -> None:
    """Words the index's device names are known by: a word of at least two "use" terms, most of
    which name one device ("stent", "pacemaker"), stands for that device."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for entry in found:
        if entry.use in lex.device_names:
            for word in entry.words:
                if _may_name_device(lex, word):
                    counts[word][entry.use] += 1
    for word, devices in counts.items():
        total = sum(devices.values())
        best = max(devices.values())
        if total >= 2 and best / total >= 0.5:
            lex.use_words[word] = {name: n / total for name, n in devices.items() if n / total >= 0.25}


def _may_name_device(lex: AxisLexicon, word: str) -> bool:
    """Whether a word of a "use" term may stand for its device: not a body part, root operation,
    approach or side word ("left" in "Left Ventricular Assist Device"), not a number or an initial."""
    if len(word) < 3 or word.isdigit() or word in SIDES:
        return False
    if word in lex.parts_by_word or word in lex.root_words or word in lex.approach_words:
        return False
    return not any(word.startswith(prefix) for prefix, _keys in lex.approach_prefixes)


def _rows_raw(connection: sqlite3.Connection) -> Iterable[tuple[str, str]]:
    for term, content in connection.execute("SELECT term, content FROM pcs_index ORDER BY rowid"):
        if isinstance(term, str) and isinstance(content, str):
            yield term.strip(), content


def _see_entry(
    head: str, path: Iterable[str], target: str, refs: list[str], root_by_name: Mapping[str, list[str]]
) -> IndexTerm | None:
    """ "see Extirpation, Lower Arteries **04C**" -> the root operation, narrowed to the tables
    and body parts its codes name."""
    name = re.split(r"[,(]| with ", target)[0].strip().lower()
    keys = root_by_name.get(name)
    if not keys:
        return None
    words = frozenset(stems(" ".join([head, *path])))
    qualifier = "Diagnostic" if "qualifier diagnostic" in target.lower() else ""
    if refs:
        roots = tuple(sorted({ref[0] + ref[1] + ref[2] for ref in refs}))
        parts = tuple(sorted({ref[0] + ref[1] + ref[3] for ref in refs if len(ref) >= 4}))
        return IndexTerm(words, roots, parts, qualifier)
    return IndexTerm(words, tuple(k[0] + " " + k[1] for k in keys), (), qualifier)
