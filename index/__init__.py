"""Index: build and keep the Whoosh index of ProcedureDoc records on disk."""

from __future__ import annotations

from .build import IndexReport, SkippedPage, build_index, ensure_index
from .errors import (
    IndexDamagedError,
    IndexLockedError,
    IndexMissingError,
    IndexStoreError,
    IndexUnsafeError,
    IndexVersionError,
)
from .store import default_index_path

__all__ = [
    "IndexDamagedError",
    "IndexLockedError",
    "IndexMissingError",
    "IndexReport",
    "IndexStoreError",
    "IndexUnsafeError",
    "IndexVersionError",
    "SkippedPage",
    "build_index",
    "default_index_path",
    "ensure_index",
]
