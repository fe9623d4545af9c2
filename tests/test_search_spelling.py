"""Typo correction (search/spelling.py): a misspelt word becomes the closest word the index holds;
codes, short words, known words and field names are left as typed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from procsearch.index.store import current_generation, open_whoosh
from procsearch.search.spelling import Speller, correct_text, edit_distance


@pytest.fixture(scope="module")
def speller(corpus_index: Path) -> Iterator[Speller]:
    ix: Any = open_whoosh(current_generation(corpus_index))
    with ix.reader() as reader:
        yield Speller(reader)
    ix.close()


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("colonscopy", "colonoscopy"),  # a letter left out
        ("stimualtor", "stimulator"),  # two letters swapped
        ("arthroplastey", "arthroplasty"),  # a letter too many
        ("cateract", "cataract"),  # a wrong letter
    ],
)
def test_a_misspelling_is_corrected_to_the_word_the_index_holds(speller: Speller, typed: str, meant: str) -> None:
    text, corrections = correct_text(f"{typed} surgery", speller)
    assert text == f"{meant} surgery"
    assert [(c.word, c.suggestion) for c in corrections] == [(typed, meant)]


def test_words_the_index_holds_and_words_nothing_is_close_to_are_left_alone(speller: Speller) -> None:
    assert correct_text("knee replacement", speller) == ("knee replacement", ())
    assert correct_text("zzyzxqwv", speller) == ("zzyzxqwv", ())


def test_codes_short_words_and_vocabulary_words_are_never_changed(speller: Speller) -> None:
    assert correct_text("63685 0DTJ4ZZ g0121", speller)[1] == ()
    assert correct_text("kne", speller)[1] == ()  # shorter than five letters
    assert correct_text("colonscopy", speller, known={"colonscopy"})[1] == ()


def test_a_field_prefix_is_kept_and_its_word_corrected(speller: Speller) -> None:
    text, corrections = correct_text("risks:infecton", speller)
    assert text == "risks:infection"
    assert [c.to_dict() for c in corrections] == [{"word": "infecton", "suggestion": "infection"}]


def test_the_case_a_word_was_typed_in_does_not_stop_its_correction(speller: Speller) -> None:
    assert correct_text("Colonscopy", speller)[0] == "colonoscopy"


def test_a_swap_of_two_letters_is_one_edit() -> None:
    assert edit_distance("stimualtor", "stimulator") == 1
    assert edit_distance("colonscopy", "colonoscopy") == 1
    assert edit_distance("knee", "knee") == 0
    assert edit_distance("abc", "xyz") == 3
