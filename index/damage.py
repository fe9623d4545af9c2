"""Which errors raised while reading an index mean that its files are damaged.

One list for every reader (search, show, stats, verify, reindex): a damaged index always ends
in IndexDamagedError naming the fix (exit 5 in the CLI), never in a cryptic error or a bug report.
"""

from __future__ import annotations

import pickle
import struct
import zlib
from pathlib import Path

from whoosh.filedb.filetables import FileFormatError
from whoosh.index import IndexError as WhooshIndexError
from whoosh.reading import CorruptIndexError

from .errors import IndexDamagedError, IndexStoreError
from .store import check_generation_files, damaged_error

DAMAGE_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    zlib.error,
    struct.error,
    pickle.UnpicklingError,  # every pickle is read by index/unpickler.py, which wraps any failure in it
    WhooshIndexError,
    CorruptIndexError,
    FileFormatError,
)
"""What reading damaged Whoosh files raises: always damage. Any other error raised while reading
is damage when a file of the generation fails its checksum, and a bug (reported as one) if not."""


def as_damage(exc: BaseException, index_path: Path, generation: Path | None) -> IndexDamagedError | None:
    """The damage error for ``exc`` raised while reading ``generation``, or None if it is not damage
    (not one of :data:`DAMAGE_ERRORS`, and every file still matches its checksum: a bug)."""
    if isinstance(exc, IndexStoreError) or not isinstance(exc, Exception):
        return None
    problems: list[str] = []
    if generation is not None and generation.is_dir():
        try:
            problems = check_generation_files(generation, index_path, full=True)
        except IndexStoreError as error:
            problems = [error.message]
        except OSError as error:
            problems = [f"cannot read its files ({error})"]
    if not problems and not isinstance(exc, DAMAGE_ERRORS):
        return None
    where = f"{generation.name}: " if generation is not None else ""
    found = f"{where}{problems[0]}" if problems else f"{type(exc).__name__}: {exc}"
    return damaged_error(index_path, generation, found)
