"""The tables, read once into dictionaries, and selecting and counting the codes to build."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType

from ..errors import SourceUnavailableError
from .alphabetic_index import IndexName, _index_names
from .database import _clean, _connect, check_schema, locate_database
from .neighbours import _Neighbours


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
