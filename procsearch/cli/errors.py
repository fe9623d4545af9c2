"""The CLI's errors: the one exit-code table, and one clear line on stderr for every library error,
its remedy written as the command to run."""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from ..errors import BUILD, LIST_GENERATIONS, REBUILD, REINDEX, RETRY, ROLLBACK, SEARCH, ProcsearchError, Remedy
from ..index.errors import UNUSABLE_INDEX_ERRORS, DeletionLimitError, DiskFullError, IndexLockedError
from ..ingest.sources import PAGES
from ..output import json_object

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_LOCKED = 4
EXIT_INDEX = 5
EXIT_DISK_FULL = 6

EXIT_CODES: tuple[tuple[type[BaseException] | tuple[type[BaseException], ...], int], ...] = (
    (IndexLockedError, EXIT_LOCKED),
    (DiskFullError, EXIT_DISK_FULL),
    (UNUSABLE_INDEX_ERRORS, EXIT_INDEX),
    (ProcsearchError, EXIT_ERROR),
    (OSError, EXIT_ERROR),
)
"""The exit code of each library error, the first class that matches wins (README: "Exit codes").
Usage errors (2) are click's; 0 and 3 are results. Any other exception is a bug: exit 1, reported
as one. A crashed build worker (BuildWorkerError) is 1: the served index is intact."""


def exit_code(exc: BaseException) -> int | None:
    """The documented exit code for ``exc``, or None if it is not a library error (a bug)."""
    return next((code for classes, code in EXIT_CODES if isinstance(exc, classes)), None)


class CliError(click.ClickException):
    """A one-line error with its own exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class


def cli_error(exc: Exception) -> CliError | None:
    """The one-line message and documented exit code for a library error; None for anything else (a bug)."""
    if isinstance(exc, CliError):
        return exc
    code = exit_code(exc)
    if code is None:
        return None
    return CliError(error_message(exc), code)


def error_message(exc: Exception) -> str:
    """What is wrong, then what to do: the remedies as commands, or the option that allows it."""
    if isinstance(exc, DeletionLimitError):
        flag = "--allow-empty" if exc.remaining == 0 else f"--max-delete {exc.deleting}"
        every = " ".join(f"--source {name}" for name in ("pages", *exc.unbuilt))
        also = f" To rebuild every source it holds: {_at(exc.index_path)} index {every}." if exc.unbuilt else ""
        return f"{exc.message} Check the folder; if this is what you want, run again with {flag}.{also}"
    if isinstance(exc, DiskFullError):
        return f"{exc.message} Free some space there, or build the index on another disk with --index."
    if isinstance(exc, ProcsearchError):
        advice = remedy_advice(exc.remedies)
        return f"{exc.message} {advice}" if advice else exc.message
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": ")
    return str(exc)


def _at(index_path: object) -> str:
    return f"procsearch --index {shlex.quote(str(index_path))}"


def remedy_command(remedy: Remedy) -> str | None:
    """The command line that carries out ``remedy`` (None for waiting: there is nothing to type)."""
    at = _at(remedy.index_path)
    folder = f" {shlex.quote(str(remedy.corpus_dir))}" if remedy.corpus_dir is not None else _folder(remedy)
    if remedy.action == BUILD:
        return f"{at} index [CORPUS_DIR]"
    if remedy.action == REBUILD:
        return f"{at} index --rebuild" + "".join(f" --source {name}" for name in remedy.sources) + folder
    if remedy.action == ROLLBACK:
        return f"{at} rollback" + (f" --to {remedy.generation}" if remedy.generation else "")
    if remedy.action == REINDEX:
        return f"{at} reindex{folder}"
    if remedy.action == LIST_GENERATIONS:
        return f"{at} generations"
    if remedy.action == SEARCH:
        return f"{at} search {shlex.quote(remedy.query or '')}"
    return None


def _folder(remedy: Remedy) -> str:
    """The folder argument of a rebuild or reindex whose folder the library does not know: none
    for the default index (its folder is the bundled corpus, the default), else a placeholder, so
    that the command never rebuilds a user's index from the sample pages."""
    if remedy.action not in (REBUILD, REINDEX) or (remedy.sources and PAGES not in remedy.sources):
        return ""  # only generated sources, such as the ICD-10-PCS tables: no folder is read
    from ..index.store import default_index_path

    same = remedy.index_path is not None and Path(remedy.index_path).resolve() == default_index_path().resolve()
    return "" if same else " CORPUS_DIR"


_LEAD = {
    BUILD: "Build it with",
    REBUILD: "Rebuild with",
    ROLLBACK: "Roll back with",
    REINDEX: "Reindex with",
    LIST_GENERATIONS: "List them with",
    SEARCH: "Search for it with",
}


def remedy_advice(remedies: Sequence[Remedy]) -> str:
    """``remedies`` as what to type: "Roll back with: procsearch --index IX rollback; or rebuild
    with: procsearch --index IX index --rebuild" ("" for none)."""
    phrases = []
    for remedy in remedies:
        command = remedy_command(remedy)
        if remedy.action == RETRY or command is None:
            phrases.append("Try again later or raise --lock-timeout.")
        elif remedy.action == ROLLBACK and remedy.generation:
            phrases.append(f"Serve {remedy.generation} again with: {command}")
        else:
            phrases.append(f"{_LEAD[remedy.action]}: {command}")
    return "; or ".join(phrase if i == 0 else phrase[0].lower() + phrase[1:] for i, phrase in enumerate(phrases))


def unexpected_message(exc: BaseException) -> str:
    return f"unexpected {type(exc).__name__}: {exc}. Please report this; run with PROCSEARCH_DEBUG=1 for the traceback."


@contextmanager
def library_errors() -> Iterator[None]:
    """Turn the library's errors into one clear line on stderr and the documented exit code."""
    try:
        yield
    except Exception as exc:
        error = cli_error(exc)
        if error is None or error is exc:
            raise
        raise error from exc


def error_object(error: CliError, **context: Any) -> dict[str, Any]:
    """What --json prints for an error: the message and the exit code (and, in a batch, the line)."""
    return json_object({**context, "error": error.message, "exit_code": error.exit_code})
