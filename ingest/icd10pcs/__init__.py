"""The ICD-10-PCS source (moving into parts; the code is in :mod:`.anatomy` for now)."""

from __future__ import annotations

from .anatomy import (
    DATA_PACKAGE,
    DATABASE_FILE,
    INSTALL_HINT,
    MAX_COMMON_NAMES,
    MAX_SIMILAR,
    REQUIRED_COLUMNS,
    SOURCE_PREFIX,
    CodeAxes,
    IndexName,
    PcsTables,
    RootOperation,
    build_icd10pcs_doc,
    check_schema,
    count_icd10pcs_codes,
    iter_icd10pcs_docs,
    locate_database,
    read_tables,
    select_codes,
)

__all__ = [
    "DATABASE_FILE",
    "DATA_PACKAGE",
    "INSTALL_HINT",
    "MAX_COMMON_NAMES",
    "MAX_SIMILAR",
    "REQUIRED_COLUMNS",
    "SOURCE_PREFIX",
    "CodeAxes",
    "IndexName",
    "PcsTables",
    "RootOperation",
    "build_icd10pcs_doc",
    "check_schema",
    "count_icd10pcs_codes",
    "iter_icd10pcs_docs",
    "locate_database",
    "read_tables",
    "select_codes",
]
