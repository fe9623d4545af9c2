"""Word evidence for the seven axes, read from the official ICD-10-PCS data (for reading a
clinical description the way a coder builds a code; the interpretation itself is in
:mod:`procsearch.search.pcs_axes`).

Every word-to-axis link comes from the database the ICD-10-PCS source already reads:

* root operations: their names, the words of their definitions, explanations and examples
  (weighted by how few root operations share them), the ``medical_affixes`` table's suffixes
  ("-ectomy" -> Excision, Resection) and their meanings ("removal", "suturing");
* the alphabetic index (:mod:`.index_terms`): main terms and sub-terms with their "see"
  references ("Atherectomy: see Extirpation, Lower Arteries **04C**") and "use" references
  ("Hypophysis: use Pituitary Gland");
* body parts: the ``pcs_body_part`` names, and combining forms (the package's affix table and
  :mod:`.anatomy`) that name them ("nephr" -> kidney);
* approaches: their names, the affix table's approach prefixes ("laparoscop") and meanings
  ("direct incision"), and the guidelines' examples ("Closed reduction of fracture is coded to
  the approach External");
* devices and qualifiers: the value names of every table (``pcs_tree``).

The crosswalk tables (``gems_*``), ``compound_sets`` and the Korean terms are never read.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from whoosh.lang.porter import stem

from ..errors import SourceUnavailableError
from .anatomy import _COMBINING_FORMS
from .axis_words import LATERALITY, SIDES, WORD, stems
from .database import _clean, _connect, check_schema, locate_database
from .index_terms import IndexTerm, read_index

DIAGNOSTIC = "Diagnostic"
DIAGNOSTIC_CHARACTER = "X"
"""The qualifier of a procedure done for diagnosis (a biopsy), and its character."""
MIN_PART_COVER = 0.34
"""A body part counts when the words hold at least this share of its name's weight."""
ROOT_NAME_WEIGHT = 1.5
"""A root operation named outright ("removal", "excision") outweighs one a term implies ("cystoscopy")."""
QUALIFYING_WEIGHT = 1.6
"""A word that decides between Excision and Resection ("partial", "total") outweighs either named
outright ("partial resection" is an Excision); it says nothing beside another root operation
named outright ("total knee replacement")."""
EXCISION, RESECTION, INSPECTION = "Excision", "Resection", "Inspection"
"""Root operations some reading rules name (guideline B3.8; the Diagnostic qualifier)."""
_GUIDELINE_APPROACH = re.compile(
    r"(?:^|[.:]\s)(?P<phrase>[^.:]+?) (?:is|are) coded to the approach (?:value )?(?P<name>[A-Za-z ]+?)\.", re.I
)


@dataclass
class AxisLexicon:
    """What each word says about each axis; plain data, built once from the database."""

    root_names: dict[str, str] = field(default_factory=dict)
    """"0C" (section + root operation character) -> "Extirpation"."""
    root_words: dict[str, dict[str, float]] = field(default_factory=dict)
    """stem -> root key ("0 C": section, any body system, root operation) -> weight: from the names,
    the definitions and the affix meanings."""
    device_roots: frozenset[str] = frozenset()
    """Root keys ("0 P") of operations done on a device (their definition says so): Removal, Change ..."""
    suffixes: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    terms: dict[str, list[IndexTerm]] = field(default_factory=dict)
    """rarest stem of a term -> the terms keyed by it."""
    part_names: dict[str, str] = field(default_factory=dict)
    part_words: dict[str, frozenset[str]] = field(default_factory=dict)
    part_side: dict[str, str] = field(default_factory=dict)
    parts_by_word: dict[str, set[str]] = field(default_factory=dict)
    word_weight: dict[str, float] = field(default_factory=dict)
    """stem -> how telling it is among body part names (inverse document frequency)."""
    forms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """combining form ("nephr") -> the body part stems it means ("kidney")."""
    system_names: dict[str, str] = field(default_factory=dict)
    approach_names: dict[str, str] = field(default_factory=dict)
    """section + approach character -> name."""
    approach_words: dict[str, dict[str, float]] = field(default_factory=dict)
    approach_definitions: dict[str, set[str]] = field(default_factory=dict)
    """stem -> the approaches whose definitions hold it (used only to rule approaches out)."""
    approach_prefixes: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    approach_phrases: list[tuple[frozenset[str], tuple[str, ...]]] = field(default_factory=list)
    """(stems, approach keys): a guideline example that says which approach a procedure takes."""
    devices: dict[str, str] = field(default_factory=dict)
    """table (3 characters) + device character -> device name."""
    qualifiers: dict[str, str] = field(default_factory=dict)
    table_devices: dict[str, frozenset[str]] = field(default_factory=dict)
    """table -> the device names its codes can hold."""
    device_names: frozenset[str] = frozenset()
    device_words: dict[str, set[str]] = field(default_factory=dict)
    """stem -> the device names holding it."""
    device_roots_share: dict[str, dict[str, float]] = field(default_factory=dict)
    """device name -> root key ("0 7") -> the share of the device's codes under that root operation."""
    use_words: dict[str, dict[str, float]] = field(default_factory=dict)
    """stem -> device name -> share: words of the index terms that "use" a device ("stent" -> Intraluminal Device)."""
    systems_by_word: dict[str, set[str]] = field(default_factory=dict)
    """stem -> the body systems (section + body system character) whose names hold it."""
    qualifying_words: dict[str, set[str]] = field(default_factory=dict)
    """stem -> the root keys it decides between ("partial" -> Excision, "total" -> Resection)."""
    diagnostic_words: frozenset[str] = frozenset((stem(DIAGNOSTIC.lower()),))
    """Stems that say a procedure is done for diagnosis ("biopsy"): the qualifier Diagnostic."""
    codes: frozenset[str] = frozenset()
    """Every four-character family (section, body system, root operation, body part) that has codes."""

    def parts_named(self, words: set[str]) -> dict[str, float]:
        """Body parts whose names' words the set holds, by the share of the name's weight it holds
        (at least :data:`MIN_PART_COVER`)."""
        candidates = {key for word in words for key in self.parts_by_word.get(word, ())}
        found: dict[str, float] = {}
        for key in candidates:
            name = self.part_words[key]
            total = sum(self.word_weight.get(w, 1.0) for w in name) or 1.0
            cover = sum(self.word_weight.get(w, 1.0) for w in name & words) / total
            if cover >= MIN_PART_COVER:
                found[key] = cover
        return found


def read_lexicon(db_path: Path | None = None) -> AxisLexicon:
    """Read the axis evidence from the ICD-10-PCS database (default: the installed one)."""
    path = Path(db_path) if db_path is not None else locate_database()
    connection = _connect(path)
    try:
        check_schema(connection, path)
        try:
            return _build(connection)
        except sqlite3.Error as exc:
            raise SourceUnavailableError(f"{path}: cannot read the ICD-10-PCS tables: {exc}") from exc
    finally:
        connection.close()


def _rows(connection: sqlite3.Connection, sql: str) -> list[tuple[str, ...]]:
    return [tuple(_clean(v) for v in row) for row in connection.execute(sql)]


def _has_table(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


def _build(connection: sqlite3.Connection) -> AxisLexicon:
    lex = AxisLexicon()
    _read_roots(lex, connection)
    _read_parts(lex, connection)
    _read_values(lex, connection)
    _read_approaches(lex, connection)
    read_index(lex, connection)
    return lex


def _add(table: dict[str, dict[str, float]], word: str, key: str, weight: float) -> None:
    slot = table.setdefault(word, {})
    slot[key] = max(slot.get(key, 0.0), weight)


def _read_roots(lex: AxisLexicon, connection: sqlite3.Connection) -> None:
    rows = _rows(connection, "SELECT section, code, value, definition, explanation, examples FROM pcs_root_operation")
    texts: dict[str, set[str]] = {}
    for section, char, name, definition, explanation, examples in rows:
        lex.root_names[section + char] = name
        key = section + " " + char
        for word in stems(name):
            _add(lex.root_words, word, key, ROOT_NAME_WEIGHT)
        # A side ("creation of right and left atrioventricular valve") says where, never what is done.
        words = [
            [w for w in stems(sentence) if w not in SIDES]
            for sentence in re.split(r"[.,;]", f"{definition}. {explanation}. {examples}")
        ]
        # Single words, and pairs of neighbouring words ("foreign body"), of the root operation's own text.
        texts[key] = {w for sentence in words for w in sentence} | {
            f"{a} {b}" for sentence in words for a, b in zip(sentence, sentence[1:], strict=False)
        }
        if re.search(r"\b(device|appliance)\b", definition, re.I):
            lex.device_roots = lex.device_roots | {key}
    # A word of few definitions tells more: weight by inverse document frequency, at most 0.6.
    counts: dict[str, int] = defaultdict(int)
    for words in texts.values():
        for word in words:
            counts[word] += 1
    top = math.log(len(texts) + 1)
    for key, words in texts.items():
        for word in words:
            weight = (0.8 if " " in word else 0.6) * math.log((len(texts) + 1) / counts[word]) / top
            if weight >= 0.3:
                _add(lex.root_words, word, key, weight)
    if not _has_table(connection, "medical_affixes"):
        return
    for affix, kind, meaning, axis, value, codes in _rows(
        connection, "SELECT affix, type, meaning, pcs_axis, pcs_value, pcs_code FROM medical_affixes"
    ):
        if axis == "root_op" and kind == "suffix":
            keys = {"0 " + c: 0.7 for c in codes.split("/") if c}
            lex.suffixes.append((affix.lstrip("-"), keys))
            for word in stems(meaning.replace("/", " ")):
                for key in keys:
                    _add(lex.root_words, word, key, 0.5)
        elif axis == "root_op" and kind == "qualifier":
            if f"Qualifier({DIAGNOSTIC_CHARACTER})" in value:
                # "biopsy": Excision with the qualifier Diagnostic
                lex.diagnostic_words = lex.diagnostic_words | set(stems(affix)) | set(stems(meaning))
            # "partial", "total", "radical" decide between Excision and Resection, whatever else is said.
            for word in stems(affix):
                for c in codes.split("/"):
                    _add(lex.root_words, word, "0 " + c, QUALIFYING_WEIGHT)
                    lex.qualifying_words.setdefault(word, set()).add("0 " + c)
        elif axis == "approach":
            keys = {"0" + c: 1.0 for c in codes.split("/") if c}
            lex.approach_prefixes.append((affix, keys))
            if kind == "prefix" and " " not in meaning:
                for word in stems(meaning.replace("/", " ")):
                    for key in keys:
                        _add(lex.approach_words, word, key, 0.6)
            for word in stems(meaning.replace("/", " ")) if "incision" in meaning else ():
                for key in keys:
                    _add(lex.approach_words, word, key, 0.6)
        elif axis == "body_part" and kind == "prefix":
            _add_form(lex, affix, stems(meaning.replace("/", " ")))
    lex.suffixes.sort(key=lambda item: -len(item[0]))


def _read_parts(lex: AxisLexicon, connection: sqlite3.Connection) -> None:
    for section, system, part, system_name, name in _rows(
        connection, "SELECT section, body_system, body_part, def_bs, def_bp FROM pcs_body_part"
    ):
        key = section + system + part
        lex.system_names[section + system] = system_name
        lex.part_names[key] = name
        words = [w for w in WORD.findall(name.lower())]
        side = next((w for w in words if w in LATERALITY), "")
        lex.part_side[key] = side
        content = frozenset(stems(" ".join(w for w in words if w not in LATERALITY)))
        lex.part_words[key] = content
        for word in content:
            lex.parts_by_word.setdefault(word, set()).add(key)
    for key, name in lex.system_names.items():
        for word in stems(name):
            lex.systems_by_word.setdefault(word, set()).add(key)
    # A word of many body systems' names says where, not which ("upper", "system", "region").
    lex.systems_by_word = {word: keys for word, keys in lex.systems_by_word.items() if len(keys) <= 2}
    total = len(lex.part_words) + 1
    lex.word_weight = {word: math.log(total / len(keys)) for word, keys in lex.parts_by_word.items()}
    for form, meanings in _COMBINING_FORMS.items():
        if meanings:
            _add_form(lex, form, [stem(m) for m in meanings])


def _add_form(lex: AxisLexicon, form: str, meanings: Iterable[str]) -> None:
    """A combining form means what the first source that knows it says: the affix table, made for
    ICD-10-PCS ("col": colon), before :mod:`.anatomy`'s wider list ("col": colon, cecum, large),
    written to find a table's body parts, which reads "crani" as any bone."""
    lex.forms.setdefault(form, tuple(meanings))


def _read_values(lex: AxisLexicon, connection: sqlite3.Connection) -> None:
    families: set[str] = set()
    per_device: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for code, device, qualifier in connection.execute("SELECT code, dv_def, qu_def FROM pcs_tree"):
        if not isinstance(code, str) or len(code) != 7:
            continue
        families.add(code[:4])
        per_device[_clean(device)][code[0] + " " + code[2]] += 1
        lex.devices.setdefault(code[:3] + code[5], _clean(device))
        lex.qualifiers.setdefault(code[:3] + code[6], _clean(qualifier))
    lex.codes = frozenset(families)
    by_table: dict[str, set[str]] = defaultdict(set)
    for key, name in lex.devices.items():
        by_table[key[:3]].add(name)
    lex.table_devices = {table: frozenset(names) for table, names in by_table.items()}
    for name, roots in per_device.items():
        total = sum(roots.values())
        lex.device_roots_share[name] = {key: count / total for key, count in roots.items() if count / total >= 0.1}
    lex.device_names = frozenset(n for n in lex.devices.values() if n.lower() != "no device")
    for name in set(lex.devices.values()):
        if name.lower() != "no device":
            for word in stems(name):
                lex.device_words.setdefault(word, set()).add(name)


def _read_approaches(lex: AxisLexicon, connection: sqlite3.Connection) -> None:
    by_name: dict[str, list[str]] = defaultdict(list)
    rows = _rows(connection, "SELECT section, code, value, definition FROM pcs_approach")
    for section, char, name, definition in rows:
        lex.approach_names[section + char] = name
        for word in stems(definition):
            lex.approach_definitions.setdefault(word, set()).add(section + char)
        by_name[name.lower()].append(section + char)
    for name, keys in by_name.items():
        words = stems(name)
        for word in words:
            for key in keys:
                _add(lex.approach_words, word, key, 1.0 / len(words))
    if not _has_table(connection, "pcs_guidelines"):
        return
    for (content,) in _rows(connection, "SELECT content FROM pcs_guidelines"):
        for match in _GUIDELINE_APPROACH.finditer(" ".join(content.split())):
            name = match.group("name").strip().lower()
            if name in by_name:
                lex.approach_phrases.append((frozenset(stems(match.group("phrase"))), tuple(by_name[name])))
