"""procsearch serve explains a ranking: GET /api/explain and the "why this result" page."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the server needs the serve extra: pip install '.[serve]'")
pytest.importorskip("httpx2", reason="Starlette's test client needs httpx2 (in the test extra)")

from jsonschema import Draft202012Validator  # noqa: E402
from procsearch.search.engine import SearchEngine  # noqa: E402
from procsearch.server.app import create_app  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

SCHEMA = json.loads((resources.files("procsearch") / "output.schema.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def client(corpus_index: Path) -> Iterator[TestClient]:
    with TestClient(create_app(corpus_index)) as test_client:
        yield test_client


def test_api_explain_is_what_the_library_explains(client: TestClient, engine: SearchEngine) -> None:
    response = client.get("/api/explain", params={"q": "spinal cord stimulator", "code": "63685", "system": "CPT"})
    assert response.status_code == 200, response.text
    body = response.json()
    Draft202012Validator({"$ref": "#/$defs/explanation", "$defs": SCHEMA["$defs"]}).validate(body)
    expected = engine.explain("spinal cord stimulator", "63685", system="CPT").to_dict()
    assert body == {"schema_version": 1, **json.loads(json.dumps(expected))}
    assert body["rank"] == 1 and body["options"]["system"] == "CPT"
    parts = sum(part["value"] for part in body["contributions"]) + body["coordination"]
    assert math.isclose(parts, body["score"], rel_tol=1e-9)


def test_api_explain_errors(client: TestClient) -> None:
    missing = client.get("/api/explain", params={"q": "knee", "code": "00000"})
    assert missing.status_code == 404 and missing.json()["error"]["kind"] == "not_found"
    no_code = client.get("/api/explain", params={"q": "knee"})
    assert no_code.status_code == 400 and "'code' is missing" in no_code.json()["error"]["message"]
    deep = client.get("/api/explain", params={"q": "knee", "code": "27447", "offset": 995, "limit": 10})
    assert deep.status_code == 400


def test_every_hit_links_to_why_this_result(client: TestClient) -> None:
    html = client.get("/", params={"q": "knee replacement", "system": "CPT", "page": 1}).text
    assert 'href="/why?q=knee+replacement&amp;system=CPT&amp;code=27447"' in html


def test_the_why_page_shows_shares_terms_and_what_a_lower_code_lacks(client: TestClient) -> None:
    page = client.get("/why", params={"q": "spinal cord stimulator", "code": "63685"})
    assert page.status_code == 200
    html = page.text
    assert "is #1 for &ldquo;spinal cord stimulator&rdquo;" in html
    assert "<meter" in html and "common names" in html and "typed" in html and "The parts add up to" in html
    lower = client.get("/why", params={"q": "spinal cord stimulator", "code": "27447"}).text
    assert "below the page (ranks 1 to 10)" in lower and "It lacks: " in lower
    unknown = client.get("/why", params={"q": "knee", "code": "00000"})
    assert unknown.status_code == 200 and "No document with code" in unknown.text


def test_api_explain_names_the_not_term_and_lists_the_axes_switch(client: TestClient, engine: SearchEngine) -> None:
    body = client.get("/api/explain", params={"q": "stimulator NOT battery", "code": "63685"}).json()
    Draft202012Validator({"$ref": "#/$defs/explanation", "$defs": SCHEMA["$defs"]}).validate(body)
    assert body["excluded_by"] == ["battery"] and body["options"]["axes"] is True
    expected = engine.explain("stimulator NOT battery", "63685").to_dict()
    assert body == {"schema_version": 1, **json.loads(json.dumps(expected))}
    described = client.get("/api/openapi.json").json()["components"]["schemas"]["Explanation"]["properties"]
    assert set(described) >= set(expected), "the API description names every field"


def test_the_why_page_names_the_not_term_and_a_code_above_the_page(client: TestClient, engine: SearchEngine) -> None:
    left_out = client.get("/why", params={"q": "stimulator NOT battery", "code": "63685"}).text
    assert engine.explain("stimulator NOT battery", "63685").notes[-1] in left_out
    assert "matches nothing" not in left_out
    above = client.get("/why", params={"q": "spinal cord stimulator", "code": "63685", "page": 2}).text
    assert "is #1 for" in above and "Ranks #1, above the page (ranks 11 to 20): not on this page." in above
