"""Answers: JSON bodies (the CLI's --json objects), rendered pages, and errors turned into either."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from ..output import json_object
from .errors import ApiError, from_library
from .service import Service

HERE = Path(__file__).parent
log = logging.getLogger("procsearch.server")

Endpoint = Callable[[Request], Awaitable[Response]]


def json_response(data: object, status: int = 200) -> JSONResponse:
    """The same objects as the CLI's --json: with their ``schema_version``."""
    return JSONResponse(json_object(data) if isinstance(data, dict) else data, status_code=status)


def error_response(request: Request, error: ApiError) -> Response:
    if wants_html(request):
        return render(request, "error.html", {"error": error}, status=error.status)
    return json_response(error.to_dict(), error.status)


def wants_html(request: Request) -> bool:
    path = request.url.path
    return not (path.startswith("/api/") or path == "/healthz")


def answers(endpoint: Endpoint) -> Endpoint:
    """Turn whatever an endpoint raises into an error answer: the library's errors with their
    status, anything else as a 500 that names no internals (the traceback goes to the log)."""

    async def wrapper(request: Request) -> Response:
        try:
            return await endpoint(request)
        except Exception as exc:
            error = from_library(exc)
            if error.status == 500:
                log.exception("%s %s failed", request.method, request.url.path)
            return error_response(request, error)

    wrapper.__name__ = endpoint.__name__
    wrapper.__doc__ = endpoint.__doc__
    return wrapper


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(request: Request, name: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    html = templates.get_template(name).render({"query": "", "state": {}, **context, "request": request})
    return HTMLResponse(html, status_code=status)
