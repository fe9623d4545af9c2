"""The index on disk as an attacker or a failing disk leaves it: files rewritten in place with a
payload, crafted postings, files others can write or own, damage of the same size, lost pointers.

Each test opens the index the way a user does (SearchEngine, the CLI) and checks that nothing
stored in it runs, and that damage ends in the damage error and its remedy (exit 5)."""

from __future__ import annotations

import gc
import io
import json
import os
import pickle
import pickletools
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from procsearch.index.build import build_index
from procsearch.index.errors import IndexDamagedError, IndexUnsafeError
from procsearch.index.manifest import MANIFEST, PUBLISHED
from procsearch.index.store import CURRENT, current_generation, generations, open_whoosh
from procsearch.index.update import reindex
from procsearch.search.engine import SearchEngine
from whoosh.filedb.structfile import StructFile

from procsearch.cli import EXIT_INDEX, EXIT_OK
from procsearch.errors import REBUILD, ROLLBACK, Remedy

FIXTURES = Path(__file__).parent / "fixtures"
PAGES = ("seed-63685.html", "variants-47562.html", "missing-sections-99213.html")
CLI_ENV = {k: v for k, v in os.environ.items() if not k.startswith("PROCSEARCH_")}


def run_cli(*args: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "procsearch.cli", *map(str, args)],
        capture_output=True,
        text=True,
        env=CLI_ENV,
        cwd=Path(__file__).parent,
        timeout=120,
    )
    assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, result.stderr
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A corpus folder and an index of two generations (a re-index added a page)."""
    root = tmp_path_factory.mktemp("store")
    corpus = root / "pages"
    corpus.mkdir()
    for name in PAGES[:2]:
        shutil.copy(FIXTURES / name, corpus / name)
    index = root / "ix"
    build_index(corpus, index)
    shutil.copy(FIXTURES / PAGES[2], corpus / PAGES[2])
    reindex(corpus, index)
    assert len(generations(index)) == 2
    return corpus, index


@pytest.fixture()
def index(built: tuple[Path, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "ix"
    shutil.copytree(built[1], copy)
    return copy


@pytest.fixture()
def corpus(built: tuple[Path, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "pages"
    shutil.copytree(built[0], copy)
    return copy


class Payload:
    """A pickle that, when loaded by a plain unpickler, creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.marker}",))


def payload(marker: Path, protocol: int = 2) -> bytes:
    return pickle.dumps(Payload(marker), protocol)


def toc_offsets(toc: Path) -> tuple[int, int]:
    """Where the pickled schema and the pickled segment list start in a table of contents
    (the layout whoosh/index.py TOC.read reads)."""
    stream = StructFile(io.BytesIO(toc.read_bytes()))
    for _ in range(3):
        stream.read_varint()
    stream.read_int()  # -12345
    stream.read_int()  # version
    for _ in range(3):
        stream.read_varint()
    length = stream.read_varint()
    schema_at = stream.tell()
    stream.seek(length, 1)
    stream.read_int()  # generation
    stream.read_int()  # unused
    return schema_at, stream.tell()


def overwrite(path: Path, offset: int, data: bytes) -> None:
    """Rewrite bytes in place: the file keeps its size (and its inode)."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)
    assert path.stat().st_size == size


def postings_block(generation: Path) -> tuple[Path, int, bytes]:
    """A postings file, the offset of a block header in it (a term whose postings are not inlined
    in the terms file), and that term."""
    ix = open_whoosh(generation)
    try:
        with ix.reader() as reader:
            _df, fieldname, text = max(
                (reader.doc_frequency(f, t), f, t) for f, t in reader.all_terms() if f == "summary"
            )
            info = reader.term_info(fieldname, text)
            assert info._inlined is None
            ((leaf, _),) = [(leaf, o) for leaf, o in reader.leaf_readers() if leaf.doc_frequency(fieldname, text)]
            name = leaf.segment().make_filename(".pst")
            return generation / name, info._offset + 4, text  # after the block's length
    finally:
        ix.close()


def refused_everywhere(index: Path, corpus: Path, marker: Path, *, expect: str) -> None:
    """search, show, stats, verify, reindex: exit 5 with ``expect`` in the message; nothing ran."""
    for args in (["search", "stimulator"], ["show", "63685"], ["stats"], ["verify"], ["reindex", corpus]):
        result = run_cli("--index", index, *args)
        assert result.returncode == EXIT_INDEX, (args, result.stderr)
        assert expect in result.stderr, (args, result.stderr)
        assert not marker.exists(), f"{args}: the payload ran"


# --- 1. nothing stored in an index runs -----------------------------------------------------------


@pytest.mark.parametrize("where", ["schema", "segments"])
def test_a_toc_rewritten_in_place_with_a_payload_is_refused_and_never_runs(
    where: str, index: Path, corpus: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    generation = current_generation(index)
    (toc,) = generation.glob("_MAIN_*.toc")
    schema_at, segments_at = toc_offsets(toc)
    overwrite(toc, schema_at if where == "schema" else segments_at, payload(marker))

    with pytest.raises(IndexDamagedError, match=r"_MAIN_\d+\.toc does not match its checksum") as caught:
        SearchEngine(index)
    assert [r.action for r in caught.value.remedies] == [ROLLBACK, REBUILD] and caught.value.index_path == index
    refused_everywhere(index, corpus, marker, expect="does not match its checksum")
    # Read past the checksums (as a plain Whoosh open would): the restricted unpickler refuses it.
    from procsearch.index.unpickler import install
    from whoosh import index as whoosh_index

    install()
    with warnings.catch_warnings():  # Whoosh leaves the file of a TOC it fails to read open (TOC.read)
        warnings.simplefilter("ignore", ResourceWarning)
        with pytest.raises(pickle.UnpicklingError, match="refused to load posix.system"):
            whoosh_index.open_dir(str(generation), readonly=True)
        gc.collect()
    assert not marker.exists()

    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_OK, result.stderr
    with SearchEngine(index) as engine:
        assert engine.search("stimulator").codes


def test_a_crafted_postings_block_header_never_runs(
    index: Path, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from procsearch.index import manifest

    monkeypatch.setattr(manifest, "OPEN_CHECK_BYTES", 0)  # as on a large index: postings are not hashed at open
    marker = tmp_path / "ran"
    generation = current_generation(index)
    postings, offset, term = postings_block(generation)
    overwrite(postings, offset, payload(marker, protocol=4))

    with (
        SearchEngine(index) as engine,
        pytest.raises(IndexDamagedError, match=rf"{postings.name} does not match its checksum") as caught,
    ):
        engine.search(term.decode())
    assert caught.value.remedies[0] == Remedy(ROLLBACK, index)
    assert not marker.exists()
    result = run_cli("--index", index, "verify")
    assert result.returncode == EXIT_INDEX and "does not match its checksum" in result.stderr, result.stderr
    assert not marker.exists()


def test_the_unpickler_admits_every_class_of_the_procsearch_schema() -> None:
    from procsearch.index.schema import build_schema
    from procsearch.index.unpickler import ALLOWED, restricted_loads

    data = pickle.dumps(build_schema(), 2)  # as Whoosh writes it in the table of contents
    named = {tuple(arg.split(" ", 1)) for op, arg, _ in pickletools.genops(data) if op.name == "GLOBAL"}
    assert named <= ALLOWED, sorted(named - ALLOWED)
    assert set(restricted_loads(data).names()) == set(build_schema().names())


# --- 1. files others can write or own ---------------------------------------------------------------


def test_a_file_others_can_write_is_refused(index: Path, corpus: Path, tmp_path: Path) -> None:
    (toc,) = current_generation(index).glob("_MAIN_*.toc")
    toc.chmod(0o666)
    with pytest.raises(IndexUnsafeError, match=rf"{toc.name}: it is writable by other users"):
        SearchEngine(index)
    refused_everywhere(index, corpus, tmp_path / "ran", expect="writable by other users")
    # A rollback sets the generation aside and serves the earlier one, whose files are all safe.
    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_OK, result.stderr
    assert run_cli("--index", index, "search", "stimulator").returncode == EXIT_OK


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="changing a file's owner needs root")
def test_a_file_of_another_owner_is_refused_with_the_chown_remedy(index: Path, corpus: Path, tmp_path: Path) -> None:
    postings = next(current_generation(index).glob("*.pst"))
    os.chown(postings, 4321, -1)
    with pytest.raises(IndexUnsafeError, match="owned by another user") as caught:
        SearchEngine(index)
    assert "chown" in str(caught.value) and "chmod" not in str(caught.value)
    refused_everywhere(index, corpus, tmp_path / "ran", expect="owned by another user")


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="changing a file's owner needs root")
def test_an_index_directory_of_another_owner_is_refused_by_every_command(index: Path, corpus: Path) -> None:
    os.chown(index, 4321, -1)
    for args in (["search", "stimulator"], ["verify"], ["reindex", corpus], ["rollback"], ["index", corpus]):
        result = run_cli("--index", index, *args)
        assert result.returncode == EXIT_INDEX, (args, result.stderr)
        assert "owned by another user" in result.stderr and "chown" in result.stderr, (args, result.stderr)
        assert "chmod" not in result.stderr


def test_a_world_writable_index_directory_is_refused_by_verify_reindex_and_rollback(index: Path, corpus: Path) -> None:
    before = (index / CURRENT).read_text()
    index.chmod(0o777)
    for args in (["verify"], ["reindex", corpus], ["rollback"]):
        result = run_cli("--index", index, *args)
        assert result.returncode == EXIT_INDEX, (args, result.stderr)
        assert "writable by other users" in result.stderr, (args, result.stderr)
    assert (index / CURRENT).read_text() == before and len(generations(index)) == 2


def test_rollback_never_serves_a_generation_this_index_did_not_publish(index: Path, tmp_path: Path) -> None:
    current = current_generation(index)
    (older,) = [g for g in generations(index) if g != current]
    # Another generation, complete and self-consistent, planted under a name that sorts in between:
    planted = index / (older.name[:-1] + "~")
    shutil.copytree(older, planted)
    published = json.loads((index / PUBLISHED).read_text())
    assert planted.name not in published
    # ... and the real older generation's manifest rewritten (its checksums no longer as published).
    manifest = older / MANIFEST
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(data, indent=2))

    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_INDEX, result.stderr
    assert "No earlier generation" in result.stderr
    assert current_generation(index) == current


# --- 2. damage of the same size -------------------------------------------------------------------


def flip(path: Path, offset: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        byte = handle.read(1)
        handle.seek(offset)
        handle.write(bytes([byte[0] ^ 0xFF]))


def test_verify_finds_a_flipped_byte_anywhere_in_any_file(index: Path) -> None:
    from procsearch.index.verify import verify_index

    pristine = index.with_name("pristine")
    shutil.copytree(index, pristine)
    generation = current_generation(index).name
    names = sorted(p.name for p in (index / generation).iterdir() if p.name != MANIFEST and p.stat().st_size)
    missed = []
    for name in names:
        size = (index / generation / name).stat().st_size
        for offset in sorted({0, size // 2, size - 1}):
            shutil.rmtree(index)
            shutil.copytree(pristine, index)
            flip(index / generation / name, offset)
            report = verify_index(index)
            if not report.damaged or report.remedies[0].action != ROLLBACK:
                missed.append((name, offset))
    assert missed == []


def test_a_flipped_byte_in_the_stored_fields_is_damage_when_searching_and_showing(
    index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from procsearch.index import manifest

    stored = max(current_generation(index).glob("*._stored.col"), key=lambda p: p.stat().st_size)  # 63685's
    flip(stored, stored.stat().st_size - 1)
    for args in (["show", "63685"], ["search", "stimulator"]):
        result = run_cli("--index", index, *args)
        assert result.returncode == EXIT_INDEX, (args, result.stderr)
        assert "_stored.col does not match its checksum" in result.stderr and "rollback" in result.stderr
    # On a large index the stored fields are not hashed at open: reading them finds the damage.
    monkeypatch.setattr(manifest, "OPEN_CHECK_BYTES", 0)
    with SearchEngine(index) as engine:
        with pytest.raises(IndexDamagedError, match="_stored.col does not match its checksum.*roll back") as caught:
            engine.get("63685")
        assert caught.value.remedies[0] == Remedy(ROLLBACK, index)
        with pytest.raises(IndexDamagedError, match="roll back to the previous generation"):
            engine.search("stimulator")


# --- 4. damage shared by hard links; lost or damaged pointers ----------------------------------------


def test_damage_in_a_segment_shared_by_hard_link_is_never_carried_forward(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "linked"  # built here: a copy of an index does not keep its hard links
    (corpus / PAGES[2]).rename(tmp_path / PAGES[2])
    build_index(corpus, index)
    (tmp_path / PAGES[2]).rename(corpus / PAGES[2])
    reindex(corpus, index)
    current = current_generation(index)
    shared = max((p for p in current.glob("MAIN_*") if p.stat().st_nlink > 1), key=lambda p: p.stat().st_size)
    flip(shared, shared.stat().st_size // 2)
    (corpus / "new.html").write_text((FIXTURES / "seed-63685.html").read_text().replace("63685", "63686"))

    result = run_cli("--index", index, "reindex", corpus)
    assert result.returncode == EXIT_INDEX, result.stderr
    assert f"{shared.name} does not match its checksum" in result.stderr
    assert "no earlier generation reads cleanly either" in result.stderr and "index --rebuild" in result.stderr
    assert "rollback" not in result.stderr, "a rollback cannot help: both generations share the file"
    assert current_generation(index) == current and len(generations(index)) == 2
    result = run_cli("--index", index, "search", "stimulator")
    assert result.returncode == EXIT_INDEX and "no earlier generation reads cleanly" in result.stderr
    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_INDEX and "No earlier generation" in result.stderr
    result = run_cli("--index", index, "index", "--rebuild", corpus)
    assert result.returncode == EXIT_OK, result.stderr
    assert run_cli("--index", index, "verify").returncode == EXIT_OK


def test_with_current_deleted_rollback_serves_the_newest_good_generation(index: Path) -> None:
    newest = current_generation(index)
    (index / CURRENT).unlink()
    result = run_cli("--index", index, "search", "stimulator")
    assert result.returncode == EXIT_INDEX, result.stderr
    assert f"{index / CURRENT} is missing" in result.stderr and f"procsearch --index {index} rollback" in result.stderr
    result = run_cli("--index", index, "rollback")
    assert result.returncode == EXIT_OK, result.stderr
    assert current_generation(index) == newest and len(generations(index)) == 2


@pytest.mark.parametrize("pointer", ["gen-00000000000000000000-1\n", "\x00" * 31, "../elsewhere\n"])
def test_a_damaged_current_is_answered_with_the_rollback_remedy(index: Path, pointer: str) -> None:
    newest = current_generation(index)
    (index / CURRENT).write_text(pointer)
    result = run_cli("--index", index, "search", "stimulator")
    assert result.returncode == EXIT_INDEX, result.stderr
    assert f"procsearch --index {index} rollback" in result.stderr
    assert run_cli("--index", index, "rollback").returncode == EXIT_OK
    assert current_generation(index) == newest


def test_a_long_lived_engine_keeps_serving_when_current_is_lost(index: Path) -> None:
    with SearchEngine(index) as engine:
        served = engine.stats().generation
        (index / CURRENT).write_text("gen-that-is-not-there\n")
        assert engine.search("stimulator").codes and engine.stats().generation == served
        (index / CURRENT).unlink()
        assert engine.search("stimulator").codes and engine.stats().generation == served


# --- 5. a slow reader ---------------------------------------------------------------------------------


def test_a_reader_slow_between_current_and_opening_retries_on_the_new_generation(
    index: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two re-indexes publish while the reader is stalled after reading CURRENT: the generation it
    read is gone by the time it opens it, so it reads CURRENT again instead of reporting damage."""
    from procsearch.index import store

    original = store.open_generation
    stalled: list[Path] = []

    def slow_open(index_path: Path, generation: Path):  # type: ignore[no-untyped-def]
        if not stalled:
            stalled.append(generation)
            for number in range(2):
                page = (FIXTURES / "seed-63685.html").read_text().replace("63685", f"6369{number}")
                (corpus / f"extra-{number}.html").write_text(page)
                reindex(corpus, index_path)
        return original(index_path, generation)

    monkeypatch.setattr(store, "open_generation", slow_open)
    with SearchEngine(index) as engine:
        assert not stalled[0].exists(), "the generation the reader first read was removed"
        assert engine.stats().generation == current_generation(index).name != stalled[0].name
        assert {"63690", "63691"} <= set(engine.search("stimulator", limit=20).codes)


# --- 6. one writer at a time ----------------------------------------------------------------------------

LOCK_HOLDER = r"""
import sys
from pathlib import Path
from procsearch.index.lock import writer_lock

with writer_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()  # hold the lock until the test closes stdin
"""


def test_deleting_lock_files_never_lets_a_second_writer_in(index: Path, corpus: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(index)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        # What an operator clearing a "stale lock" would delete: there is no lock file to delete.
        for path in [*index.rglob("*lock*"), *index.rglob("*LOCK*")]:
            path.unlink()
        result = run_cli("--index", index, "reindex", corpus, "--lock-timeout", "0")
        assert result.returncode == 4, result.stderr
        assert "Another procsearch process is writing the index" in result.stderr
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()  # type: ignore[union-attr]
    assert run_cli("--index", index, "reindex", corpus).returncode == EXIT_OK


def test_clean_up_never_deletes_the_working_folder_of_a_live_writer(index: Path, corpus: Path) -> None:
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        working = index / f"tmp-{'9' * 20}-{live.pid}"
        working.mkdir()
        (corpus / "new.html").write_text((FIXTURES / "seed-63685.html").read_text().replace("63685", "63686"))
        assert run_cli("--index", index, "reindex", corpus).returncode == EXIT_OK
        assert working.is_dir(), "the working folder of a running writer was removed"
    finally:
        assert live.stdin is not None
        live.stdin.close()
        live.wait(timeout=30)
    (corpus / "new.html").unlink()
    assert run_cli("--index", index, "reindex", corpus).returncode == EXIT_OK
    assert not working.exists(), "the working folder of a dead writer is a leftover"


def test_two_first_searches_build_the_default_index_once(tmp_path: Path) -> None:
    env = {**CLI_ENV, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    command = [sys.executable, "-m", "procsearch.cli", "search", "stimulator", "--limit", "1"]
    searches = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
        for _ in range(2)
    ]
    outputs = [search.communicate(timeout=120) for search in searches]
    assert [search.returncode for search in searches] == [0, 0], outputs
    assert all("63685" in out for out, _ in outputs), outputs
    builds = sum(err.count("Indexed 140 pages") for _, err in outputs)
    assert builds == 1, outputs


# --- 7. verify reports progress and a verdict -----------------------------------------------------------


def test_verify_reports_progress_through_the_callback_and_ends_with_a_verdict(index: Path) -> None:
    from procsearch.index.verify import verify_index

    calls: list[tuple[str, int, int]] = []
    report = verify_index(index, progress=lambda phase, done, total: calls.append((phase, done, total)))
    assert not report.damaged
    phases = list(dict.fromkeys(phase for phase, _, _ in calls))
    assert phases == ["checking files", "reading documents", "reading postings"]
    for phase in phases:
        done, total = [(d, t) for p, d, t in calls if p == phase][-1]
        assert done == total > 0, (phase, done, total)

    result = run_cli("--index", index, "verify")
    assert result.returncode == EXIT_OK and result.stdout.splitlines()[-1].startswith("Sound: "), result.stdout
    flip(next(current_generation(index).glob("*.pst")), 0)
    result = run_cli("--index", index, "verify")
    assert result.returncode == EXIT_INDEX and result.stdout.splitlines()[-1].startswith("Damaged: 1 problem")
