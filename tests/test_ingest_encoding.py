"""Reading a scraped file's bytes (ingest/encoding.py, ingest/decode.py): whatever encoding the
site used, the text reads as the page showed it; a page saved as text becomes headed markup."""

from __future__ import annotations

import codecs
import hashlib

import pytest
from procsearch.ingest.decode import MAX_TAGS, page_markup, text_to_html
from procsearch.ingest.encoding import clean_text, decode_html
from procsearch.ingest.errors import PageSkipped

TEXT = "Café “open” repair – 2 cm"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (TEXT.encode("utf-8"), "UTF-8"),
        (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "a UTF-8 byte order mark"),
        (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "UTF-16 with its byte order mark"),
        (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "UTF-16 big-endian"),
        (TEXT.encode("windows-1252"), "Windows-1252, undeclared"),
        (b'<meta charset="iso-8859-1">' + TEXT.encode("windows-1252"), "Latin-1 declared, read as browsers do"),
        ("Café “open” ".encode() + "repair – 2 cm".encode("windows-1252"), "UTF-8 and Windows-1252 in one file"),
    ],
)
def test_the_text_reads_as_the_page_showed_it(data: bytes, why: str) -> None:
    text = decode_html(data)
    assert text.endswith(TEXT), why
    assert "Ã" not in text and "\ufffd" not in text, why


def test_a_declared_charset_is_used_when_the_bytes_are_not_utf8() -> None:
    data = '<meta charset="koi8-r"><p>Операция</p>'.encode("koi8-r")
    assert "Операция" in decode_html(data)


def test_control_characters_and_lone_surrogates_are_removed_but_tabs_and_newlines_kept() -> None:
    assert clean_text("a\x00b\x1bc\ud800d\te\nf\x85") == "abcd\te\nf"


def test_a_page_saved_as_text_gets_a_title_headings_list_items_and_paragraphs() -> None:
    text = (
        "Knee Replacement\nSearch all codes\nSummary\nThe knee joint is replaced.\nRisks\n• Infection\n2. Blood clots\n"
    )
    html = text_to_html(text)
    assert "<h1>Knee Replacement</h1>" in html
    assert "<h2>Summary</h2>" in html and "<h2>Risks</h2>" in html
    assert "<p>The knee joint is replaced.</p>" in html
    assert "<li>Infection</li>" in html and "<li>Blood clots</li>" in html
    assert "Search all codes" not in html  # the site's search box


def test_a_heading_glued_to_the_next_text_is_split_off() -> None:
    html = text_to_html("Title\nSimilar Codes63688 Revision of the generator")
    assert "<h2>Similar Codes</h2>" in html and "<p>63688 Revision of the generator</p>" in html


def test_text_is_escaped_when_it_becomes_markup() -> None:
    assert "<p>a &lt;b&gt; &amp; c</p>" in text_to_html("Title\na <b> & c")


def test_page_markup_keeps_markup_and_hashes_the_bytes_as_given() -> None:
    data = "<html><body><h1>Café</h1></body></html>".encode("windows-1252")
    markup, digest = page_markup(data, source="cafe.html")
    assert "<h1>Café</h1>" in markup
    assert digest == hashlib.sha256(data).hexdigest()


def test_a_page_with_too_many_tags_is_skipped_as_too_complex() -> None:
    with pytest.raises(PageSkipped) as caught:
        page_markup("<html><body>" + "<b>x</b>" * (MAX_TAGS + 1), source="huge.html")
    assert str(caught.value).startswith("huge.html: too complex")
