"""Errors the server answers with: each library error becomes a kind, an HTTP status and a hint.

The kinds follow the CLI's exit codes (1: a bad query or an unknown code; 5: the index is
missing, damaged, unsafe or from another version), so a script reads either the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ProcsearchError, UsageError


class ServerError(ProcsearchError):
    """The server cannot start (its address is taken or not allowed); the message says what to change."""


@dataclass(frozen=True)
class ApiError(Exception):
    """An error answer: ``kind`` names it for programs, ``message`` says what is wrong, ``hint`` what to do."""

    status: int
    kind: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, object]:
        return {"error": {"kind": self.kind, "message": self.message, "hint": self.hint}}


BAD_QUERY = "bad_query"
BAD_PARAMETER = "bad_parameter"
NOT_FOUND = "not_found"
QUERY_TOO_LONG = "query_too_long"
INDEX_UNAVAILABLE = "index_unavailable"
METHOD_NOT_ALLOWED = "method_not_allowed"
INTERNAL = "internal"

HINTS = {
    BAD_QUERY: "Type words, a code (63685), a prefix (636*) or a range (63650-63688).",
    BAD_PARAMETER: "See /api/openapi.json for each parameter's type and range.",
    NOT_FOUND: "Search for it: /api/search?q=...",
    QUERY_TOO_LONG: "Shorten the query.",
    INDEX_UNAVAILABLE: "The message names the command that builds or repairs the index; the server picks it up without a restart.",
    METHOD_NOT_ALLOWED: "The server is read-only: use GET.",
    INTERNAL: "This is a bug; the server log has the details.",
}


def api_error(status: int, kind: str, message: str) -> ApiError:
    return ApiError(status, kind, message, HINTS[kind])


def from_library(exc: Exception) -> ApiError:
    """The answer for an error the library raised (anything else is a bug: see INTERNAL)."""
    from ..cli.errors import error_message
    from ..index.errors import UNUSABLE_INDEX_ERRORS
    from ..search.errors import NotFoundError, SearchError

    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, UNUSABLE_INDEX_ERRORS):  # the operator's fix, as the command to run
        return api_error(503, INDEX_UNAVAILABLE, error_message(exc))
    if isinstance(exc, NotFoundError):
        return api_error(404, NOT_FOUND, exc.message)
    if isinstance(exc, (SearchError, UsageError)):
        return api_error(400, BAD_QUERY, exc.message)
    return api_error(500, INTERNAL, "The server failed to answer this request.")
