"""Reading a request's query string: text, whole numbers and flags, each checked, and the search options."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from ..search.query import MAX_QUERY_CHARS
from .errors import BAD_PARAMETER, QUERY_TOO_LONG, api_error


def text_param(request: Request, name: str, default: str = "") -> str:
    value = request.query_params.get(name, default)
    if len(value) > MAX_QUERY_CHARS:
        raise api_error(413, QUERY_TOO_LONG, f"'{name}' has {len(value):,} characters; at most {MAX_QUERY_CHARS:,}.")
    return value


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise api_error(400, BAD_PARAMETER, f"'{name}' must be a whole number, not {raw[:40]!r}.") from None
    if not low <= value <= high:
        raise api_error(400, BAD_PARAMETER, f"'{name}' must be between {low} and {high}, not {value}.")
    return value


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def flag_param(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise api_error(400, BAD_PARAMETER, f"'{name}' must be true or false, not {raw[:40]!r}.")


def search_options(request: Request) -> dict[str, Any]:
    return {
        "section": text_param(request, "section") or None,
        "system": text_param(request, "system") or None,
        "group": text_param(request, "group") or None,
        "expand": flag_param(request, "expand", True),
        "correct": flag_param(request, "correct", True),
    }
