"""Index: build and keep the Whoosh index of ProcedureDoc records on disk."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

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

_WHERE = {
    **dict.fromkeys(("IndexReport", "SkippedPage", "build_index", "ensure_index"), "build"),
    "default_index_path": "store",
}


def __getattr__(name: str) -> Any:
    # Imported on first use: searching needs neither the builder nor the page parser it reads with.
    if name in _WHERE or name.startswith("Index"):
        return getattr(import_module(f".{_WHERE.get(name, 'errors')}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
