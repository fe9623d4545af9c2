"""Common names from the official alphabetic index: reading its entries and narrowing an entry
that points to a whole table to the body parts its words name."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .anatomy import _ANY_PART, _COMBINING_FORMS, _NOT_ANATOMY, _PROCEDURE_SUFFIXES, _STEMS_BY_LENGTH
from .axes import _part_key
from .database import _clean
from .wording import _keeps_case, _lower

if TYPE_CHECKING:
    from .tables import CodeAxes, PcsTables

MAX_COMMON_NAMES = 12


@dataclass(frozen=True)
class IndexName:
    """A name from the alphabetic index, with the axis value it is restricted to, if any.

    An index term that is itself a device or qualifier value ("Laser Interstitial Thermal
    Therapy") only names the codes that carry that value.
    """

    name: str
    device: str = ""
    qualifier: str = ""

    def fits(self, axes: CodeAxes | None) -> bool:
        if axes is None:
            return not (self.device or self.qualifier)
        if self.device and axes.device.lower() != self.device:
            return False
        return not (self.qualifier and axes.qualifier.lower() != self.qualifier)


_CODE_REF = re.compile(r"\*\*([0-9A-HJ-NP-Z]{3,7})\*\*")
_SEE = re.compile(r"^(?P<before>.*?)\s*\bsee\s+(?P<target>.+)$")
_CONTINUED = re.compile(r"\s*\(continued\)$")
# Terms whose tree of bare codes just restates the tables ("Insertion of device in").
_MAIN_TERM = re.compile(r"^\w+( of)? (device|substance|bleeding)\b")


def index_lines(content: str) -> Iterator[tuple[int, str]]:
    """(depth, text) for each line of an index entry's content: sub-terms are indented with tabs,
    and page breaks repeat the path as "(continued)" rows, which are left out."""
    for line in content.splitlines():
        text = line.strip()
        if text and text != "(continued)":
            yield len(line) - len(line.lstrip("\t")), text


def _index_entries(rows: Sequence[tuple[object, object]]) -> Iterator[tuple[str, tuple[str, ...], str, bool]]:
    """(term, sub-term path, code prefix, is a "see" reference) for each code in the index.

    Index rows keep the printed index's layout: one term per row, sub-terms indented with tabs,
    page breaks as "(continued)" rows that repeat the path, and codes as ``**0DTJ**``.
    """
    for raw_term, raw_content in rows:
        term = _clean(raw_term)
        if not term or not isinstance(raw_content, str):
            continue
        path: list[str] = []
        for depth, text in index_lines(raw_content):
            del path[depth:]
            path.extend([""] * (depth - len(path)))
            refs = _CODE_REF.findall(text)
            label = _CONTINUED.sub("", _CODE_REF.sub("", text)).strip()
            see = _SEE.match(label)
            if label.startswith("use "):
                path.append(label)
                continue
            if see:
                before = see.group("before")
                here = tuple(p for p in [*path, before] if p)
                path.append(before)
                for ref in refs:
                    yield term, here, ref, True
                continue
            for ref in refs:
                yield term, tuple(p for p in [*path, label] if p), ref, False
            path.append(label)


def _index_names(
    rows: Sequence[tuple[object, object]],
    *,
    root_names: set[str],
    devices: set[str],
    qualifiers: set[str],
    body_parts: Mapping[str, tuple[str, str]],
    tables_to_parts: Mapping[str, Sequence[str]],
) -> dict[str, tuple[IndexName, ...]]:
    """Code prefix (4 to 7 characters) -> the index names pointing to it, in index order."""
    part_words = {prefix: _anatomy_words(name) for prefix, (_, name) in body_parts.items()}
    found: dict[str, dict[str, IndexName]] = defaultdict(dict)
    for term, path, prefix, is_see in _index_entries(rows):
        key = term.lower()
        if prefix[:3] not in tables_to_parts:
            continue  # another section (imaging, new technology ...) or no billable code
        device = key if key in devices else ""
        qualifier = key if key in qualifiers and not device else ""
        if not is_see and (key in root_names or _MAIN_TERM.match(key) or len(path) > 1):
            continue  # the index's own tables by root operation or device restate the titles
        if not is_see and path and _MAIN_TERM.match(path[0].lower()):
            continue
        subterms = [_lower(p) for p in path] if not (device or qualifier) else []
        if subterms and "," not in term:
            name = _display_name(", ".join([term, *subterms]))  # "total hysterectomy"
        else:
            name = ", ".join([_display_name(term), *subterms])
        entry = IndexName(name, device, qualifier)
        targets = [prefix] if len(prefix) >= 4 else _narrow(term, path, tables_to_parts[prefix], part_words)
        for target in targets:
            found[target].setdefault(name.lower(), entry)
    return {prefix: tuple(names.values()) for prefix, names in found.items()}


def _narrow(term: str, path: Sequence[str], parts: Sequence[str], part_words: Mapping[str, set[str]]) -> list[str]:
    """The body parts (four-character prefixes) of a table that an index term's words name.

    The sub-term's words decide when they name body parts of the table ("Partial joint
    replacement" / "Knee"), else the term's. A term whose stem means any body part of its table
    ("Osteotomy", "Exploratory") keeps the whole table; any other term that names none of the
    table's body parts keeps none of it: a wrong common name costs more than a missing one.
    """
    generic = False
    for words in (" ".join(path), term):
        stems = _stems(words)
        matched = [
            p for p in parts if any(_matches(stem, w) for stem in stems for w in part_words.get(_part_key(p), ()))
        ]
        if matched:
            return matched
        generic = generic or any(meanings == _ANY_PART for _, meanings in stems)
    return list(parts) if generic else []


def _anatomy_words(name: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", name.lower()) if len(w) >= 3 and w not in _NOT_ANATOMY}


def _stems(text: str) -> list[tuple[str, tuple[str, ...] | None]]:
    """(stem, the body part words its combining form means, or None if it has no entry) for
    each word of ``text`` that may name anatomy ("colectomy" -> ("col", ("colon", ...)))."""
    stems: list[tuple[str, tuple[str, ...] | None]] = []
    for word in re.findall(r"[a-z]+", text.lower()):
        if len(word) < 3 or word in _NOT_ANATOMY:
            continue
        # "hemicolectomy" is about the colon, "hemispherectomy" about the hemisphere: try both.
        for base in (word, word[4:]) if word.startswith("hemi") and len(word) > 7 else (word,):
            stem = base
            for suffix in _PROCEDURE_SUFFIXES:
                if base.endswith(suffix) and len(base) - len(suffix) >= 2:
                    stem = base[: -len(suffix)]
                    break
            form = next((f for f in _STEMS_BY_LENGTH if base.startswith(f)), "")
            stems.append((stem, _COMBINING_FORMS[form] if form else None))
    return stems


def _matches(stem: tuple[str, tuple[str, ...] | None], word: str) -> bool:
    """Whether a body part word is what a term's stem names."""
    text, meanings = stem
    if text == word:
        return True
    if meanings is not None:
        return any(word == meaning or (len(meaning) >= 5 and word.startswith(meaning)) for meaning in meanings)
    common = len(os.path.commonprefix([text, word]))
    return common >= 4 and common >= min(len(text), len(word)) - 2


def _display_name(term: str) -> str:
    """Index terms read "Replacement, knee" or "Hysterectomy, total"; as names those are "knee
    replacement" and "total hysterectomy".

    Only a one-word head with a short plain modifier is turned round; lists of synonyms
    ("Discectomy, diskectomy") and terms with brackets stay as printed.
    """
    head, sep, modifier = term.partition(", ")
    if not sep or "," in modifier or "(" in term or " " in head:
        return term
    words = modifier.split()
    joining = ("with", "for", "of", "and", "or", "using")
    if len(words) > 3 or any(w.lower() in joining for w in words):
        return term
    if words[-1].lower().endswith(_PROCEDURE_SUFFIXES + ("ion", "osis", "ing", "ism")):
        return term
    return f"{modifier} {head if _keeps_case(head) else head.lower()}"


def _names_for(tables: PcsTables, code: str, axes: CodeAxes | None, title: str) -> tuple[str, ...]:
    """The index names of a code, the most specific prefixes first, without repeats."""
    names: list[str] = []
    seen = {title.lower()}
    for length in range(7, 3, -1):
        for entry in tables.index_names.get(code[:length], ()):
            if entry.fits(axes) and entry.name.lower() not in seen:
                seen.add(entry.name.lower())
                names.append(entry.name)
    return tuple(names[:MAX_COMMON_NAMES])
