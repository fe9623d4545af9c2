"""procsearch serve: the JSON API and the server-rendered pages, through Starlette's test client."""

from __future__ import annotations

import json
import logging
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the server needs the serve extra: pip install '.[serve]'")
pytest.importorskip("httpx2", reason="Starlette's test client needs httpx2 (in the test extra)")

from click.testing import CliRunner  # noqa: E402
from procsearch.index.build import build_index  # noqa: E402
from procsearch.index.update import reindex  # noqa: E402
from procsearch.search.engine import SearchEngine  # noqa: E402
from procsearch.server.app import SECURITY_HEADERS, create_app  # noqa: E402
from starlette.routing import Route  # noqa: E402
from starlette.testclient import TestClient  # noqa: E402

from procsearch.cli import cli  # noqa: E402

SEED = Path(__file__).parent / "fixtures" / "seed-63685.html"


@pytest.fixture(scope="module")
def client(corpus_index: Path) -> Iterator[TestClient]:
    with TestClient(create_app(corpus_index)) as test_client:
        yield test_client


def error_of(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"schema_version", "error"} and set(body["error"]) == {"kind", "message", "hint"}, body
    assert "Traceback" not in response.text
    return body["error"]


# --- the same objects as the CLI's --json -----------------------------------------------------------


def test_search_is_what_the_cli_prints_as_json(client: TestClient, corpus_index: Path) -> None:
    response = client.get("/api/search", params={"q": "spinal cord stimulator", "limit": 3, "facets": "true"})
    assert response.status_code == 200
    printed = CliRunner().invoke(
        cli, ["--index", str(corpus_index), "search", "spinal cord stimulator", "--limit", "3", "--facets", "--json"]
    )
    assert printed.exit_code == 0, printed.output
    assert response.json() == json.loads(printed.output)
    assert [hit["code"] for hit in response.json()["hits"]] == ["63685", "63688", "63650"]


def test_code_similar_and_stats_are_what_the_cli_prints(client: TestClient, corpus_index: Path) -> None:
    for path, command in (
        ("/api/codes/63685", ["show", "63685"]),
        ("/api/codes/63685/similar?limit=3", ["similar", "63685", "--limit", "3"]),
        ("/api/stats", ["stats"]),
    ):
        printed = CliRunner().invoke(cli, ["--index", str(corpus_index), *command, "--json"])
        assert printed.exit_code == 0, printed.output
        assert client.get(path).json() == json.loads(printed.output), path


def test_paging_with_offset_keeps_the_ranks(client: TestClient) -> None:
    everything = client.get("/api/search", params={"q": "knee", "limit": 6}).json()
    first = client.get("/api/search", params={"q": "knee", "limit": 3}).json()
    second = client.get("/api/search", params={"q": "knee", "limit": 3, "offset": 3}).json()
    assert [h["code"] for h in first["hits"] + second["hits"]] == [h["code"] for h in everything["hits"]]
    assert [h["rank"] for h in second["hits"]] == [4, 5, 6]
    assert second["total"] == everything["total"] > 6


def test_filters_expansion_and_correction_parameters(client: TestClient) -> None:
    hcpcs = client.get("/api/search", params={"q": "colonoscopy", "system": "HCPCS"}).json()
    assert hcpcs["hits"] and {h["code_system"] for h in hcpcs["hits"]} == {"HCPCS"}
    assert client.get("/api/search", params={"q": "TKA"}).json()["expansions"]
    assert client.get("/api/search", params={"q": "TKA", "expand": "false"}).json()["expansions"] == []
    corrected = client.get("/api/search", params={"q": "colonscopy"}).json()
    assert corrected["corrected_query"] == "colonoscopy"
    assert client.get("/api/search", params={"q": "colonscopy", "correct": "0"}).json()["corrected_query"] is None
    risks = client.get("/api/search", params={"q": "hoarseness", "section": "risks"}).json()
    assert risks["hits"] and all(h["snippet"]["section"] == "risks" for h in risks["hits"])


def test_healthz_names_the_generation(client: TestClient, corpus_index: Path) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["documents"] == 140
    assert body["generation"] == (corpus_index / "CURRENT").read_text().strip()


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/api/search?q=", 400, "bad_query"),
        ("/api/search?q=*a*", 400, "bad_query"),
        ("/api/search?q=knee&limit=0", 400, "bad_parameter"),
        ("/api/search?q=knee&limit=101", 400, "bad_parameter"),
        ("/api/search?q=knee&limit=ten", 400, "bad_parameter"),
        ("/api/search?q=knee&offset=995&limit=10", 400, "bad_parameter"),
        ("/api/search?q=knee&facets=maybe", 400, "bad_parameter"),
        ("/api/search?q=knee&section=nosuchsection", 400, "bad_query"),
        ("/api/suggest?q=knee&limit=1000", 400, "bad_parameter"),
        ("/api/codes/99999", 404, "not_found"),
        ("/api/codes/99999/similar", 404, "not_found"),
        ("/api/nothing-here", 404, "not_found"),
        ("/api/search?q=" + "knee " * 201, 413, "query_too_long"),
        ("/api/suggest?q=" + "k" * 1001, 413, "query_too_long"),
    ],
)
def test_errors_are_json_with_kind_message_and_hint(client: TestClient, path: str, status: int, kind: str) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["kind"] == kind and error["message"] and error["hint"]


def test_a_missing_index_is_503_until_it_is_built(tmp_path: Path) -> None:
    index = tmp_path / "ix"
    with TestClient(create_app(index)) as client:
        for path in ("/api/search?q=knee", "/api/suggest?q=kn", "/api/codes/63685", "/api/stats", "/healthz"):
            response = client.get(path)
            assert response.status_code == 503, path
            error = error_of(response)
            assert error["kind"] == "index_unavailable" and "procsearch --index" in error["message"]
        pages = tmp_path / "pages"
        pages.mkdir()
        shutil.copy(SEED, pages / "seed.html")
        build_index(pages, index)
        assert client.get("/api/search", params={"q": "63685"}).json()["hits"][0]["code"] == "63685"


def test_a_missing_index_is_logged_at_start_up_with_the_command_that_builds_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from procsearch.cli.errors import remedy_command
    from procsearch.errors import BUILD, Remedy

    index = tmp_path / "ix"
    with caplog.at_level(logging.WARNING, logger="procsearch.server"), TestClient(create_app(index)):
        pass
    command = remedy_command(Remedy(BUILD, index))
    assert command is not None and f"Build it with: {command}" in caplog.text
    assert "To fix:" not in caplog.text, "the remedy is the command to run, not words"


def test_a_damaged_index_is_503_naming_the_fix(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SEED, pages / "seed.html")
    build_index(pages, tmp_path / "ix")
    (tmp_path / "ix" / "CURRENT").write_text("gen-gone\n")
    with TestClient(create_app(tmp_path / "ix")) as client:
        response = client.get("/api/search", params={"q": "stimulator"})
    assert response.status_code == 503
    assert "index --rebuild" in error_of(response)["message"]


def test_a_bug_is_a_500_that_names_no_internals(
    corpus_index: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(self: SearchEngine, *args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(SearchEngine, "search", broken)
    with TestClient(create_app(corpus_index)) as client:
        response = client.get("/api/search", params={"q": "knee"})
        page = client.get("/", params={"q": "knee"})
    assert response.status_code == 500 and error_of(response)["kind"] == "internal"
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert page.status_code == 500 and "secret" not in page.text and "Traceback" not in page.text
    assert "secret internal detail" in caplog.text, "the log has the details"


def test_the_server_only_reads(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        response = client.request(method, "/api/search?q=knee")
        assert response.status_code == 405, method
        assert error_of(response)["kind"] == "method_not_allowed"
    assert client.head("/api/search?q=knee").status_code == 200


# --- the API's description ---------------------------------------------------------------------------


def test_openapi_describes_every_api_route(client: TestClient) -> None:
    description = client.get("/api/openapi.json").json()
    assert description["openapi"].startswith("3.")
    routes = {route.path for route in client.app.routes if isinstance(route, Route)}  # type: ignore[attr-defined]
    api_routes = {path for path in routes if path.startswith("/api/") or path == "/healthz"}
    assert api_routes == set(description["paths"])
    search = {p["name"] for p in description["paths"]["/api/search"]["get"]["parameters"]}
    assert search == {"q", "limit", "offset", "section", "system", "group", "facets", "expand", "correct"}


# --- pages ----------------------------------------------------------------------------------------------


def test_search_page_works_without_javascript(client: TestClient) -> None:
    response = client.get("/", params={"q": "knee replacement", "system": "CPT"})
    assert response.status_code == 200
    html = response.text
    assert '<form class="search" action="/" method="get"' in html
    assert 'href="/code/27447"' in html and "<mark>" in html
    assert 'value="knee replacement"' in html and 'name="system" value="CPT"' in html
    assert "Summary:" in html or "Procedure Description:" in html


def test_search_page_pages_and_keeps_its_state_in_the_url(client: TestClient) -> None:
    first = client.get("/", params={"q": "anesthesia"}).text
    assert 'rel="next" href="/?q=anesthesia&amp;page=2"' in first
    second = client.get("/?q=anesthesia&page=2").text
    assert 'start="11"' in second and 'rel="prev" href="/?q=anesthesia"' in second
    assert re.search(r'href="/\?q=anesthesia&amp;system=CPT"', first), "facets are filter links"


def test_search_page_counts_facets_only_for_few_enough_results(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    import procsearch.server.calls as calls

    monkeypatch.setattr(calls, "MAX_FACETED", 5)
    many = client.get("/", params={"q": "knee"}).text
    assert 'href="/?q=knee&amp;system=ICD-10-PCS"' in many and "Counts per system and group" in many
    assert "(1)" not in many.split('class="facets"')[1].split("</aside>")[0]
    few = client.get("/", params={"q": "63685"}).text
    assert re.search(r'href="/\?q=63685&amp;system=CPT">CPT</a> \(\d+\)', few)


def test_search_page_shows_the_correction_with_a_link_to_search_as_typed(client: TestClient) -> None:
    html = client.get("/", params={"q": "colonscopy"}).text
    assert "Showing results for <strong>colonoscopy</strong>" in html
    assert 'href="/?q=colonscopy&amp;correct=0"' in html
    assert "Showing results for" not in client.get("/?q=colonscopy&correct=0").text


def test_search_page_shows_the_icd10pcs_reading_above_the_results(small_pcs_index: Path) -> None:
    with TestClient(create_app(small_pcs_index)) as client:
        html = client.get("/", params={"q": "laparoscopic appendectomy"}).text
        reading = client.get("/api/search", params={"q": "laparoscopic appendectomy"}).json()["interpretation"]
    line = re.search(r'<div class="reading" id="reading">(.*?)</div>', html, re.S)
    assert line is not None and html.index('class="reading"') < html.index('<ol class="hits"')
    axes = [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in re.findall(r"<li>(.*?)</li>", line.group(1))]
    expected = [f"root operation {' / '.join(reading['root_operation'])}", "body part Appendix"]
    expected += [f"approach {' / '.join(reading['approach'])}"] if reading["approach"] else []
    assert axes[: len(expected)] == expected
    assert "Read as:" in line.group(1) and "(ICD-10-PCS axes)" in line.group(1)
    assert not any(axis.startswith("body system") for axis in axes), "the body part names it"


def test_why_page_shows_what_placed_an_icd10pcs_code(small_pcs_index: Path) -> None:
    params = {"q": "laparoscopic appendectomy", "code": "0DTJ4ZZ"}
    with TestClient(create_app(small_pcs_index)) as client:
        html = client.get("/why", params=params).text
        placing = client.get("/api/explain", params=params).json()["placing"]
    table = re.search(r'<table class="placing" id="placing">(.*?)</table>', html, re.S)
    assert table is not None
    rows = [
        " ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    ]
    assert "root operation Resection +1.200" in rows and "body part Appendix +1.200" in rows
    assert rows[-1] == f"placed by {placing['total']:.3f}"
    assert "The query is read as: root operation" in html


def test_search_page_has_no_icd10pcs_reading_for_an_index_without_icd10pcs_codes(client: TestClient) -> None:
    html = client.get("/", params={"q": "laparoscopic appendectomy"}).text
    assert '<li class="hit"' in html and 'class="reading"' not in html


def test_code_page_has_every_section_in_order_and_similar_codes_as_links(
    client: TestClient, engine: SearchEngine
) -> None:
    html = client.get("/code/63685").text
    doc = engine.get("63685")
    headings = re.findall(r'<section class="section" id="([a-z_]+)">', html)
    assert headings == list(doc.sections) and len(headings) >= 10
    risks = html.split('<section class="section" id="risks">')[1].split("</section>")[0]
    assert "<ul><li>Infection, bleeding" in risks and "- Infection" not in risks, "page lists are lists"
    assert 'href="/code/63688"' in html
    assert "63655" in html and "(not in the index)" in html and 'href="/code/63655"' not in html
    assert client.get("/code/99999").status_code == 404


def test_security_headers_on_every_answer(client: TestClient) -> None:
    for path in ("/", "/?q=knee", "/code/63685", "/api/search?q=knee", "/static/style.css", "/api/codes/none"):
        response = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value, (path, name)
    assert "script-src 'self'" in SECURITY_HEADERS["content-security-policy"]
    assert "unsafe-inline" not in SECURITY_HEADERS["content-security-policy"]


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/%2E%2E%2Fapp.py",
        "/static/..%2fapp.py",
        "/static/%252e%252e/app.py",
        "/static/....//app.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
    ],
)
def test_static_files_come_only_from_the_package(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, (path, response.text[:200])
    assert "def create_app" not in response.text and "root:" not in response.text


def test_static_files_are_served(client: TestClient) -> None:
    assert (
        client.get("/static/suggest.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )
    assert "<script" not in client.get("/").text.split('<script src="/static/suggest.js" defer></script>')[0]


# --- untrusted page text -----------------------------------------------------------------------------

HOSTILE = """<!DOCTYPE html><html><head><title>x</title></head><body>
<h1>&lt;script&gt;alert('title')&lt;/script&gt; Knee &quot;&gt;&lt;img src=x onerror=alert(1)&gt; scope</h1>
<p class="code-label">CPT code <strong>29881</strong></p>
<h2>Summary</h2>
<p>A zebra camera &lt;script&gt;alert('summary')&lt;/script&gt; looks inside the knee. &quot;&gt;&lt;img src=x onerror=alert(2)&gt;</p>
<h2>&lt;img src=x onerror=alert(3)&gt; Odd heading</h2>
<p>Text under an odd heading &lt;b onmouseover=alert(4)&gt;bold&lt;/b&gt;.</p>
<h2>Similar Codes</h2>
<ul class="similar-codes">
<li><a href="javascript:alert(5)">29880</a> - &lt;script&gt;alert('label')&lt;/script&gt; javascript:alert(6)</li>
</ul>
</body></html>"""


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("hostile")
    (root / "pages").mkdir()
    (root / "pages" / "hostile.html").write_text(HOSTILE, encoding="utf-8")
    build_index(root / "pages", root / "ix")
    with TestClient(create_app(root / "ix")) as test_client:
        yield test_client


def test_page_text_is_escaped_everywhere(hostile_client: TestClient) -> None:
    doc = hostile_client.get("/api/codes/29881").json()
    assert "<script>" in doc["title"], "the record keeps the text as written"
    pages = [hostile_client.get("/code/29881").text, hostile_client.get("/", params={"q": "zebra camera"}).text]
    for html in pages:
        assert "29881" in html
        assert "<script>alert" not in html and "<img src=x" not in html and "<b onmouseover" not in html
        assert "&lt;script&gt;" in html
        assert 'href="javascript:' not in html
    assert len(re.findall(r"<script\b", pages[0])) == 1, "only the page's own script tag"


def test_suggestions_carry_page_text_as_json_strings(hostile_client: TestClient) -> None:
    body = hostile_client.get("/api/suggest", params={"q": "knee sc"}).json()
    assert body["suggestions"] and body["suggestions"][0]["code"] == "29881"
    assert hostile_client.get("/api/suggest", params={"q": "knee"}).headers["content-type"] == "application/json"


# --- new generations ----------------------------------------------------------------------------------


def test_a_reindexed_generation_is_served_without_a_restart(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SEED, pages / "seed.html")
    build_index(pages, tmp_path / "ix")
    with TestClient(create_app(tmp_path / "ix")) as client:
        assert client.get("/api/search", params={"q": "zebracorn"}).json()["hits"] == []
        assert client.get("/api/suggest", params={"q": "zebrac"}).json()["suggestions"] == []
        before = client.get("/healthz").json()["generation"]
        (pages / "new.html").write_text(
            "<h1>Zebracorn Knee Scope</h1><p>CPT code 29881</p><h2>Summary</h2><p>A zebracorn camera looks in.</p>"
        )
        report = reindex(pages, tmp_path / "ix")
        assert report.added == 1
        assert client.get("/api/search", params={"q": "zebracorn"}).json()["hits"][0]["code"] == "29881"
        assert client.get("/healthz").json()["generation"] != before
        # The completion table is rebuilt in the background; the old one answers meanwhile.
        for _ in range(600):
            suggested = client.get("/api/suggest", params={"q": "zebrac"}).json()["suggestions"]
            if suggested:
                break
            time.sleep(0.05)
        assert [s["code"] for s in suggested] == ["29881"]
    cached = {p.name for p in (tmp_path / "ix" / "completions").iterdir()}
    assert (tmp_path / "ix" / "CURRENT").read_text().strip() + ".json" in cached


def test_extra_vocabulary_abbreviations_are_suggested(
    corpus_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vocabulary = tmp_path / "mine.tsv"
    vocabulary.write_text("term\texpansions\tkind\nzqx\tspinal cord stimulator\tabbreviation\n")
    monkeypatch.setenv("PROCSEARCH_VOCABULARY", str(vocabulary))  # how serve --vocabulary reaches workers
    with TestClient(create_app(corpus_index)) as client:
        suggestions = client.get("/api/suggest", params={"q": "zqx"}).json()["suggestions"]
    assert suggestions and suggestions[0]["text"] == "spinal cord stimulator (ZQX)"
