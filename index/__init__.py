"""Index: build and keep the Whoosh index of ProcedureDoc records on disk."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:
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

# Imported on first use: searching needs neither the builder nor the page parser it reads with.
__getattr__ = lazy_attributes(
    __name__,
    {
        **dict.fromkeys(("IndexReport", "SkippedPage", "build_index", "ensure_index"), ".build"),
        **dict.fromkeys((name for name in __all__ if name.endswith("Error")), ".errors"),
        "default_index_path": ".store",
    },
)
