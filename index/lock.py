"""One writer at a time: an flock on the index directory, re-entrant within a thread."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import RETRY, Remedy
from .errors import IndexLockedError
from .safety import check_safe

LEGACY_LOCK = "write.lock"
"""The lock file of earlier versions (a file can be deleted, and with it the lock): removed."""
_held: dict[str, int] = {}
_held_lock = threading.Lock()


@contextlib.contextmanager
def writer_lock(index_path: Path, timeout: float = 0.0) -> Iterator[None]:
    """Hold the index's writer lock; wait up to ``timeout`` seconds for another writer.

    The lock is an flock on the index directory itself, which no clean-up (or operator clearing a
    "stale lock") deletes; the kernel releases it when its process dies, so a killed writer never
    blocks the next run. Re-entrant within a thread (``ensure_index`` holds it around a build).
    """
    index_path.mkdir(parents=True, exist_ok=True, mode=0o755)
    check_safe(index_path)
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; one writer is the user's responsibility
        yield
        return
    key = os.path.realpath(index_path)
    with _held_lock:
        reentered = _held.get(key) == threading.get_ident()
    if reentered:
        yield
        return
    fd = os.open(index_path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexLockedError(
                        f"Another procsearch process is writing the index at {index_path}; "
                        f"gave up after {timeout:g} s.",
                        remedies=[Remedy(RETRY, index_path)],
                    ) from None
                time.sleep(0.1)
        with _held_lock:
            _held[key] = threading.get_ident()
        try:
            yield
        finally:
            with _held_lock:
                _held.pop(key, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
