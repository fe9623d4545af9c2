"""Errors raised while reading and parsing procedure pages."""

from __future__ import annotations

from ..errors import ProcsearchError


class IngestError(ProcsearchError):
    """Base class for ingest errors."""


class PageSkipped(IngestError):
    """A page is not a procedure document (or cannot be read); the run reports it and goes on.

    ``reason`` is a short, stable phrase used to count skips ("no title and no recognisable
    content", "empty file", ...); ``source`` names the file.
    """

    def __init__(self, reason: str, source: str = "", detail: str = "") -> None:
        self.reason = reason
        self.source = source
        self.detail = detail
        message = f"{source}: {reason}" if source else reason
        super().__init__(f"{message} ({detail})" if detail else message)


class SourceUnavailableError(IngestError):
    """A data source (such as the ICD-10-PCS tables) is not installed or not in the expected shape."""


class StrictModeError(IngestError):
    """Pages were skipped while ``strict`` was set: nothing was written."""
