"""The commands that repair an index, as the library's messages name them."""

from __future__ import annotations

from pathlib import Path


def rebuild_hint(index_path: Path) -> str:
    return f"procsearch --index {index_path} index --rebuild"


def rollback_command(index_path: Path) -> str:
    return f"procsearch --index {index_path} rollback"
