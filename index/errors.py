"""Errors about the index on disk. Each says what is wrong and carries its remedy as data
(``procsearch.errors.Remedy``: rebuild, roll back, reindex, retry later); the CLI names the command."""

from __future__ import annotations

from ..errors import ProcsearchError


class IndexStoreError(ProcsearchError):
    """Base class for errors about the index itself (it is missing, unreadable, unsafe or busy)."""


class IndexMissingError(IndexStoreError):
    """There is no index at the given path yet."""


class IndexVersionError(IndexStoreError):
    """The index was built by an incompatible version of procsearch; it must be rebuilt."""


class IndexDamagedError(IndexStoreError):
    """The index files cannot be read."""


class IndexLockedError(IndexStoreError):
    """Another process is writing the index."""


class IndexUnsafeError(IndexStoreError):
    """The index directory, a generation or a file in it is owned by another user (not root) or
    writable by others: someone else could change what it holds, so it is never read."""


class DeletionLimitError(ProcsearchError):
    """A new generation would remove more of the serving index's documents than allowed.

    Raised before anything is published, so the serving generation stays as it was. Not an
    IndexStoreError: the index is fine, the input looks wrong (an empty or mistyped folder).
    """

    def __init__(
        self,
        index_path: object,
        *,
        serving: int,
        deleting: int,
        remaining: int,
        limit: int,
        unbuilt: tuple[str, ...] = (),
    ) -> None:
        self.index_path = index_path
        self.serving = serving
        self.deleting = deleting
        self.remaining = remaining
        self.limit = limit
        self.unbuilt = unbuilt
        """Sources the index holds that the run did not rebuild."""
        what = "every one" if remaining == 0 else f"{deleting:,}"
        unbuilt_note = f"; this run does not rebuild its {' and '.join(unbuilt)} documents" if unbuilt else ""
        super().__init__(
            f"Refusing to publish: the new index would remove {what} of the {serving:,} documents "
            f"{index_path} serves ({remaining:,} would remain; at most {limit:,} may be removed{unbuilt_note}). "
            f"The index is unchanged.",
            index_path=str(index_path),
        )


class DiskFullError(ProcsearchError):
    """The disk holding the index filled up while a new generation was written.

    The unfinished generation is removed and the serving one is untouched. ``needed`` is a rough
    estimate of the space the run needs, in bytes; ``free`` what is free now.
    """

    def __init__(self, index_path: object, *, free: int, needed: int) -> None:
        self.index_path = index_path
        self.free = free
        self.needed = needed
        super().__init__(
            f"The disk holding {index_path} is full ({format_bytes(free)} free); this run needs about "
            f"{format_bytes(needed)}. Nothing was published: the index is unchanged.",
            index_path=str(index_path),
        )


def format_bytes(count: int) -> str:
    """A size for people: 812 bytes, 4.7 MB, 1.2 GB."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if count >= size:
            return f"{count / size:.1f} {unit}"
    return f"{count} bytes"


class RollbackError(ProcsearchError):
    """There is no generation to roll back to, or the one asked for cannot be served (the index
    itself is fine: damage is an IndexDamagedError)."""


class BuildWorkerError(ProcsearchError):
    """A worker process of a parallel build died or failed. Nothing was published: the served
    index is intact (so not an IndexStoreError); running the build again is the remedy."""


UNUSABLE_INDEX_ERRORS: tuple[type[IndexStoreError], ...] = (
    IndexMissingError,
    IndexVersionError,
    IndexDamagedError,
    IndexUnsafeError,
)
"""The errors that mean the index cannot be served as it is (missing, from another version,
damaged or unsafe): exit 5 in the CLI, 503 from the server. A locked index is only busy."""
