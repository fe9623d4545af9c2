"""Errors about the index on disk. Each message names the command that fixes the problem."""

from __future__ import annotations


class IndexStoreError(Exception):
    """Base class for index errors."""


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
