"""The one duplicate rule, and the one skip record with its named reasons."""

from __future__ import annotations

import pytest
from procsearch.ingest.duplicates import Duplicates
from procsearch.ingest.errors import PageSkipped, StrictModeError
from procsearch.ingest.skips import SkippedPage, SkipReason, check_strict


def test_the_path_that_sorts_first_keeps_the_code() -> None:
    rule = Duplicates()
    assert rule.admit("a.html", "63685", True, "") is None
    assert rule.admit("b.html", "63685", True, "") == SkippedPage(
        "b.html", SkipReason.DUPLICATE_CODE, "63685 is also in a.html, which is kept"
    )


def test_a_new_file_that_sorts_first_takes_the_code_from_its_holder() -> None:
    rule = Duplicates({"63685": "m.html"})
    skip = rule.admit("a.html", "63685", True, "")
    assert skip == SkippedPage("m.html", SkipReason.DUPLICATE_CODE, "63685 is also in a.html, which is kept")
    assert rule.codes["63685"] == "a.html"


def test_the_same_canonical_url_is_one_page_whatever_its_trailing_slash() -> None:
    rule = Duplicates()
    assert rule.admit("a/intro.html", "knee-intro", False, "https://example.org/knee/") is None
    skip = rule.admit("b/copy.html", "knee-copy", False, "https://example.org/knee")
    assert skip is not None and skip.reason == SkipReason.DUPLICATE_PAGE and skip.source == "b/copy.html"
    assert skip.detail == "the same canonical URL as a/intro.html, which is kept"


def test_pages_without_a_code_that_share_an_id_are_one_page() -> None:
    rule = Duplicates()
    rule.admit("a.html", "knee", False, "")
    skip = rule.admit("b.html", "knee", False, "")
    assert skip == SkippedPage("b.html", SkipReason.DUPLICATE_PAGE, "the same id knee as a.html, which is kept")


def test_a_raised_skip_becomes_the_one_record_and_strict_mode_fails_on_it() -> None:
    record = SkippedPage.of(PageSkipped(SkipReason.EMPTY, "e.html"))
    assert record.to_dict() == {"source": "e.html", "reason": "empty file", "detail": ""}
    check_strict([record], strict=False)
    check_strict([], strict=True)
    with pytest.raises(StrictModeError, match=r"1 page\(s\) skipped.*e.html: empty file"):
        check_strict([record], strict=True)
