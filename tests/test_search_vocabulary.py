"""The medical vocabulary (search/vocabulary.py): what a query's words expand to, and the user's
own vocabulary files, with errors that name the file and the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from procsearch.search.vocabulary import Vocabulary, VocabularyError, load_vocabulary, words_of

HEADER = "term\texpansions\tkind\n"


def _expanded(vocabulary: Vocabulary, text: str) -> dict[str, tuple[str, ...]]:
    return {found.term: found.expansions for found in vocabulary.expand(text)}


def test_an_abbreviation_expands_to_its_meanings() -> None:
    (found,) = load_vocabulary().expand("TKA")
    assert found.kind == "abbreviation"
    assert "total knee arthroplasty" in found.expansions


def test_lay_words_expand_to_clinical_ones_and_back() -> None:
    vocabulary = load_vocabulary()
    assert "myocardial infarction" in _expanded(vocabulary, "heart attack")["heart attack"]
    assert "heart attack" in _expanded(vocabulary, "myocardial infarction")["myocardial infarction"]


def test_lay_regions_expand_to_the_names_icd10pcs_gives_them() -> None:
    # ICD-10-PCS names the thigh "Upper Leg" and the forearm "Lower Arm".
    vocabulary = load_vocabulary()
    assert "upper leg" in _expanded(vocabulary, "abscess of the thigh")["thigh"]
    assert "lower arm" in _expanded(vocabulary, "laceration of the forearm")["forearm"]
    assert "thigh bone" in _expanded(vocabulary, "thigh bone fracture")  # the longer phrase still wins


def test_clinical_action_words_expand_to_the_root_operations_coders_use() -> None:
    vocabulary = load_vocabulary()
    assert "insertion" in _expanded(vocabulary, "filter placement")["placement"]
    assert "release" in _expanded(vocabulary, "nerve decompression")["decompression"]


def test_the_longest_phrase_wins_then_the_remaining_words_expand_on_their_own() -> None:
    expanded = _expanded(load_vocabulary(), "spinal cord stimulator battery")
    assert list(expanded) == ["spinal cord stimulator", "battery"]
    assert "pulse generator" in expanded["battery"]


def test_a_clinical_word_is_read_by_its_parts() -> None:
    vocabulary = Vocabulary()
    vocabulary.add("nephr-", ["kidney"], "root")
    vocabulary.add("-ectomy", ["removal"], "suffix")
    (found,) = vocabulary.expand("nephrectomy")
    assert (found.kind, found.expansions) == ("word parts", ("kidney removal",))
    assert vocabulary.expand("ectomy") == []  # no root left to read


def test_a_users_file_adds_entries_to_the_bundled_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "mine.tsv"
    mine.write_text(HEADER + "# our shorthand\nSCSB\tspinal cord stimulator battery\tabbreviation\n", encoding="utf-8")
    assert _expanded(load_vocabulary([mine]), "scsb") == {"scsb": ("spinal cord stimulator battery",)}
    monkeypatch.setenv("PROCSEARCH_VOCABULARY", str(mine))
    vocabulary = load_vocabulary()
    assert "scsb" in _expanded(vocabulary, "scsb") and "tka" in _expanded(vocabulary, "tka")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("term\texpansion\n", "the first line must be the header"),
        (HEADER + "SCSB\n", "row 2 needs three tab-separated columns"),
        (HEADER + "SCSB\tstimulator battery\tacronym\n", "row 2: kind 'acronym' is not one of abbreviation"),
    ],
)
def test_a_broken_vocabulary_file_is_refused_naming_the_file_and_line(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "broken.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(VocabularyError, match=message) as caught:
        load_vocabulary([path], bundled=False)
    assert str(caught.value).startswith(str(path))


def test_a_missing_vocabulary_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="cannot read vocabulary file"):
        load_vocabulary([tmp_path / "nowhere.tsv"], bundled=False)


def test_words_keep_ampersands_apostrophes_and_digits() -> None:
    assert words_of("D&C and A1c, Crohn’s") == ["d&c", "and", "a1c", "crohn's"]
