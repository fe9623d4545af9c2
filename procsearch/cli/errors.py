"""The CLI's errors: the exit-code table, and one clear line on stderr for every library error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from ..output import json_object

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_LOCKED = 4
EXIT_INDEX = 5
EXIT_DISK_FULL = 6


class CliError(click.ClickException):
    """A one-line error with its own exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class


def cli_error(exc: Exception) -> CliError | None:
    """The one-line message and documented exit code for a library error; None for anything else (a bug)."""
    from ..index.errors import IndexLockedError, IndexStoreError
    from ..ingest.errors import IngestError
    from ..search.errors import SearchError

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, IndexLockedError):
        return CliError(str(exc), EXIT_LOCKED)
    if isinstance(exc, IndexStoreError):
        return CliError(str(exc), EXIT_INDEX)
    if isinstance(exc, (SearchError, IngestError, ValueError)):
        return CliError(str(exc))
    if isinstance(exc, OSError):
        return CliError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    return None


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


@contextmanager
def write_errors() -> Iterator[None]:
    """:func:`library_errors`, plus the advice for a run the library refused to publish or could
    not finish for lack of disk space."""
    from ..index.errors import DeletionLimitError, DiskFullError, RollbackError

    with library_errors():
        try:
            yield
        except RollbackError as exc:
            raise CliError(str(exc)) from exc
        except DiskFullError as exc:
            raise CliError(
                f"{exc} Free some space there, or build the index on another disk with --index.", EXIT_DISK_FULL
            ) from exc
        except DeletionLimitError as exc:
            flag = "--allow-empty" if exc.remaining == 0 else f"--max-delete {exc.deleting}"
            every = " ".join(f"--source {name}" for name in ("pages", *exc.unbuilt))
            also = (
                f" To rebuild every source it holds: procsearch --index {exc.index_path} index {every}."
                if exc.unbuilt
                else ""
            )
            raise CliError(f"{exc} Check the folder; if this is what you want, run again with {flag}.{also}") from exc


def error_object(error: CliError, **context: Any) -> dict[str, Any]:
    """What --json prints for an error: the message and the exit code (and, in a batch, the line)."""
    return json_object({**context, "error": error.message, "exit_code": error.exit_code})
