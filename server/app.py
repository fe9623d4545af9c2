"""The ASGI application: a JSON API and server-rendered pages over one SearchEngine per worker.

Every answer comes from the library: the JSON bodies are the same ``to_dict()`` objects the
CLI's ``--json`` prints, and the pages render the same results. The application only reads:
it has no route that writes, and it answers GET and HEAD only.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..index.store import current_generation
from ..ingest.codes import CODE_SYSTEMS
from ..ingest.record import ProcedureDoc
from ..ingest.sections import SECTIONS
from ..output import json_object
from ..search.engine import SearchEngine
from ..search.errors import NotFoundError
from ..search.explanation import Explanation, field_label
from ..search.query import MAX_QUERY_CHARS
from ..search.results import IndexStats, SearchResults, SimilarEntry, Snippet
from .errors import BAD_PARAMETER, METHOD_NOT_ALLOWED, NOT_FOUND, QUERY_TOO_LONG, ApiError, api_error, from_library
from .openapi import openapi_description
from .suggest import MAX_SUGGESTIONS, CompletionTable, Heading, Suggestions, load_table

T = TypeVar("T")

HERE = Path(__file__).parent
MAX_PAGE_SIZE = 100
PAGE_SIZE = 10
"""Results per web page."""
MAX_RESULTS = 1000
"""How deep paging goes (the engine ranks at most this many)."""
MAX_FACETED = 3000
"""The search page counts results per code system and group up to this many results."""
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}

MAX_TABLE_TRIES = 3
"""Times a completion table is read again when a new generation is published meanwhile."""

log = logging.getLogger("procsearch.server")


class _GenerationMoved(Exception):
    """A new generation was published while the completion table was being read."""


class Service:
    """One worker's view of the index: the engine (opened on first use, so a server started
    before its index is built answers 503 until it is), the completion table and the stats of
    the generation served. The engine itself follows new generations; the table is rebuilt in
    the background when one appears, and the previous table answers meanwhile.

    Engine calls run one at a time anyway (see SearchEngine), so they run on one thread of
    their own: more threads would only contend for the interpreter lock with the event loop,
    which answers suggestions from the in-memory table without waiting for a search."""

    def __init__(self, index_path: Path) -> None:
        self.index_path = Path(index_path)
        self._engine: SearchEngine | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="procsearch-engine")
        self._lock = threading.Lock()
        self._table: tuple[str, CompletionTable] | None = None
        self._table_lock = threading.Lock()
        self._rebuilding = False
        self._stats: tuple[str, IndexStats] | None = None

    def engine(self) -> SearchEngine:
        with self._lock:
            if self._engine is None:
                self._engine = SearchEngine(self.index_path)
            return self._engine

    async def run(self, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``call(engine, *args, **kwargs)`` on the engine's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: call(self.engine(), *args, **kwargs))

    async def suggest(self, query: str, limit: int) -> Suggestions:
        """Completions from the table in memory; the first table is loaded on the engine's thread."""
        if self._table is None:
            await self.run(lambda engine: self.completions())
        return self.completions().suggest(query, limit=limit)

    def generation(self) -> str:
        return current_generation(self.index_path).name

    def completions(self) -> CompletionTable:
        if self._table is None:
            with self._table_lock:
                if self._table is None:
                    self._table = self._load_table()
            return self._table[1]
        if self._table[0] != self.generation() and not self._rebuilding:
            self._rebuilding = True
            threading.Thread(target=self._refresh, name="procsearch-completions", daemon=True).start()
        return self._table[1]

    def _refresh(self) -> None:
        try:
            with self._table_lock:
                self._table = self._load_table()
        except Exception:  # the old table keeps answering; the next request tries again
            log.exception("could not rebuild the completion table")
        finally:
            self._rebuilding = False

    def _load_table(self) -> tuple[str, CompletionTable]:
        """The current generation's table (cached on disk under its name). Should a writer
        publish another generation while it is read, it is read again for the new one."""
        engine = self.engine()
        abbreviations = [
            (" ".join(term), meaning)
            for term, entries in engine.vocabulary.phrases.items()
            for meaning, kind in entries
            if kind == "abbreviation"
        ]
        for _ in range(MAX_TABLE_TRIES):
            generation = self.generation()

            def read(generation: str = generation) -> list[Heading]:
                served, rows = engine.headings()
                if served != generation:
                    raise _GenerationMoved(served)
                return rows

            try:
                return generation, load_table(self.index_path, generation, read, abbreviations)
            except _GenerationMoved:
                continue
        served, rows = engine.headings()  # generations keep coming: build this one, uncached
        return served, CompletionTable.build(rows, abbreviations)

    def stats(self) -> IndexStats:
        generation = self.generation()
        if self._stats is None or self._stats[0] != generation:
            stats = self.engine().stats()
            self._stats = (stats.generation, stats)
        return self._stats[1]

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        if self._engine is not None:
            self._engine.close()


# --- request parameters --------------------------------------------------------------------------


def _text(request: Request, name: str, default: str = "") -> str:
    value = request.query_params.get(name, default)
    if len(value) > MAX_QUERY_CHARS:
        raise api_error(413, QUERY_TOO_LONG, f"'{name}' has {len(value):,} characters; at most {MAX_QUERY_CHARS:,}.")
    return value


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
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


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in _TRUE:
        return True
    if raw.lower() in _FALSE:
        return False
    raise api_error(400, BAD_PARAMETER, f"'{name}' must be true or false, not {raw[:40]!r}.")


def _search_options(request: Request) -> dict[str, Any]:
    return {
        "section": _text(request, "section") or None,
        "system": _text(request, "system") or None,
        "group": _text(request, "group") or None,
        "expand": _flag(request, "expand", True),
        "correct": _flag(request, "correct", True),
    }


def _search(engine: SearchEngine, query: str, *, offset: int, limit: int, **options: Any) -> SearchResults:
    """One page of results: the engine ranks ``offset + limit`` and the page is cut from them
    (the hits keep their ranks, so the page says where it starts)."""
    if offset + limit > MAX_RESULTS:
        raise api_error(400, BAD_PARAMETER, f"offset + limit must be at most {MAX_RESULTS}, not {offset + limit}.")
    results = engine.search(query, limit=offset + limit, **options)
    return replace(results, hits=results.hits[offset:])


def _search_page(engine: SearchEngine, query: str, *, offset: int, **options: Any) -> SearchResults:
    """A page of results with facet counts when there are at most MAX_FACETED matches: counting
    reads every match's record (about 70 microseconds each), 15,000 for "knee replacement" over
    the full index."""
    results = _search(engine, query, offset=offset, limit=PAGE_SIZE, **options)
    if results.total_capped or results.total > MAX_FACETED:
        return results
    return _search(engine, query, offset=offset, limit=PAGE_SIZE, facets=True, **options)


def _listed_similar(engine: SearchEngine, doc: ProcedureDoc) -> list[SimilarEntry]:
    """The page's own Similar Codes, each marked in the index or not (what ``similar`` lists
    first, without its content search, which costs up to a second on the full index)."""
    entries = []
    for similar in doc.similar_codes:
        try:
            title, in_index = engine.get(similar.code).title, True
        except NotFoundError:
            title, in_index = "", False
        entries.append(SimilarEntry(similar.code, similar.label, in_index, title))
    return entries


# --- the JSON API --------------------------------------------------------------------------------

Endpoint = Callable[[Request], Awaitable[Response]]


def _json(data: object, status: int = 200) -> JSONResponse:
    """The same objects as the CLI's --json: with their ``schema_version``."""
    return JSONResponse(json_object(data) if isinstance(data, dict) else data, status_code=status)


def _error_response(request: Request, error: ApiError) -> Response:
    if _wants_html(request):
        return _render(request, "error.html", {"error": error}, status=error.status)
    return _json(error.to_dict(), error.status)


def _wants_html(request: Request) -> bool:
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
            return _error_response(request, error)

    wrapper.__name__ = endpoint.__name__
    wrapper.__doc__ = endpoint.__doc__
    return wrapper


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


@answers
async def api_search(request: Request) -> Response:
    service = _service(request)
    query = _text(request, "q")
    limit = _int(request, "limit", 10, 1, MAX_PAGE_SIZE)
    offset = _int(request, "offset", 0, 0, MAX_RESULTS - 1)
    options = _search_options(request)
    facets = _flag(request, "facets", False)
    results = await service.run(_search, query, offset=offset, limit=limit, facets=facets, **options)
    return _json(results.to_dict())


def _explain(engine: SearchEngine, query: str, code: str, *, offset: int, limit: int, **options: Any) -> Explanation:
    """Why ``code`` is where it is, against the page of ranks ``offset + 1`` to ``offset + limit``."""
    if offset + limit > MAX_RESULTS:
        raise api_error(400, BAD_PARAMETER, f"offset + limit must be at most {MAX_RESULTS}, not {offset + limit}.")
    return engine.explain(query, code, limit=limit, offset=offset, **options)


@answers
async def api_explain(request: Request) -> Response:
    service = _service(request)
    query = _text(request, "q")
    code = _text(request, "code").strip()
    if not code:
        raise api_error(400, BAD_PARAMETER, "'code' is missing: give the code to explain (code=63685).")
    limit = _int(request, "limit", 10, 1, MAX_PAGE_SIZE)
    offset = _int(request, "offset", 0, 0, MAX_RESULTS - 1)
    explanation = await service.run(_explain, query, code, offset=offset, limit=limit, **_search_options(request))
    return _json(explanation.to_dict())


@answers
async def api_suggest(request: Request) -> Response:
    service = _service(request)
    query = _text(request, "q")
    limit = _int(request, "limit", 10, 1, MAX_SUGGESTIONS)
    return _json((await service.suggest(query, limit)).to_dict())


@answers
async def api_code(request: Request) -> Response:
    doc = await _service(request).run(SearchEngine.get, request.path_params["code"])
    return _json(doc.to_dict())


@answers
async def api_similar(request: Request) -> Response:
    limit = _int(request, "limit", 10, 1, MAX_PAGE_SIZE)
    result = await _service(request).run(SearchEngine.similar, request.path_params["code"], limit=limit)
    return _json(result.to_dict())


@answers
async def api_stats(request: Request) -> Response:
    stats = await _service(request).run(lambda engine: _service(request).stats())
    return _json(stats.to_dict())


@answers
async def healthz(request: Request) -> Response:
    service = _service(request)
    documents = await service.run(lambda engine: engine.meta.document_count)
    return _json({"status": "ok", "generation": service.generation(), "documents": documents})


@answers
async def api_openapi(request: Request) -> Response:
    return _json(openapi_description())


# --- pages -----------------------------------------------------------------------------------------

_templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"], default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _render(request: Request, name: str, context: Mapping[str, Any], status: int = 200) -> HTMLResponse:
    html = _templates.get_template(name).render({"query": "", "state": {}, **context, "request": request})
    return HTMLResponse(html, status_code=status)


def highlighted(snippet: Snippet) -> list[tuple[str, bool]]:
    """A snippet's text as (piece, is_match) pairs, for the template to escape and mark."""
    parts: list[tuple[str, bool]] = []
    position = 0
    for start, end in snippet.highlights:
        if start > position:
            parts.append((snippet.text[position:start], False))
        parts.append((snippet.text[start:end], True))
        position = end
    if position < len(snippet.text):
        parts.append((snippet.text[position:], False))
    return parts


def text_blocks(text: str) -> list[tuple[str, list[str]]]:
    """A section's text as ("p", [line]) paragraphs and ("ul", items) runs of "- " lines."""
    blocks: list[tuple[str, list[str]]] = []
    for line in (line.strip() for line in text.split("\n")):
        if not line:
            continue
        if line.startswith("- "):
            if blocks and blocks[-1][0] == "ul":
                blocks[-1][1].append(line[2:])
            else:
                blocks.append(("ul", [line[2:]]))
        else:
            blocks.append(("p", [line]))
    return blocks


def _page_url(state: Mapping[str, str], path: str = "/", **changes: object) -> str:
    """The URL of the search page (or of ``path``) for ``state`` with ``changes`` (an empty value
    drops a parameter)."""
    merged = {**state, **changes}
    if str(merged.get("page", 1)) == "1":
        merged.pop("page", None)
    kept = {name: str(value) for name, value in merged.items() if value not in (None, "")}
    return f"{path}?" + urlencode(kept) if kept else path


@answers
async def search_page(request: Request) -> Response:
    service = _service(request)
    query = _text(request, "q").strip()
    page = _int(request, "page", 1, 1, MAX_RESULTS // PAGE_SIZE)
    options = _search_options(request)
    state = _search_state(query, options)
    context: dict[str, Any] = {"query": query, "state": state, "page": page, "url": _page_url, "results": None}
    if query:
        offset = (page - 1) * PAGE_SIZE
        try:
            results = await service.run(_search_page, query, offset=offset, **options)
        except Exception as exc:
            error = from_library(exc)
            if error.status >= 500:
                raise
            context["error"] = error
        else:
            pages = min(-(-results.total // PAGE_SIZE), MAX_RESULTS // PAGE_SIZE)
            context.update(
                results=results, pages=pages, highlighted=highlighted, systems=CODE_SYSTEMS, max_faceted=MAX_FACETED
            )
    return _render(request, "search.html", context)


def _search_state(query: str, options: Mapping[str, Any]) -> dict[str, str]:
    """What the search page's URL holds besides the page number."""
    return {
        "q": query,
        "system": options["system"] or "",
        "group": options["group"] or "",
        "section": options["section"] or "",
        "correct": "" if options["correct"] else "0",
        "expand": "" if options["expand"] else "0",
    }


def _options_in_force(explanation: Explanation) -> list[tuple[str, object]]:
    """The options an explanation was made with that differ from a plain search's."""
    return [
        (name, value)
        for name, value in explanation.options.items()
        if name not in ("limit", "offset") and value not in (None, {}, True)
    ]


@answers
async def why_page(request: Request) -> Response:
    """Why this result: one code's place in the ranking of the results page it was on."""
    service = _service(request)
    query = _text(request, "q").strip()
    code = _text(request, "code").strip()
    page = _int(request, "page", 1, 1, MAX_RESULTS // PAGE_SIZE)
    options = _search_options(request)
    state = {**_search_state(query, options), "page": str(page)}
    context: dict[str, Any] = {
        "query": query,
        "code": code,
        "state": state,
        "url": _page_url,
        "explanation": None,
        "label": field_label,
        "options": _options_in_force,
    }
    if query and code:
        try:
            context["explanation"] = await service.run(
                _explain, query, code, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, **options
            )
        except Exception as exc:
            error = from_library(exc)
            if error.status >= 500:
                raise
            context["error"] = error
    return _render(request, "why.html", context)


@answers
async def code_page(request: Request) -> Response:
    service = _service(request)
    doc = await service.run(SearchEngine.get, request.path_params["code"])
    similar = await service.run(_listed_similar, doc)
    sections = [(item.name, item.label, doc.sections[item.name]) for item in SECTIONS if item.name in doc.sections]
    context = {"doc": doc, "sections": sections, "similar": similar, "blocks": text_blocks}
    return _render(request, "code.html", context)


# --- the application ------------------------------------------------------------------------------


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
            response = _json(error.to_dict(), 405)
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
    return _error_response(request, error)


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
            log.warning("index not ready: %s", exc)
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
