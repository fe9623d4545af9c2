"""The remedies that repair an index, as the library's errors carry them (the CLI renders them
as commands)."""

from __future__ import annotations

from pathlib import Path

from ..errors import REBUILD, ROLLBACK, Remedy


def rebuild(index_path: Path) -> Remedy:
    return Remedy(REBUILD, index_path)


def rollback(index_path: Path) -> Remedy:
    return Remedy(ROLLBACK, index_path)
