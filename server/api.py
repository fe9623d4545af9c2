"""The JSON API: /api/search, /api/explain, /api/suggest, /api/codes/..., /api/stats, /healthz, /api/openapi.json."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ..search.engine import SearchEngine
from .calls import MAX_PAGE_SIZE, MAX_RESULTS, explain_code, search_window
from .errors import BAD_PARAMETER, api_error
from .openapi import openapi_description
from .parameters import flag_param, int_param, search_options, text_param
from .responses import answers, json_response, service_of
from .suggest import MAX_SUGGESTIONS


@answers
async def api_search(request: Request) -> Response:
    service = service_of(request)
    query = text_param(request, "q")
    limit = int_param(request, "limit", 10, 1, MAX_PAGE_SIZE)
    offset = int_param(request, "offset", 0, 0, MAX_RESULTS - 1)
    options = search_options(request)
    facets = flag_param(request, "facets", False)
    results = await service.run(search_window, query, offset=offset, limit=limit, facets=facets, **options)
    return json_response(results.to_dict())


@answers
async def api_explain(request: Request) -> Response:
    service = service_of(request)
    query = text_param(request, "q")
    code = text_param(request, "code").strip()
    if not code:
        raise api_error(400, BAD_PARAMETER, "'code' is missing: give the code to explain (code=63685).")
    limit = int_param(request, "limit", 10, 1, MAX_PAGE_SIZE)
    offset = int_param(request, "offset", 0, 0, MAX_RESULTS - 1)
    explanation = await service.run(explain_code, query, code, offset=offset, limit=limit, **search_options(request))
    return json_response(explanation.to_dict())


@answers
async def api_suggest(request: Request) -> Response:
    service = service_of(request)
    query = text_param(request, "q")
    limit = int_param(request, "limit", 10, 1, MAX_SUGGESTIONS)
    return json_response((await service.suggest(query, limit)).to_dict())


@answers
async def api_code(request: Request) -> Response:
    doc = await service_of(request).run(SearchEngine.get, request.path_params["code"])
    return json_response(doc.to_dict())


@answers
async def api_similar(request: Request) -> Response:
    limit = int_param(request, "limit", 10, 1, MAX_PAGE_SIZE)
    result = await service_of(request).run(SearchEngine.similar, request.path_params["code"], limit=limit)
    return json_response(result.to_dict())


@answers
async def api_stats(request: Request) -> Response:
    stats = await service_of(request).run(lambda engine: service_of(request).stats())
    return json_response(stats.to_dict())


@answers
async def healthz(request: Request) -> Response:
    service = service_of(request)
    documents = await service.run(lambda engine: engine.meta.document_count)
    return json_response({"status": "ok", "generation": service.generation(), "documents": documents})


@answers
async def api_openapi(request: Request) -> Response:
    return json_response(openapi_description())
