"""Snippets (search/snippets.py): each hit shows the part of the page where the query matched,
named by its section, with the matched words highlighted."""

from __future__ import annotations

import re
from pathlib import Path

from procsearch.search.engine import SearchEngine
from procsearch.search.results import Snippet
from procsearch.search.snippets import SNIPPET_CHARS


def _highlighted(snippet: Snippet) -> list[str]:
    return [snippet.text[start:end] for start, end in snippet.highlights]


def test_a_section_search_shows_that_section_with_the_word_highlighted(engine: SearchEngine) -> None:
    hits = engine.search("hoarseness", section="risks", limit=3).hits
    assert hits
    for hit in hits:
        assert hit.snippet is not None
        assert (hit.snippet.section, hit.snippet.label) == ("risks", "Risks and Complications")
        assert [word.lower() for word in _highlighted(hit.snippet)] == ["hoarseness"]


def test_another_form_of_the_word_is_highlighted_too(engine: SearchEngine) -> None:
    snippet = engine.search("infections", limit=1).hits[0].snippet
    assert snippet is not None
    assert all(word.lower().startswith("infection") for word in _highlighted(snippet)) and snippet.highlights


def test_highlights_cover_whole_words_of_an_excerpt(engine: SearchEngine) -> None:
    for hit in engine.search("spinal cord stimulator battery", limit=5).hits:
        snippet = hit.snippet
        assert snippet is not None and snippet.highlights
        whole = engine.get(hit.code).sections.get(snippet.section, "")
        assert len(snippet.text) < len(whole) or len(whole) <= SNIPPET_CHARS, "an excerpt of a long section"
        for start, end in snippet.highlights:
            before, after = snippet.text[start - 1 : start], snippet.text[end : end + 1]
            assert not re.match(r"\w", before) and not re.match(r"\w", after), (hit.code, snippet.text[start:end])


def test_a_hit_found_by_its_code_shows_the_start_of_its_summary(engine: SearchEngine) -> None:
    hit = engine.search("63685", limit=1).hits[0]
    assert hit.code == "63685" and hit.snippet is not None
    assert (hit.snippet.section, hit.snippet.highlights) == ("summary", ())
    summary = " ".join(engine.get("63685").sections["summary"].split())
    assert summary.startswith(hit.snippet.text.removesuffix(" ..."))


def test_a_page_listing_the_code_shows_its_similar_codes_with_the_code_highlighted(engine: SearchEngine) -> None:
    listing = [hit for hit in engine.search("63655", limit=5).hits if hit.code != "63655"]
    assert listing
    for hit in listing:
        assert hit.snippet is not None and hit.snippet.label == "Similar Codes"
        assert _highlighted(hit.snippet) == ["63655"]


def test_a_snippet_stays_within_its_length_on_every_development_query(engine: SearchEngine) -> None:
    from procsearch.search.evaluate import read_queries

    queries = read_queries(Path(__file__).resolve().parent.parent / "bench" / "queries" / "pages.tsv")
    longest = 0
    for query in queries:
        for hit in engine.search(query.query, limit=10).hits:
            if hit.snippet is not None:
                # The excerpt itself, and "... " and " ..." where it is cut.
                longest = max(longest, len(hit.snippet.text.removeprefix("... ").removesuffix(" ...")))
                assert all(hit.snippet.text[start:end].strip() for start, end in hit.snippet.highlights)
    assert 0 < longest <= SNIPPET_CHARS
