"""The one record of a page that was not indexed, its named, stable reasons, and the one
strict-mode check.

A stage that cannot make a record raises :class:`.errors.PageSkipped` with one of the
:class:`SkipReason` phrases (like scrapy's ``DropItem``); the run collects each as a
:class:`SkippedPage`, counts them by reason, and goes on, unless ``strict`` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import StrictModeError

if TYPE_CHECKING:
    from .errors import PageSkipped


class SkipReason:
    """Why a file was not indexed: short phrases, stable across versions (reports count skips by
    them, scripts read them from ``--json``)."""

    # The folder and the file
    CANNOT_READ_FOLDER = "cannot read folder"
    CANNOT_READ_FILE = "cannot read file"
    LINK_LEAVES_FOLDER = "link leaves the folder"
    NAME_NOT_UTF8 = "file name is not UTF-8"
    LINK_LOOP = "symbolic link loop"
    BROKEN_LINK = "broken symbolic link"
    NOT_REGULAR_FILE = "not a regular file"
    CHANGED_WHILE_READ = "file changed while read"
    TOO_LARGE = "file too large"
    EMPTY = "empty file"
    # What the file holds
    NOT_HTML = "not an HTML page"
    TOO_COMPLEX = "too complex"
    NO_TITLE_OR_CONTENT = "no title and no recognisable content"
    NO_CONTENT = "no recognisable content"
    # The set of pages: two files that are one page (see :mod:`.duplicates`)
    DUPLICATE_CODE = "duplicate code"
    DUPLICATE_PAGE = "duplicate page"


@dataclass(frozen=True)
class SkippedPage:
    """A file that was not indexed, and why (``reason`` is a :class:`SkipReason` phrase)."""

    source: str
    reason: str
    detail: str = ""

    @classmethod
    def of(cls, skip: PageSkipped) -> SkippedPage:
        """The record of a skip raised while reading or parsing."""
        return cls(skip.source, skip.reason, skip.detail)

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason, "detail": self.detail}


STRICT_LISTED = 5
"""How many skips a strict-mode error lists."""


def check_strict(skipped: Sequence[SkippedPage], strict: bool) -> None:
    """With ``strict``, any skipped page fails the run before anything is written."""
    if strict and skipped:
        listed = "; ".join(f"{s.source}: {s.reason}" for s in skipped[:STRICT_LISTED])
        raise StrictModeError(f"{len(skipped)} page(s) skipped, index left unchanged (strict mode): {listed}")
