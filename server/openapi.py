"""The API's OpenAPI 3.1 description, served at /api/openapi.json (a test checks every route is in it)."""

from __future__ import annotations

from typing import Any

from ..search.query import MAX_QUERY_CHARS
from .suggest import MAX_SUGGESTIONS


def _query(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": {"type": "string"}}


def _ok(description: str, schema: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "bad_query or bad_parameter",
        404: "not_found",
        413: "query_too_long",
        503: "index_unavailable: the index is missing, damaged, unsafe or from another version",
    }
    return {
        str(s): {
            "description": reasons[s],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for s in statuses
    }


TEXT = {"type": "string", "maxLength": MAX_QUERY_CHARS}
FLAG = {"type": "boolean"}


def _object(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, **extra}


STRINGS = {"type": "array", "items": {"type": "string"}}
SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {
            "schema_version": {"type": "integer"},
            "error": _object(
                {"kind": {"type": "string"}, "message": {"type": "string"}, "hint": {"type": "string"}},
                required=["kind", "message", "hint"],
            ),
        },
        required=["error"],
    ),
    "Snippet": _object(
        {
            "section": {"type": "string"},
            "label": {"type": "string"},
            "text": {"type": "string"},
            "highlights": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        }
    ),
    "Hit": _object(
        {
            "rank": {"type": "integer"},
            "code": {"type": "string"},
            "code_system": {"type": "string"},
            "title": {"type": "string"},
            "score": {"type": "number"},
            "group": {"type": "string"},
            "common_names": STRINGS,
            "exact_code_match": {"type": "boolean"},
            "matched_fields": STRINGS,
            "snippet": {"oneOf": [{"$ref": "#/components/schemas/Snippet"}, {"type": "null"}]},
        }
    ),
    "SearchResults": _object(
        {
            "query": {"type": "string"},
            "total": {"type": "integer"},
            "total_capped": {"type": "boolean"},
            "corrected_query": {"type": ["string", "null"]},
            "corrections": {
                "type": "array",
                "items": _object({"word": {"type": "string"}, "suggestion": {"type": "string"}}),
            },
            "expansions": {
                "type": "array",
                "items": _object({"term": {"type": "string"}, "expansions": STRINGS, "kind": {"type": "string"}}),
            },
            "partial": {"type": "boolean"},
            "notices": STRINGS,
            "remedies": {
                "type": "array",
                "items": {"type": "object"},
                "description": "what would let the search find more, as data (the notices say it in words)",
            },
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "facets": {
                "type": "object",
                "additionalProperties": {"type": "object", "additionalProperties": {"type": "integer"}},
            },
        },
        description="The object `procsearch search --json` prints; with an offset, hits start at rank offset + 1.",
    ),
    "Suggestions": _object(
        {
            "query": {"type": "string"},
            "corrected": {"type": "boolean", "description": "misspelled words were replaced by close indexed ones"},
            "suggestions": {
                "type": "array",
                "items": _object(
                    {
                        "text": {"type": "string"},
                        "kind": {"type": "string", "enum": ["code", "title", "abbreviation", "name"]},
                        "code": {"type": "string"},
                        "code_system": {"type": "string"},
                        "title": {"type": "string"},
                    }
                ),
            },
        }
    ),
    "Procedure": _object(
        {
            "code": {"type": "string"},
            "code_system": {"type": "string"},
            "title": {"type": "string"},
            "common_names": STRINGS,
            "group": {"type": "string"},
            "sections": {"type": "object", "additionalProperties": {"type": "string"}},
            "other": {"type": "object", "additionalProperties": {"type": "string"}},
            "similar_codes": {
                "type": "array",
                "items": _object({"code": {"type": "string"}, "label": {"type": "string"}}),
            },
            "source": {"type": "string"},
            "content_hash": {"type": "string"},
        },
        description="The object `procsearch show --json` prints.",
    ),
    "Similar": _object(
        {
            "code": {"type": "string"},
            "title": {"type": "string"},
            "listed": {
                "type": "array",
                "items": _object(
                    {
                        "code": {"type": "string"},
                        "label": {"type": "string"},
                        "in_index": {"type": "boolean"},
                        "title": {"type": "string"},
                    }
                ),
            },
            "neighbours": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
        },
        description="The object `procsearch similar --json` prints.",
    ),
    "Stats": _object(
        {
            "index_path": {"type": "string"},
            "generation": {"type": "string"},
            "document_count": {"type": "integer"},
            "by_system": {"type": "object", "additionalProperties": {"type": "integer"}},
            "by_group": {"type": "object", "additionalProperties": {"type": "integer"}},
            "schema_version": {"type": "integer"},
            "package_version": {"type": "string"},
            "whoosh_version": {"type": "string"},
            "built_at": {"type": "string"},
            "size_bytes": {"type": "integer"},
            "sources": {"type": "object", "additionalProperties": {"type": "integer"}},
        },
        description="The object `procsearch stats --json` prints.",
    ),
    "Explanation": _object(
        {
            "query": {"type": "string"},
            "code": {"type": "string"},
            "title": {"type": "string"},
            "path": {"enum": ["ranking", "whoosh", "code", "none"]},
            "rank": {"type": ["integer", "null"]},
            "score": {"type": ["number", "null"]},
            "on_page": {"type": "boolean"},
            "placement": {"type": "string"},
            "broken_down": {"type": "boolean"},
            "fields": {"type": "array", "items": {"type": "object"}},
            "contributions": {"type": "array", "items": {"type": "object"}},
            "coordination": {"type": "number"},
            "code_rule": {"type": "string"},
            "code_score": {"type": "number"},
            "relaxed": {"type": "boolean"},
            "lacking": STRINGS,
            "excluded_by": STRINGS,
            "last_shown_score": {"type": ["number", "null"]},
            "gap": {"type": ["number", "null"]},
            "options": {"type": "object"},
            "notes": STRINGS,
            "placing": {"type": ["object", "null"]},
            "interpretation": {"type": ["object", "null"]},
        },
        description="The object `procsearch explain --json` prints (procsearch/output.schema.json has every field).",
    ),
    "Health": _object(
        {"status": {"type": "string"}, "generation": {"type": "string"}, "documents": {"type": "integer"}}
    ),
}

CODE = _path("code", "A procedure code (63685, G0121, 0DTJ4ZZ) or page id.")
PATHS: dict[str, Any] = {
    "/api/search": {
        "get": {
            "summary": "Search (what `procsearch search --json` prints)",
            "parameters": [
                _query("q", 'The query: words, "phrases", section:word, codes, prefixes (636*), ranges.', TEXT, True),
                _query("limit", "How many hits.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}),
                _query(
                    "offset", "Hits to skip (offset + limit <= 1000).", {"type": "integer", "minimum": 0, "default": 0}
                ),
                _query("section", "Match only in this section (summary, risks, ...).", TEXT),
                _query("system", "Only this code system (CPT, HCPCS, ICD-10-PCS).", TEXT),
                _query("group", "Only this group (specialty or body system).", TEXT),
                _query("facets", "Also count all results per code system and group.", FLAG),
                _query("expand", "Add vocabulary expansions (default true).", FLAG),
                _query("correct", "Correct misspelled words (default true).", FLAG),
            ],
            "responses": {"200": _ok("Ranked hits.", "SearchResults"), **_errors(400, 413, 503)},
        }
    },
    "/api/explain": {
        "get": {
            "summary": "Why a code is where it is in a search's ranking (what `procsearch explain --json` prints)",
            "parameters": [
                _query("q", "The query, as for /api/search.", TEXT, True),
                _query("code", "The code to explain (on the page or not).", TEXT, True),
                _query(
                    "limit",
                    "The page it is compared to.",
                    {"type": "integer", "minimum": 1, "maximum": 100, "default": 10},
                ),
                _query("offset", "Where that page starts.", {"type": "integer", "minimum": 0, "default": 0}),
                _query("section", "As for /api/search.", TEXT),
                _query("system", "As for /api/search.", TEXT),
                _query("group", "As for /api/search.", TEXT),
                _query("expand", "As for /api/search.", FLAG),
                _query("correct", "As for /api/search.", FLAG),
            ],
            "responses": {"200": _ok("The explanation.", "Explanation"), **_errors(400, 404, 413, 503)},
        }
    },
    "/api/suggest": {
        "get": {
            "summary": "Completions while typing: codes by prefix; titles, common names and abbreviations by word prefixes",
            "parameters": [
                _query("q", "What has been typed so far.", TEXT, True),
                _query(
                    "limit",
                    "How many completions.",
                    {"type": "integer", "minimum": 1, "maximum": MAX_SUGGESTIONS, "default": 10},
                ),
            ],
            "responses": {
                "200": _ok("Completions, best first, one per code.", "Suggestions"),
                **_errors(400, 413, 503),
            },
        }
    },
    "/api/codes/{code}": {
        "get": {
            "summary": "One procedure record (what `procsearch show --json` prints)",
            "parameters": [CODE],
            "responses": {"200": _ok("The record.", "Procedure"), **_errors(404, 503)},
        }
    },
    "/api/codes/{code}/similar": {
        "get": {
            "summary": "The page's own similar codes, then pages that read alike (what `procsearch similar --json` prints)",
            "parameters": [
                CODE,
                _query(
                    "limit", "How many neighbours.", {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}
                ),
            ],
            "responses": {"200": _ok("Similar codes.", "Similar"), **_errors(400, 404, 503)},
        }
    },
    "/api/stats": {
        "get": {
            "summary": "What the index holds (what `procsearch stats --json` prints)",
            "responses": {"200": _ok("Index statistics.", "Stats"), **_errors(503)},
        }
    },
    "/healthz": {
        "get": {
            "summary": "Whether the index can be served, and which generation is",
            "responses": {"200": _ok("Serving.", "Health"), **_errors(503)},
        }
    },
    "/api/openapi.json": {"get": {"summary": "This description", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
}


def openapi_description() -> dict[str, Any]:
    from ..index.store import package_version

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "procsearch",
            "version": package_version(),
            "description": "Search medical procedure pages (CPT, HCPCS, ICD-10-PCS). Read-only. "
            'Errors are {"error": {"kind", "message", "hint"}} with status 400, 404, 413 or 503.',
        },
        "paths": PATHS,
        "components": {"schemas": SCHEMAS},
    }
