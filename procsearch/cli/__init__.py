"""The procsearch command line: a thin layer over the library, one module per command family.

- ``main``: the command group, its global ``--index`` option and the entry point ``main()``
- ``search``: search, show, similar;  ``index``: index, reindex, verify, rollback, generations
- ``parse``: parse;  ``stats``: stats, eval;  ``serve``: serve
- ``options``: the options several commands share;  ``context``: the index, its engine, progress
- ``render``: the text printed for people;  ``errors``: the exit-code table and error messages

Results go to stdout; progress and messages go to stderr. Exit codes:

  0  success
  1  error (bad query, unknown code, unreadable file, ...)
  2  usage error (unknown option, missing argument)
  3  success, but some pages were skipped (listed on stderr and in --json)
  4  the index is locked by another writer (see --lock-timeout)
  5  the index is missing, damaged, unsafe, or from another version: the message names the fix
  6  the disk holding the index is full (index, reindex): nothing was published
"""

from __future__ import annotations

from .errors import EXIT_DISK_FULL, EXIT_ERROR, EXIT_INDEX, EXIT_LOCKED, EXIT_OK, EXIT_SKIPPED, EXIT_USAGE
from .main import cli, main

__all__ = [
    "EXIT_DISK_FULL",
    "EXIT_ERROR",
    "EXIT_INDEX",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_SKIPPED",
    "EXIT_USAGE",
    "cli",
    "main",
]
