"""Who may have written the files: an index directory, generation or file that another user
owns (root excepted) or others can write is refused before anything in it is read."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import IndexUnsafeError
from .hints import rebuild


def _refusal(path: Path, info: os.stat_result, what: str) -> str | None:
    """Why ``path`` must not be read (None if it is safe): owned by another user, or writable
    by others."""
    if info.st_uid not in (os.getuid(), 0):
        return (
            f"Refusing to open {path}: it is owned by another user (uid {info.st_uid}), who could change "
            f"what the index holds. Make it yours (chown -R {os.getuid()} {path}) or rebuild the index elsewhere."
        )
    if info.st_mode & (stat.S_IWOTH | stat.S_IWGRP):
        return (
            f"Refusing to open {path}: it is writable by other users, who could change what the index "
            f"holds. Use an index {what} only you can write (chmod go-w {path}), or rebuild it elsewhere."
        )
    return None


def check_safe(path: Path) -> None:
    """Refuse a directory (or file) another user owns or others can write."""
    if not hasattr(os, "getuid"):
        return
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    refusal = _refusal(path, info, "directory" if stat.S_ISDIR(info.st_mode) else "file")
    if refusal:
        raise IndexUnsafeError(refusal)


def check_generation_safe(generation: Path) -> None:
    """Refuse a generation that is a symbolic link, or holds anything but regular files that
    are the user's (or root's) and writable by nobody else."""
    if not hasattr(os, "getuid"):
        return
    try:
        info = generation.lstat()
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        raise IndexUnsafeError(f"Refusing to open {generation}: it is not a directory (a symbolic link?).")
    refusal = _refusal(generation, info, "directory")
    with os.scandir(generation) as entries:
        for entry in entries:
            if refusal:
                break
            try:
                entry_info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(entry_info.st_mode):
                raise IndexUnsafeError(
                    f"Refusing to open {generation}: {entry.name} is not a regular file (a symbolic link?).",
                    remedies=[rebuild(generation.parent)],
                )
            refusal = _refusal(Path(entry.path), entry_info, "file")
    if refusal:
        raise IndexUnsafeError(refusal)
