"""The search-side commands (search, show, stats, eval) as a user runs them: output, JSON, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from procsearch.search.engine import SearchEngine

from procsearch.cli import EXIT_ERROR


def _json_lines(output: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in output.splitlines()]


# --- --batch ---------------------------------------------------------------------------------------


def test_batch_lines_carry_their_line_number_and_comments_are_skipped(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    batch = tmp_path / "queries.txt"
    batch.write_text("# lay words\nknee replacement\n\n   \n#63685\n63685\n", encoding="utf-8")
    result = run("search", "--batch", str(batch), "--json", "--limit", "1")
    assert result.exit_code == 0, result.output
    records = _json_lines(result.stdout)
    assert [(r["line"], r["query"]) for r in records] == [(2, "knee replacement"), (6, "63685")]
    assert records[1]["hits"][0]["code"] == "63685"


def test_a_bad_line_gives_its_error_record_and_the_batch_goes_on(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    batch = tmp_path / "queries.txt"
    batch.write_bytes(b"knee\n*a*\nbad \xff byte\nspinal tap\n")
    result = run("search", "--batch", str(batch), "--json", "--limit", "1")
    assert result.exit_code == EXIT_ERROR
    records = _json_lines(result.stdout)
    assert [r["line"] for r in records] == [1, 2, 3, 4]
    assert records[0]["hits"] and records[3]["hits"]
    assert "works only at the end of a word" in records[1]["error"] and records[1]["exit_code"] == 1
    assert records[2]["error"] == "line 3 is not valid UTF-8 (byte 0xff at column 5)"
    assert records[2]["query"] == "bad \ufffd byte"
    text = run("search", "--batch", str(batch), "--limit", "1")
    assert text.exit_code == EXIT_ERROR
    assert "Error in line 3 ('bad \ufffd byte'): line 3 is not valid UTF-8" in text.stderr
    assert text.stdout.count("# ") == 2  # the two good queries ran


def test_an_unexpected_failure_of_one_line_does_not_end_the_batch(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Fault injection: one line's search raises what no library error covers (a bug)."""
    search = SearchEngine.search

    def failing(self: SearchEngine, query: str, **options: object):  # type: ignore[no-untyped-def]
        if query == "boom":
            raise RuntimeError("injected")
        return search(self, query, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(SearchEngine, "search", failing)
    batch = tmp_path / "queries.txt"
    batch.write_text("knee\nboom\nhip\n", encoding="utf-8")
    result = run("search", "--batch", str(batch), "--json", "--limit", "1")
    assert result.exit_code == EXIT_ERROR
    records = _json_lines(result.stdout)
    assert [r["line"] for r in records] == [1, 2, 3]
    assert records[1]["error"].startswith("unexpected RuntimeError: injected")


def test_batch_from_stdin(run) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "--batch", "-", "--json", "--limit", "1", input=b"\xef\xbb\xbfknee\n")
    assert result.exit_code == 0, result.output
    assert _json_lines(result.stdout)[0]["query"] == "knee"


def test_json_output_is_valid_utf8_for_an_argument_that_is_not(run) -> None:  # type: ignore[no-untyped-def]
    """A byte that is not UTF-8 in an argument reaches Python as a lone surrogate (surrogateescape)."""
    result = run("search", "knee\udcff", "--json", "--limit", "1")
    assert result.exit_code == 0, result.output
    result.stdout_bytes.decode("utf-8")  # strict
    assert json.loads(result.stdout)["query"] == "knee\ufffd"


# --- show ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        ("similar", "- 63688 Revision or removal of a spinal neurostimulator pulse generator or receiver"),
        ("related", "- 63650 Percutaneous placement of spinal cord stimulator electrode leads"),
        ("names", "SCS battery replacement"),
        ("title", "Spinal Cord Stimulator Pulse Generator (Battery) Implantation or Replacement"),
    ],
)
def test_show_prints_every_section_the_error_message_lists(run, section: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    result = run("show", "63685", "--section", section)
    assert result.exit_code == 0, result.output
    assert expected in result.stdout.splitlines()


def test_index_is_accepted_after_the_command_too(run, corpus_index: Path) -> None:  # type: ignore[no-untyped-def]
    for args in (["search", "knee", "--index", str(corpus_index)], ["stats", "--index", str(corpus_index)]):
        result = run(*args, index=None)
        assert result.exit_code == 0, result.output
    result = run("show", "63685", "--index", str(corpus_index / "nowhere"), index=None)
    assert result.exit_code == 5 and "nowhere" in result.stderr  # the one after the command is used


# --- filters and notices ---------------------------------------------------------------------------


def test_group_and_system_ignore_case(run) -> None:  # type: ignore[no-untyped-def]
    outputs = [
        run("search", "colonoscopy", "--json", *option).stdout
        for option in (["--group", "Digestive"], ["--group", "digestive"], ["--group", "DIGESTIVE", "--system", "cpt"])
    ]
    hits = [[hit["code"] for hit in json.loads(output)["hits"]] for output in outputs]
    assert hits[0] and hits[0] == hits[1] == hits[2]


def test_an_unknown_group_is_answered_with_the_groups_of_the_index(run) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "colonoscopy", "--group", "digest")
    assert result.exit_code == EXIT_ERROR
    assert result.stderr.startswith(
        "Error: Unknown group 'digest'. Groups in this index: Anesthesia, Cardiovascular, Digestive,"
    )
    assert "check the spelling" not in result.stderr


def test_a_query_of_stop_words_says_so(run) -> None:  # type: ignore[no-untyped-def]
    from procsearch.search.engine import STOP_WORDS_NOTICE

    result = run("search", "the and of")
    assert result.exit_code == 0
    assert STOP_WORDS_NOTICE in result.stderr and "check the spelling" not in result.stderr
    assert json.loads(run("search", "the and of", "--json").stdout)["notices"] == [STOP_WORDS_NOTICE]
    assert json.loads(run("search", "the knee", "--json").stdout)["notices"] == []


def test_a_search_out_of_time_with_nothing_found_says_so(corpus_index: Path) -> None:
    from procsearch.search.engine import PARTIAL_NOTICE, TIMED_OUT_NOTICE

    with SearchEngine(corpus_index, time_budget=0.0) as hurried:
        results = hurried.search('"spinal cord"')
    assert results.hits == () and results.notices == (TIMED_OUT_NOTICE,) and PARTIAL_NOTICE not in results.notices


def test_an_icd10pcs_code_in_an_index_of_pages_says_how_to_add_them(run, corpus_index: Path) -> None:  # type: ignore[no-untyped-def]
    expected = [
        "The index holds no ICD-10-PCS codes: rebuild the index with its pages and icd10pcs documents "
        "(needs procsearch[icd10pcs]).",
        f"Rebuild with: procsearch --index {corpus_index} index --rebuild --source pages --source icd10pcs CORPUS_DIR",
    ]
    for args in (["0DTJ4ZZ"], ["knee", "--system", "ICD-10-PCS"], ["pcs:0DTJ*"]):
        result = run("search", *args)
        assert result.exit_code == 0, result.output
        lines = result.stderr.splitlines()
        assert lines[lines.index(expected[0]) + 1] == expected[1] and "check the spelling" not in result.stderr, args
    # The library says it in words (no command lines), and carries the remedy as data.
    with SearchEngine(corpus_index) as engine:
        results = engine.search("0DTJ4ZZ")
    assert results.notices == (expected[0],) and "procsearch" not in results.notices[0].replace("procsearch[", "")
    assert [remedy.to_dict()["sources"] for remedy in results.remedies] == [["pages", "icd10pcs"]]
    assert "ICD-10-PCS" not in run("search", "63685").stderr


def test_search_offset_pages_past_the_first_results(run) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "knee", "--limit", "3", "--offset", "2")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].startswith(" 3. ")
    assert "(3-5 of 17 results; --offset 5 for the next ones)" in result.stderr
    assert json.loads(run("search", "knee", "--offset", "2", "--json").stdout)["offset"] == 2


def test_a_search_loads_neither_the_html_parser_nor_the_index_builder(corpus_index: Path, tmp_path: Path) -> None:
    """What a cold ``procsearch search`` costs is mostly imports: a search of a built index never
    needs BeautifulSoup, the builder or process pools (they load only when an index is built)."""
    import os
    import shutil
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from procsearch.cli import cli\n"
        "result = CliRunner().invoke(cli, ['search', 'knee', '--limit', '1'])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in ('bs4', 'procsearch.index.build', 'procsearch.ingest.parse', 'multiprocessing',"
        " 'concurrent.futures') if m in sys.modules))\n"
    )
    # The default index (no --index), which is checked before anything is built.
    shutil.copytree(corpus_index, tmp_path / "cache" / "procsearch" / "index")
    env = {key: value for key, value in os.environ.items() if key != "PROCSEARCH_INDEX"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_an_offset_past_the_last_result_says_how_many_there_are(run) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "knee", "--offset", "900")
    assert result.exit_code == 0
    assert re.search(r"No results past 900: 'knee' has \d+\.", result.stderr), result.stderr
    assert "check the spelling" not in result.stderr
