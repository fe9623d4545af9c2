"""The error root, remedies and the exit-code table: every library error subclasses
ProcsearchError, the library names no command, and the CLI renders each remedy as the command
to run and exits with the documented code."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from procsearch.corpus import bundled_corpus
from procsearch.index.build import MISSING, OUTDATED, build_index, ensure_index
from procsearch.index.errors import (
    BuildWorkerError,
    DeletionLimitError,
    DiskFullError,
    IndexDamagedError,
    IndexLockedError,
    IndexMissingError,
    IndexUnsafeError,
    IndexVersionError,
    RollbackError,
)
from procsearch.index.store import META, current_generation
from procsearch.ingest.errors import PageSkipped, SourceUnavailableError, StrictModeError
from procsearch.search.engine import SearchEngine
from procsearch.search.errors import NotFoundError, QueryError
from procsearch.server.errors import ServerError

from procsearch.cli import EXIT_DISK_FULL, EXIT_ERROR, EXIT_INDEX, EXIT_LOCKED, EXIT_OK, cli
from procsearch.cli.errors import EXIT_CODES, cli_error, exit_code, remedy_advice, remedy_command
from procsearch.errors import (
    ACTIONS,
    BUILD,
    LIST_GENERATIONS,
    REBUILD,
    REINDEX,
    RETRY,
    ROLLBACK,
    SEARCH,
    ProcsearchError,
    Remedy,
    UsageError,
)

IX = Path("/srv/ix")


@pytest.fixture()
def small_corpus(tmp_path: Path, fixtures: Path) -> Path:
    corpus = tmp_path / "pages"
    corpus.mkdir()
    for name in ("seed-63685.html", "variants-47562.html"):
        (corpus / name).write_bytes((fixtures / name).read_bytes())
    return corpus


ERRORS_AND_CODES = [
    (IndexLockedError("busy", remedies=[Remedy(RETRY, IX)]), EXIT_LOCKED),
    (DiskFullError(IX, free=10, needed=10**6), EXIT_DISK_FULL),
    (IndexMissingError("No index.", remedies=[Remedy(BUILD, IX)]), EXIT_INDEX),
    (IndexVersionError("old", remedies=[Remedy(REBUILD, IX)]), EXIT_INDEX),
    (IndexDamagedError("damaged", remedies=[Remedy(ROLLBACK, IX), Remedy(REBUILD, IX)]), EXIT_INDEX),
    (IndexUnsafeError("others can write it"), EXIT_INDEX),
    (BuildWorkerError("an index worker process died"), EXIT_ERROR),
    (RollbackError("nothing to roll back to"), EXIT_ERROR),
    (DeletionLimitError(IX, serving=10, deleting=9, remaining=1, limit=5), EXIT_ERROR),
    (QueryError("bad query"), EXIT_ERROR),
    (NotFoundError("no such code", remedies=[Remedy(SEARCH, IX, query="99999")]), EXIT_ERROR),
    (PageSkipped("empty file", "a.html"), EXIT_ERROR),
    (StrictModeError("1 page(s) skipped"), EXIT_ERROR),
    (SourceUnavailableError("not installed"), EXIT_ERROR),
    (UsageError("unknown source 'x'"), EXIT_ERROR),
    (ServerError("address in use"), EXIT_ERROR),
    (FileNotFoundError(2, "No such file or directory", "q.tsv"), EXIT_ERROR),
]


@pytest.mark.parametrize(("error", "code"), ERRORS_AND_CODES, ids=lambda value: type(value).__name__)
def test_each_library_error_has_its_exit_code(error: Exception, code: int) -> None:
    assert exit_code(error) == code
    rendered = cli_error(error)
    assert rendered is not None and rendered.exit_code == code
    assert "procsearch" not in str(error) or isinstance(error, OSError), "library messages name no command"


@pytest.mark.parametrize("error", [ValueError("x"), KeyError("k"), RuntimeError("bug"), TypeError("t")])
def test_anything_else_is_a_bug_not_a_clean_user_error(error: Exception) -> None:
    assert exit_code(error) is None and cli_error(error) is None


def test_every_library_error_class_subclasses_the_root() -> None:
    for error, _ in ERRORS_AND_CODES:
        assert isinstance(error, (ProcsearchError, OSError)), type(error)
    assert issubclass(UsageError, ValueError), "callers that caught ValueError still do"
    assert EXIT_CODES[-2][0] is ProcsearchError, "the root comes after every more specific class"


@pytest.mark.parametrize(
    ("remedy", "lead", "command"),
    [
        (Remedy(BUILD, IX), "Build it with: ", "procsearch --index /srv/ix index [CORPUS_DIR]"),
        (Remedy(REBUILD, IX), "Rebuild with: ", "procsearch --index /srv/ix index --rebuild CORPUS_DIR"),
        (
            Remedy(REBUILD, IX, Path("/srv/pages"), ("pages", "icd10pcs")),
            "Rebuild with: ",
            "procsearch --index /srv/ix index --rebuild --source pages --source icd10pcs /srv/pages",
        ),
        (Remedy(ROLLBACK, IX), "Roll back with: ", "procsearch --index /srv/ix rollback"),
        (
            Remedy(ROLLBACK, IX, generation="gen-2"),
            "Serve gen-2 again with: ",
            "procsearch --index /srv/ix rollback --to gen-2",
        ),
        (Remedy(REINDEX, IX, Path("/srv/pages")), "Reindex with: ", "procsearch --index /srv/ix reindex /srv/pages"),
        (Remedy(LIST_GENERATIONS, IX), "List them with: ", "procsearch --index /srv/ix generations"),
        (
            Remedy(SEARCH, IX, query="knee pain"),
            "Search for it with: ",
            "procsearch --index /srv/ix search 'knee pain'",
        ),
    ],
    ids=lambda value: value.action if isinstance(value, Remedy) else None,
)
def test_each_remedy_is_rendered_as_the_command_to_run(remedy: Remedy, lead: str, command: str) -> None:
    assert remedy_command(remedy) == command
    assert remedy_advice([remedy]) == lead + command
    error = cli_error(ProcsearchError("Something is wrong.", remedies=[remedy]))
    assert error is not None and error.message == f"Something is wrong. {lead}{command}"


def test_every_action_has_a_rendering_and_plain_words() -> None:
    for action in ACTIONS:
        remedy = Remedy(action, IX, query="x")
        assert remedy_advice([remedy]) and remedy.describe()
        assert "procsearch" not in remedy.describe() and "--" not in remedy.describe()
    with pytest.raises(ValueError, match="unknown remedy action"):
        Remedy("reboot", IX)


def test_remedies_join_in_order_and_waiting_names_the_option() -> None:
    both = remedy_advice([Remedy(ROLLBACK, IX), Remedy(REBUILD, IX)])
    assert (
        both
        == "Roll back with: procsearch --index /srv/ix rollback; or rebuild with: procsearch --index /srv/ix index --rebuild CORPUS_DIR"
    )
    assert remedy_advice([Remedy(RETRY, IX)]) == "Try again later or raise --lock-timeout."
    assert (
        remedy_command(Remedy(REBUILD, Path("/my index")))
        == "procsearch --index '/my index' index --rebuild CORPUS_DIR"
    )


def test_the_library_message_says_the_remedy_in_plain_words(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError) as caught:
        current_generation(tmp_path / "none")
    assert str(caught.value) == f"No index at {tmp_path / 'none'}. To fix: build it from a folder of pages."
    assert caught.value.index_path == tmp_path / "none"


def test_a_remedy_survives_pickling_as_errors_cross_worker_processes() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(IndexDamagedError("damaged", remedies=[Remedy(ROLLBACK, IX)])))
    assert error.remedies == (Remedy(ROLLBACK, IX),) and error.message == "damaged"
    skip = pickle.loads(pickle.dumps(PageSkipped("empty file", "a.html")))
    assert (skip.reason, skip.source) == ("empty file", "a.html")


# --- through the command line ---------------------------------------------------------------------


def invoke(*args: object) -> object:
    return CliRunner().invoke(cli, [str(arg) for arg in args])


def test_an_unknown_generation_names_the_command_that_lists_them(corpus_index: Path) -> None:
    result = invoke("--index", corpus_index, "rollback", "--to", "gen-nonesuch")
    assert result.exit_code == EXIT_ERROR, result.output
    assert f"List them with: procsearch --index {corpus_index} generations" in result.stderr


def test_an_unknown_code_names_the_search_to_run(corpus_index: Path) -> None:
    result = invoke("--index", corpus_index, "show", "99999")
    assert result.exit_code == EXIT_ERROR, result.output
    assert f"Search for it with: procsearch --index {corpus_index} search 99999" in result.stderr


def test_bad_weights_are_a_user_error_not_a_bug(corpus_index: Path) -> None:
    result = invoke("--index", corpus_index, "search", "knee", "--weights", "nosuchfield=2")
    assert result.exit_code == EXIT_ERROR, result.output
    assert result.stderr.startswith("Error: unknown field 'nosuchfield'") and "unexpected" not in result.stderr


def test_an_index_from_another_version_exits_5_naming_the_rebuild(small_corpus: Path, tmp_path: Path) -> None:
    import json

    index = tmp_path / "ix"
    build_index(small_corpus, index)
    meta_path = current_generation(index) / META
    meta_path.write_text(json.dumps({**json.loads(meta_path.read_text()), "schema_version": 999}))
    from procsearch.index.manifest import PUBLISHED, write_manifest

    (index / PUBLISHED).write_text(json.dumps({meta_path.parent.name: write_manifest(meta_path.parent)}))
    result = invoke("--index", index, "search", "knee")
    assert result.exit_code == EXIT_INDEX, result.output
    assert f"Rebuild with: procsearch --index {index} index --rebuild" in result.stderr


def test_ensure_index_says_why_it_builds(small_corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    reasons: list[str] = []
    assert ensure_index(index, small_corpus, building=reasons.append) is not None
    assert ensure_index(index, small_corpus, building=reasons.append) is None  # current: nothing to do
    (current_generation(index) / META).unlink()
    assert ensure_index(index, small_corpus, building=reasons.append) is not None
    assert reasons == [MISSING, OUTDATED]


@pytest.mark.slow
def test_a_crashed_build_worker_exits_1_and_the_served_index_is_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from procsearch.index import writing as build
    from procsearch.ingest.pages import load_pages

    index = tmp_path / "ix"
    build_index(bundled_corpus(), index)
    served = current_generation(index)
    # A parallel build (as of a large corpus), whose forked workers really die.
    monkeypatch.setattr(build, "PARALLEL_THRESHOLD", 100)
    monkeypatch.setattr(build, "MAX_WORKERS", 2)
    monkeypatch.setattr(
        build, "CHUNK_CHARS", sum(build._text_size(doc) for doc in load_pages(bundled_corpus()).docs) // 4 + 1
    )
    monkeypatch.setattr(build, "_write_segment", lambda *args: os._exit(9))
    result = invoke("--index", index, "index", bundled_corpus())
    assert result.exit_code == EXIT_ERROR, result.output
    assert re.search(
        r"an index worker (process died|ended without sending its segment); nothing was published", result.stderr
    )
    assert "damaged" not in result.stderr
    assert current_generation(index) == served
    with SearchEngine(index) as engine:
        assert engine.search("spinal cord stimulator", limit=1).codes
    assert invoke("--index", index, "verify").exit_code == EXIT_OK


def test_verify_names_the_reindex_for_a_drifted_folder_as_text_and_json(small_corpus: Path, tmp_path: Path) -> None:
    import json

    import jsonschema

    index = tmp_path / "ix"
    build_index(small_corpus, index)
    (small_corpus / "knee.html").write_text(
        "<html><body><h1>Knee scope</h1><p>A camera looks inside.</p></body></html>"
    )
    command = f"procsearch --index {index} reindex {small_corpus}"
    result = invoke("--index", index, "verify", small_corpus)
    assert result.exit_code == EXIT_ERROR, result.output
    assert f"Fix: reindex with: {command}" in result.stderr
    result = invoke("--index", index, "verify", small_corpus, "--json")
    data = json.loads(result.stdout)
    assert data["fix"] == f"reindex with: {command}"
    assert data["remedies"] == [Remedy(REINDEX, index, small_corpus).to_dict()]
    schema = json.loads((Path(__file__).parent.parent / "procsearch" / "output.schema.json").read_text())
    jsonschema.validate(data, {**schema, "$ref": "#/$defs/verify_report"})


def test_a_rebuild_names_the_folder_unless_it_is_the_default_index_of_the_sample_pages() -> None:
    from procsearch.index.store import default_index_path

    # The sample pages are the default folder: rebuilding a user's index without its folder
    # would read them instead of the user's pages.
    assert remedy_command(Remedy(REBUILD, default_index_path())).endswith("index --rebuild")
    assert remedy_command(Remedy(REINDEX, IX)) == "procsearch --index /srv/ix reindex CORPUS_DIR"
    assert remedy_command(Remedy(REBUILD, IX, sources=("icd10pcs",))).endswith("index --rebuild --source icd10pcs")
