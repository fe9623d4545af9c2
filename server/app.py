"""The ASGI application: a JSON API and server-rendered pages over one SearchEngine per worker.

Every answer comes from the library: the JSON bodies are the same ``to_dict()`` objects the
CLI's ``--json`` prints, and the pages render the same results. The application only reads:
it has no route that writes, and it answers GET and HEAD only. The parts:

- ``service``: one worker's engine (on its own thread), completion table and stats;
- ``parameters``: the query string, read and checked;
- ``calls``: what the routes ask the engine (a page of results, an explanation, similar codes);
- ``responses``: JSON bodies, rendered pages, and errors as either;
- ``api`` and ``pages``: the routes; this module: the security headers, read-only, the app.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api import api_code, api_explain, api_openapi, api_search, api_similar, api_stats, api_suggest, healthz
from .errors import METHOD_NOT_ALLOWED, NOT_FOUND, api_error, from_library
from .pages import code_page, search_page, why_page
from .responses import HERE, error_response, json_response, log
from .service import Service

SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    """Adds the security headers to every answer, static files and errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode("latin-1") not in SECURITY_HEADERS]
                headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ReadOnly:
    """Answers anything but GET and HEAD with 405 before it reaches a route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD"):
            error = api_error(405, METHOD_NOT_ALLOWED, f"{scope['method']} is not allowed: the server only reads.")
            response = json_response(error.to_dict(), 405)
            response.headers["allow"] = "GET, HEAD"
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if status == 404:
        error = api_error(404, NOT_FOUND, f"Nothing at {request.url.path[:200]}.")
    else:
        error = from_library(exc if not isinstance(exc, HTTPException) else RuntimeError(str(exc.detail)))
        error = replace(error, status=status)
    return error_response(request, error)


def create_app(index_path: Path | str | None = None) -> Starlette:
    """The application over the index at ``index_path`` (default: $PROCSEARCH_INDEX, else the
    per-user default index). ``uvicorn --factory procsearch.server.app:create_app`` runs it."""
    from ..index.store import default_index_path

    service = Service(Path(index_path) if index_path is not None else default_index_path())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        # Warm up before the first request: open the index and load the completion table.
        try:
            await service.run(lambda engine: service.completions())
        except Exception as exc:  # a missing index is answered with 503 until it exists
            from ..cli.errors import error_message  # the one rule that writes a remedy as a command

            log.warning("index not ready: %s", error_message(exc))
        yield
        service.close()

    routes = [
        Route("/", search_page),
        Route("/code/{code}", code_page),
        Route("/why", why_page),
        Route("/api/search", api_search),
        Route("/api/explain", api_explain),
        Route("/api/suggest", api_suggest),
        Route("/api/codes/{code}/similar", api_similar),
        Route("/api/codes/{code}", api_code),
        Route("/api/stats", api_stats),
        Route("/api/openapi.json", api_openapi),
        Route("/healthz", healthz),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error})
    app.state.service = service
    app.add_middleware(ReadOnly)
    app.add_middleware(SecurityHeaders)
    return app
