"""Site boilerplate and unique ids depend on the whole set of pages: a re-index that reads only
the changed pages must reach the same records as a full build of the same final set."""

from __future__ import annotations

import shutil
from pathlib import Path

from procsearch.index.build import build_index
from procsearch.index.changes import indexed_pages
from procsearch.index.store import current_generation
from procsearch.index.update import reindex
from procsearch.ingest.skips import SkipReason
from procsearch.search.engine import SearchEngine
from test_ingest_markup import BODIES, PROMO, write_site


def records(index: Path) -> dict[str, dict[str, object]]:
    """source -> the stored record, as JSON, of every page document the index serves."""
    pages = indexed_pages(current_generation(index))
    with SearchEngine(index) as engine:
        return {source: engine.get(code).to_dict() for source, (code, _hash) in sorted(pages.items())}


def full_build(folder: Path, scratch: Path) -> dict[str, dict[str, object]]:
    index = scratch / "full"
    shutil.rmtree(index, ignore_errors=True)
    build_index(folder, index)
    return records(index)


def test_reindex_finds_and_forgets_site_boilerplate_like_a_full_build(tmp_path: Path) -> None:
    site = tmp_path / "site"
    names = list(BODIES)
    write_site(site, {name: BODIES[name] for name in names[:3]}, promo=PROMO)
    index = tmp_path / "ix"
    build_index(site, index)
    assert all("Join our program" in record["other"] for record in records(index).values())  # type: ignore[operator]

    # Two more pages: the promotion is now on most pages of the site, so it is furniture on all
    # five, the three unchanged ones included.
    write_site(site, {name: BODIES[name] for name in names[3:]}, promo=PROMO)
    report = reindex(site, index)
    assert (report.added, report.updated) == (2, 3)
    after = records(index)
    assert after == full_build(site, tmp_path)
    assert not any("Join our program" in record["other"] for record in after.values())  # type: ignore[operator]

    # Back to three pages: it is the pages' own text again.
    for name in names[3:]:
        (site / f"{name}.html").unlink()
    reindex(site, index)
    assert records(index) == full_build(site, tmp_path)

    # Nothing changed: nothing is read again.
    report = reindex(site, index)
    assert (report.added, report.updated, report.deleted) == (0, 0, 0)


def test_reindex_gives_clashing_ids_the_longer_form_a_full_build_gives(tmp_path: Path) -> None:
    corpus = tmp_path / "pages"
    (corpus / "adult").mkdir(parents=True)
    (corpus / "child").mkdir()
    page = "<html><body><main><h1>Colonoscopy</h1><p>{}</p></main></body></html>"
    (corpus / "adult" / "colonoscopy.html").write_text(page.format("An exam of the large intestine for adults."))
    index = tmp_path / "ix"
    build_index(corpus, index)
    assert [record["code"] for record in records(index).values()] == ["colonoscopy"]

    (corpus / "child" / "colonoscopy.html").write_text(page.format("How children are prepared for the exam."))
    reindex(corpus, index)
    after = records(index)
    assert [record["code"] for record in after.values()] == ["adult-colonoscopy", "child-colonoscopy"]
    assert after == full_build(corpus, tmp_path)


def test_reindex_treats_two_files_with_one_canonical_url_as_one_page_like_a_full_build(tmp_path: Path) -> None:
    corpus = tmp_path / "pages"
    corpus.mkdir()
    page = (
        "<html><head><link rel='canonical' href='https://clinic.example/knee'></head><body><h1>Knee scope</h1>"
        "<p>CPT code {code}</p><h2>Summary</h2><p>A camera looks inside the knee.</p></body></html>"
    )
    (corpus / "b.html").write_text(page.format(code="29880"))
    index = tmp_path / "ix"
    build_index(corpus, index)
    (corpus / "a.html").write_text(page.format(code="29881"))
    report = reindex(corpus, index, max_delete=1)  # a.html sorts first: it replaces b.html
    assert [(skip.source, skip.reason) for skip in report.skipped] == [("b.html", SkipReason.DUPLICATE_PAGE)]
    assert records(index) == full_build(corpus, tmp_path)
