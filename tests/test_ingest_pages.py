from __future__ import annotations

import os
from pathlib import Path

import pytest
from procsearch.ingest.pages import find_pages, load_pages
from procsearch.ingest.skips import SkipReason

PAGE = """<html><head><meta charset="{charset}"><title>t</title></head><body>
<h1>{title}</h1><p>CPT code {code}</p><h2>Summary</h2><p>{summary}</p></body></html>"""


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def page(code: str, title: str = "Knee replacement", summary: str = "A new knee joint.", charset: str = "utf-8") -> str:
    return PAGE.format(code=code, title=title, summary=summary, charset=charset)


def test_bad_files_are_skipped_with_reasons_and_the_run_goes_on(tmp_path: Path) -> None:
    write(tmp_path, "good.html", page("27447"))
    write(tmp_path, "empty.html", b"")
    write(tmp_path, "image.html", b"\x89PNG\r\n\x1a\n" + os.urandom(1500))
    write(tmp_path, "report.pdf", b"%PDF-1.7\n" + os.urandom(500))
    write(tmp_path, "noise.html", os.urandom(1500).replace(b"<", b"x"))
    write(tmp_path, "big.html", page("27130") + " " * 3000)
    write(tmp_path, "nothing.html", "<html><body><nav>Home</nav></body></html>")
    batch = load_pages(tmp_path, max_bytes=2000)
    assert [doc.code for doc in batch.docs] == ["27447"]
    reasons = {skip.source: skip.reason for skip in batch.skipped}
    assert reasons == {
        "big.html": SkipReason.TOO_LARGE,
        "empty.html": SkipReason.EMPTY,
        "image.html": SkipReason.NOT_HTML,
        "noise.html": SkipReason.NOT_HTML,
        "nothing.html": SkipReason.NO_TITLE_OR_CONTENT,
        "report.pdf": SkipReason.NOT_HTML,
    }


def test_duplicate_codes_keep_the_first_path_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, "b/knee.html", page("27447", title="Second copy"))
    write(tmp_path, "a/knee.html", page("27447", title="First copy"))
    batch = load_pages(tmp_path)
    assert [doc.title for doc in batch.docs] == ["First copy"]
    (skip,) = batch.skipped
    assert (skip.source, skip.reason) == ("b/knee.html", SkipReason.DUPLICATE_CODE)
    assert "a/knee.html" in skip.detail


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            page("27447", summary="Caf\u00e9 \u2013 r\u00e9sum\u00e9").encode("utf-8"),
            "Caf\u00e9 \u2013 r\u00e9sum\u00e9",
        ),
        (b"\xef\xbb\xbf" + page("27447", summary="na\u00efve").encode("utf-8"), "na\u00efve"),
        (
            page("27447", summary="Caf\u00e9 \u2013 \u201cok\u201d", charset="windows-1252").encode("cp1252"),
            "Caf\u00e9 \u2013 \u201cok\u201d",
        ),
        (page("27447", summary="Caf\u00e9 \u2013 ok", charset="utf-8").encode("cp1252"), "Caf\u00e9 \u2013 ok"),
        (page("27447", summary="r\u00e9sum\u00e9").encode("utf-16"), "r\u00e9sum\u00e9"),
        (
            page("27447", summary="A \u00e9 B").encode("utf-8").replace(b"B</p>", "\u2013 B</p>".encode("cp1252")),
            "A \u00e9 \u2013 B",
        ),
    ],
    ids=["utf8", "utf8-bom", "cp1252-meta", "cp1252-wrong-meta", "utf16-bom", "mixed-utf8-cp1252"],
)
def test_encodings_never_produce_mojibake(tmp_path: Path, data: bytes, expected: str) -> None:
    write(tmp_path, "p.html", data)
    (doc,) = load_pages(tmp_path).docs
    assert doc.sections["summary"] == expected
    assert "\u00c3" not in doc.sections["summary"]


def test_symlinks_outside_the_corpus_are_not_read_and_loops_end(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    outside = tmp_path / "outside"
    write(corpus, "in.html", page("27447"))
    write(outside, "secret.html", page("27130"))
    (corpus / "link-out.html").symlink_to(outside / "secret.html")
    (corpus / "dir-out").symlink_to(outside, target_is_directory=True)
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)
    (corpus / "alias.html").symlink_to(corpus / "in.html")
    names = [p.name for p in find_pages(corpus)]
    assert "secret.html" not in names and "link-out.html" not in names
    assert [doc.code for doc in load_pages(corpus).docs] == ["27447"]


def test_many_pages_are_parsed_in_parallel_with_the_same_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for number in range(30):
        write(tmp_path, f"p{number:02}.html", page(f"{27400 + number}", title=f"Procedure {number}"))
    write(tmp_path, "p05-copy.html", page("27405", title="Copy"))
    write(tmp_path, "empty.html", b"")
    monkeypatch.setattr("procsearch.ingest.pages.PARALLEL_PAGES", 10**6)
    serial = load_pages(tmp_path)
    monkeypatch.setattr("procsearch.ingest.pages.PARALLEL_PAGES", 2)
    monkeypatch.setattr("procsearch.ingest.pages.os.cpu_count", lambda: 2)
    seen: list[tuple[str, int, int]] = []
    parallel = load_pages(tmp_path, progress=lambda phase, done, total: seen.append((phase, done, total)))
    assert parallel.docs == serial.docs and len(parallel.docs) == 30
    assert [(s.source, s.reason, s.detail) for s in parallel.skipped] == [
        (s.source, s.reason, s.detail) for s in serial.skipped
    ]
    assert {s.reason for s in parallel.skipped} == {SkipReason.EMPTY, SkipReason.DUPLICATE_CODE}
    assert seen == [("reading pages", done, 32) for done in range(1, 33)]


def bad_entries(folder: Path) -> dict[str, str]:
    """One page, and one of each entry that used to stop a run or vanish silently; returns the
    skip reason expected for each entry, by displayed name."""
    write(folder, "good.html", page("27447"))
    (folder / "loop-a.html").symlink_to(folder / "loop-b.html")
    (folder / "loop-b.html").symlink_to(folder / "loop-a.html")
    (folder / "self.html").symlink_to(folder / "self.html")
    (folder / "dangling.html").symlink_to(folder / "missing.html")
    write(folder, os.fsdecode(b"caf\xe9.html"), page("27130"))
    os.mkfifo(folder / "x.html")
    write(folder, "evil\nskipped good.html: forged.html", b"")
    return {
        "caf\\xe9.html": SkipReason.NAME_NOT_UTF8,
        "dangling.html": SkipReason.BROKEN_LINK,
        "evil\nskipped good.html: forged.html": SkipReason.EMPTY,
        "loop-a.html": SkipReason.LINK_LOOP,
        "loop-b.html": SkipReason.LINK_LOOP,
        "self.html": SkipReason.LINK_LOOP,
        "x.html": SkipReason.NOT_REGULAR_FILE,
    }


def test_link_loops_fifos_and_undecodable_names_are_skips_and_the_run_goes_on(tmp_path: Path) -> None:
    expected = bad_entries(tmp_path)
    batch = load_pages(tmp_path)
    assert [doc.code for doc in batch.docs] == ["27447"]
    assert {skip.source: skip.reason for skip in batch.skipped} == expected
    assert next(s for s in batch.skipped if s.source == "x.html").detail == "FIFO"


@pytest.mark.parametrize("command", ["index", "reindex"])
def test_the_cli_lists_each_bad_entry_on_one_escaped_line(command: str, tmp_path: Path) -> None:
    from support.reindex import run_cli

    from procsearch.cli import EXIT_SKIPPED

    corpus = tmp_path / "pages"
    corpus.mkdir()
    expected = bad_entries(corpus)
    index = tmp_path / "ix"
    if command == "reindex":
        assert run_cli("--index", index, "index", corpus).returncode == EXIT_SKIPPED
    result = run_cli("--index", index, command, corpus)
    assert result.returncode == EXIT_SKIPPED, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(expected), lines
    assert "skipped evil\\nskipped good.html: forged.html: empty file" in lines
    assert "skipped caf\\xe9.html: file name is not UTF-8" in lines
    assert not any(line.startswith("skipped good.html") for line in lines)


def test_reindex_skips_an_oversized_file_before_reading_it(tmp_path: Path) -> None:
    """A sparse 3 GB file: the size limit applies to the opened file before a byte is read, so a
    re-index that may map 1.5 GB of memory in all still ends, reporting the file as too large."""
    import resource
    import subprocess

    from support.reindex import CLI_CWD, CLI_ENV, PROCSEARCH

    from procsearch.cli import EXIT_SKIPPED

    corpus = tmp_path / "pages"
    write(corpus, "good.html", page("27447"))
    index = tmp_path / "ix"
    from procsearch.index.build import build_index

    build_index(corpus, index)
    with open(corpus / "huge.html", "wb") as handle:
        handle.truncate(3 * 1024**3)

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024**2, resource.RLIM_INFINITY))

    for command in ("reindex", "verify"):
        result = subprocess.run(
            [*PROCSEARCH, "--index", str(index), command, str(corpus)],
            capture_output=True,
            text=True,
            env=CLI_ENV,
            cwd=CLI_CWD,
            preexec_fn=limit_memory,
            timeout=120,
        )
        assert "Traceback" not in result.stderr and "unexpected" not in result.stderr, result.stderr
        if command == "reindex":
            assert result.returncode == EXIT_SKIPPED, result.stderr
            assert "skipped huge.html: file too large (3,221,225,472 bytes; the limit is 5,242,880)" in result.stderr
        else:
            assert result.returncode == 0, result.stdout + result.stderr


def test_page_bytes_come_with_their_hash_and_within_the_limit(tmp_path: Path) -> None:
    from procsearch.ingest.errors import PageSkipped
    from procsearch.ingest.pages import read_page_bytes

    path = write(tmp_path, "p.html", page("27447"))
    data, digest = read_page_bytes(path)
    import hashlib

    assert data == path.read_bytes() and digest == hashlib.sha256(data).hexdigest()
    with pytest.raises(PageSkipped, match=SkipReason.TOO_LARGE):
        read_page_bytes(path, max_bytes=len(data) - 1)


FLIPPER = """
import os, sys
folder, secret, page = sys.argv[1], sys.argv[2], sys.argv[3].encode()
while True:
    with open(os.path.join(folder, ".page"), "wb") as handle:
        handle.write(page)
    os.replace(os.path.join(folder, ".page"), os.path.join(folder, "x.html"))
    os.symlink(secret, os.path.join(folder, ".link"))
    os.replace(os.path.join(folder, ".link"), os.path.join(folder, "x.html"))
"""


def test_a_link_swapped_in_after_the_scan_never_indexes_a_file_outside(tmp_path: Path) -> None:
    """Another process flips ``x.html`` between a page and a link to a file outside the folder
    as fast as it can, while the folder is read again and again: the outside file is never read
    (each run sees the page, or skips the link)."""
    import subprocess
    import sys

    from procsearch.index.changes import read_files

    corpus, outside = tmp_path / "corpus", tmp_path / "outside"
    write(corpus, "a.html", page("27447"))
    secret = write(outside, "secret.html", page("99999", title="Secret"))
    hip = page("27130", title="Hip")
    write(corpus, "x.html", hip)
    seen: set[str] = set()
    flipper = subprocess.Popen([sys.executable, "-c", FLIPPER, str(corpus), str(secret), hip])
    try:
        for _ in range(60):
            codes = {doc.code for doc in load_pages(corpus).docs}
            hashed = {file.data for file in read_files(corpus, keep=lambda source, digest: True).values()}
            assert "99999" not in codes and secret.read_bytes() not in hashed
            seen |= codes
    finally:
        flipper.kill()
        flipper.wait()
    assert "27447" in seen


def test_a_link_that_leaves_the_folder_after_the_scan_is_not_followed(tmp_path: Path) -> None:
    from procsearch.ingest.errors import PageSkipped
    from procsearch.ingest.pages import read_page, scan_pages

    corpus = tmp_path / "corpus"
    write(corpus, "in.html", page("27447"))
    secret = write(tmp_path / "outside", "secret.html", page("99999"))
    (corpus / "alias.html").symlink_to(corpus / "in.html")
    (alias,) = (p for p in scan_pages(corpus).paths if p.name == "alias.html")
    assert read_page(alias, root=corpus).code == "27447"
    (corpus / "alias.html").unlink()
    (corpus / "alias.html").symlink_to(secret)
    with pytest.raises(PageSkipped, match=SkipReason.LINK_LEAVES_FOLDER):
        read_page(alias, root=corpus)


def test_rendered_text_pages_are_indexed(tmp_path: Path, fixtures: Path) -> None:
    """The seed page as rendered text (.txt), and the same text as Markdown (.md): each is a page."""
    from procsearch.ingest.sections import SECTION_NAMES

    text = (fixtures / "procedure-page-63685.txt").read_bytes()
    write(tmp_path, "procedure-page-63685.txt", text)
    write(tmp_path, "md/knee.md", "# Total knee replacement\n\nCPT code 27447\n\n## Summary\n\nA new knee joint.\n")
    write(tmp_path, "README.txt", "Pages scraped in May.")
    batch = load_pages(tmp_path)
    assert batch.skipped == []
    knee, seed = batch.docs  # in path order: md/knee.md first
    assert (seed.code, seed.source) == ("63685", "procedure-page-63685.txt")
    assert set(seed.sections) == set(SECTION_NAMES)
    assert "pulse generator" in seed.sections["summary"]
    assert seed.common_names[0] == "Spinal Neurostimulator Implant"
    assert (knee.code, knee.sections["summary"]) == ("27447", "A new knee joint.")
