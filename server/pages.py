"""The server-rendered pages: search (/), a procedure (/code/...), and why a result is where it is (/why)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from ..fields import prose_label
from ..ingest.codes import CODE_SYSTEMS
from ..ingest.sections import SECTIONS
from ..search.engine import SearchEngine
from ..search.families import fold
from ..search.results import Snippet
from .calls import MAX_FACETED, MAX_RESULTS, PAGE_SIZE, explain_code, listed_similar, search_page_results
from .errors import from_library
from .parameters import int_param, search_options, text_param
from .responses import answers, render, service_of


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


def page_url(state: Mapping[str, str], path: str = "/", **changes: object) -> str:
    """The URL of the search page (or of ``path``) for ``state`` with ``changes`` (an empty value
    drops a parameter)."""
    merged = {**state, **changes}
    if str(merged.get("page", 1)) == "1":
        merged.pop("page", None)
    kept = {name: str(value) for name, value in merged.items() if value not in (None, "")}
    return f"{path}?" + urlencode(kept) if kept else path


@answers
async def search_page(request: Request) -> Response:
    service = service_of(request)
    query = text_param(request, "q").strip()
    page = int_param(request, "page", 1, 1, MAX_RESULTS // PAGE_SIZE)
    options = search_options(request)
    state = _search_state(query, options)
    context: dict[str, Any] = {"query": query, "state": state, "page": page, "url": page_url, "results": None}
    if query:
        offset = (page - 1) * PAGE_SIZE
        try:
            results = await service.run(search_page_results, query, offset=offset, **options)
        except Exception as exc:
            error = from_library(exc)
            if error.status >= 500:
                raise
            context["error"] = error
        else:
            pages = min(-(-results.total // PAGE_SIZE), MAX_RESULTS // PAGE_SIZE)
            context.update(
                results=results,
                rows=fold(results),
                reading=results.interpretation.named_axes() if results.interpretation else [],
                pages=pages,
                highlighted=highlighted,
                systems=CODE_SYSTEMS,
                max_faceted=MAX_FACETED,
            )
    return render(request, "search.html", context)


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


@answers
async def why_page(request: Request) -> Response:
    """Why this result: one code's place in the ranking of the results page it was on."""
    service = service_of(request)
    query = text_param(request, "q").strip()
    code = text_param(request, "code").strip()
    page = int_param(request, "page", 1, 1, MAX_RESULTS // PAGE_SIZE)
    options = search_options(request)
    state = {**_search_state(query, options), "page": str(page)}
    context: dict[str, Any] = {
        "query": query,
        "code": code,
        "state": state,
        "url": page_url,
        "explanation": None,
        "label": prose_label,
    }
    if query and code:
        try:
            context["explanation"] = await service.run(
                explain_code, query, code, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE, **options
            )
        except Exception as exc:
            error = from_library(exc)
            if error.status >= 500:
                raise
            context["error"] = error
    return render(request, "why.html", context)


@answers
async def code_page(request: Request) -> Response:
    service = service_of(request)
    doc = await service.run(SearchEngine.get, request.path_params["code"])
    similar = await service.run(listed_similar, doc)
    sections = [(item.name, item.label, doc.sections[item.name]) for item in SECTIONS if item.name in doc.sections]
    context = {"doc": doc, "sections": sections, "similar": similar, "blocks": text_blocks}
    return render(request, "code.html", context)
