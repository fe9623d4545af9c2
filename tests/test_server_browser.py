"""The web page in a real browser: Playwright driving the system Chromium against a real uvicorn server.

Playwright's own browser download cannot work offline, so the tests use the Debian package's
Chromium (``apt-get install -y chromium``; ``.ci/run`` installs it) and skip where it is absent.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: install it with 'apt-get install -y chromium'", allow_module_level=True)
pytest.importorskip("uvicorn", reason="needs the serve extra: pip install '.[serve]'")
sync_api = pytest.importorskip("playwright.sync_api", reason="needs Playwright: pip install '.[test]'")

import uvicorn  # noqa: E402
from procsearch.index.build import build_index  # noqa: E402
from procsearch.server.app import create_app  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000
"""How long Playwright waits for an element (a bound on a stuck page, not a speed target)."""

pytestmark = pytest.mark.slow
sync_api.expect.set_options(timeout=TIMEOUT_MS)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(index: Path) -> Iterator[str]:
    """A real uvicorn server over ``index`` in a thread, for as long as the block runs."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(index), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(600):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def base_url(corpus_index: Path) -> Iterator[str]:
    with serve(corpus_index) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(f"{msg.text} {msg.location}") if msg.type == "error" else None)
    yield page
    context.close()
    assert errors == [], "no script errors or CSP violations"


def test_type_choose_search_and_open_a_code(page, base_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The issue's walk-through; its screenshots are left in the test's temporary folder."""
    page.goto(base_url + "/")
    box = page.get_by_role("combobox", name="Search procedures and codes")
    box.press_sequentially("spinal cord stim", delay=30)
    listbox = page.get_by_role("listbox")
    sync_api.expect(listbox).to_be_visible()
    sync_api.expect(listbox.get_by_role("option").filter(has_text="63685")).to_have_count(1)
    sync_api.expect(box).to_have_attribute("aria-expanded", "true")
    sync_api.expect(page.locator("#suggest-status")).to_contain_text("suggestions")
    page.screenshot(path=str(tmp_path / "suggest.png"))

    box.press("Enter")  # no option chosen: a plain search
    page.wait_for_url(re.compile(r"/\?q=spinal\+cord\+stim"))
    hits = page.locator("li.hit")
    sync_api.expect(hits.first).to_be_visible()
    sync_api.expect(page.locator(".snippet .label", has_text="Summary:").first).to_be_visible()
    sync_api.expect(page.locator("li.hit mark").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "results.png"))

    page.locator("a.hit-title", has_text="63685").click()
    page.wait_for_url(base_url + "/code/63685")
    headings = page.locator("section.section > h2")
    sync_api.expect(headings).to_have_count(13)
    assert headings.first.inner_text() == "Summary"
    sync_api.expect(page.locator(".similar a", has_text="63688")).to_be_visible()
    sync_api.expect(page.locator(".similar", has_text="(not in the index)")).to_be_visible()
    page.screenshot(path=str(tmp_path / "code.png"), full_page=True)


def test_keyboard_moves_through_suggestions_and_escape_closes(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/")
    box = page.get_by_role("combobox")
    box.press_sequentially("636", delay=30)
    options = page.get_by_role("option")
    sync_api.expect(options).to_have_count(3)
    box.press("ArrowDown")
    sync_api.expect(options.nth(0)).to_have_attribute("aria-selected", "true")
    box.press("ArrowDown")
    sync_api.expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    sync_api.expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    assert box.get_attribute("aria-activedescendant") == options.nth(1).get_attribute("id")
    box.press("ArrowUp")
    box.press("ArrowUp")  # wraps to the last
    sync_api.expect(options.nth(2)).to_have_attribute("aria-selected", "true")
    box.press("Escape")
    sync_api.expect(page.get_by_role("listbox")).to_be_hidden()
    sync_api.expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("8", delay=30)  # 6368: 63685 and 63688
    sync_api.expect(options).to_have_count(2)
    box.press("ArrowDown")
    box.press("Enter")  # a chosen option opens its code page
    page.wait_for_url(base_url + "/code/63685")


def test_a_suggestion_opens_with_the_mouse(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/")
    page.get_by_role("combobox").press_sequentially("lap chol", delay=30)
    page.get_by_role("option").filter(has_text="47562").click()
    page.wait_for_url(base_url + "/code/47562")


def test_search_works_with_javascript_off(browser, base_url: str) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(base_url + "/")
    page.get_by_role("combobox").fill("knee replacement")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/\?q=knee\+replacement"))
    sync_api.expect(page.locator("a.hit-title", has_text="27447")).to_be_visible()
    page.locator(".facets a", has_text="CPT").click()
    page.wait_for_url(re.compile(r"system=CPT"))
    sync_api.expect(page.locator("li.hit").first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no sideways scrolling at phone width"
    context.close()


HOSTILE = """<!DOCTYPE html><html><head><title>x</title></head><body>
<h1>&lt;script&gt;alert('title')&lt;/script&gt; Knee &quot;&gt;&lt;img src=x onerror=alert(1)&gt; scope</h1>
<p class="code-label">CPT code <strong>29881</strong></p>
<h2>Summary</h2><p>A zebra camera &lt;script&gt;alert(2)&lt;/script&gt; looks inside the knee.</p>
<h2>&lt;img src=x onerror=alert(3)&gt; Odd heading</h2><p>&lt;b onmouseover=alert(4)&gt;bold&lt;/b&gt;</p>
<h2>Similar Codes</h2><ul><li><a href="javascript:alert(5)">29880</a> - javascript:alert(6)</li></ul>
</body></html>"""


def test_hostile_page_text_runs_no_script(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "hostile.html").write_text(HOSTILE, encoding="utf-8")
    build_index(tmp_path / "pages", tmp_path / "ix")
    with serve(tmp_path / "ix") as url:
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url + "/?q=zebra+camera")
        sync_api.expect(page.locator("a.hit-title")).to_contain_text("<script>alert('title')</script>")
        page.get_by_role("combobox").fill("")
        page.get_by_role("combobox").press_sequentially("knee sc", delay=30)
        sync_api.expect(page.get_by_role("option").first).to_contain_text("<script>")
        page.goto(url + "/code/29881")
        sync_api.expect(page.locator("h1")).to_contain_text("<img src=x onerror=alert(1)>")
        page.locator("h1").hover()
        page.locator("p", has_text="onmouseover").hover()
        assert page.locator("img").count() == 0 and page.locator("b").count() == 0
        assert page.locator("a[href^='javascript:']").count() == 0
        assert dialogs == []
        context.close()


def test_why_this_result_explains_a_hit_and_a_code_below_the_page(page, base_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/?q=spinal+cord+stimulator")
    first = page.locator("li.hit").first
    sync_api.expect(first).to_contain_text("63685")
    first.get_by_role("link", name="Why this result?").click()
    page.wait_for_url(re.compile(r"/why\?q=spinal\+cord\+stimulator&code=63685"))
    sync_api.expect(page.get_by_role("heading", level=1)).to_contain_text("is #1 for")
    shares = page.locator("table.shares tbody tr")
    sync_api.expect(shares.first).to_be_visible()
    sync_api.expect(shares.first.locator("meter")).to_be_visible()
    sync_api.expect(page.locator("table.terms tbody tr", has_text="typed").first).to_be_visible()
    sync_api.expect(page.get_by_text("The parts add up to")).to_be_visible()
    page.screenshot(path=str(tmp_path / "why.png"), full_page=True)

    page.get_by_label("Why isn't another code here?").fill("27447")
    page.get_by_role("button", name="Explain").click()
    page.wait_for_url(re.compile(r"code=27447"))
    sync_api.expect(page.get_by_role("heading", level=1)).to_contain_text("27447")
    sync_api.expect(page.get_by_text("below the page (ranks 1 to 10)")).to_be_visible()
    sync_api.expect(page.get_by_text("It lacks:")).to_be_visible()
    page.get_by_role("link", name=re.compile("Back to the results")).click()
    page.wait_for_url(re.compile(r"/\?q=spinal\+cord\+stimulator"))
    sync_api.expect(page.locator("li.hit").first).to_contain_text("63685")


def test_the_icd10pcs_reading_shows_above_the_results(page, small_pcs_index: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with serve(small_pcs_index) as url:
        page.goto(url + "/?q=laparoscopic+appendectomy")
        reading = page.locator("#reading")
        sync_api.expect(reading).to_be_visible()
        sync_api.expect(reading).to_contain_text("Read as:")
        axes = reading.get_by_role("list", name="Read as:").get_by_role("listitem")
        sync_api.expect(axes.first).to_contain_text("root operation")
        sync_api.expect(axes.filter(has_text="body part")).to_have_text("body part Appendix")
        sync_api.expect(axes.filter(has_text="approach")).to_contain_text("Percutaneous Endoscopic")
        separator = axes.nth(1).evaluate("item => getComputedStyle(item, '::before').content")
        assert "·" in separator, "the axes are set apart on screen (and the separator is not read out)"
        page.screenshot(path=str(tmp_path / "reading.png"))
        line, first = reading.bounding_box(), page.locator("li.hit").first.bounding_box()
        assert line is not None and first is not None and line["y"] + line["height"] <= first["y"], "above the results"
