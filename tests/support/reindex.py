"""Shared helpers of the index update, crash, reader, lock and damage tests: realistic synthetic
pages and corpus folders, the oracle (what a full build holds), running the CLI as a real
process, and the two-state corpus the SIGKILL tests switch between.

Everything here uses real files and, where it matters, real processes; nothing is mocked.
"""

from __future__ import annotations

import gc
import os
import random
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from procsearch.index.build import build_index
from procsearch.index.changes import indexed_pages
from procsearch.index.errors import IndexDamagedError
from procsearch.index.store import CURRENT, current_generation, generations
from procsearch.index.verify import verify_index
from procsearch.ingest.pages import load_pages
from procsearch.search.engine import SearchEngine
from whoosh import index as whoosh_index

from procsearch.cli import EXIT_SKIPPED

FIXTURES = Path(__file__).parent.parent / "fixtures"
PROCSEARCH = [sys.executable, "-m", "procsearch.cli"]
# The CLI runs as a separate process from a fixed folder, without the user's PROCSEARCH_* settings
# (an inherited PROCSEARCH_INDEX or PROCSEARCH_DEBUG would change what it does).
CLI_CWD = Path(__file__).parent.parent
CLI_ENV = {k: v for k, v in os.environ.items() if not k.startswith("PROCSEARCH_")}
CLI_TIMEOUT = 120.0
"""A bound on any one CLI run, so a hang fails the test instead of blocking the suite."""

DocSet = frozenset[tuple[str, str]]
"""What an index holds: the (code, content hash) of every page document."""


# --- realistic synthetic pages -------------------------------------------------------------------

PROCEDURES = (
    ("Arthroscopic knee meniscectomy", "knee", "Musculoskeletal system", "arthroscope"),
    ("Laparoscopic cholecystectomy", "gallbladder", "Digestive system", "laparoscope"),
    ("Carpal tunnel release", "wrist", "Nervous system", "scalpel and retractor"),
    ("Cataract extraction with lens implant", "eye", "Eye and ocular adnexa", "phacoemulsification probe"),
    ("Coronary angioplasty with stent", "heart", "Cardiovascular system", "balloon catheter"),
    ("Inguinal hernia repair", "groin", "Digestive system", "surgical mesh"),
    ("Upper endoscopy with biopsy", "stomach", "Digestive system", "flexible endoscope"),
    ("Total hip arthroplasty", "hip", "Musculoskeletal system", "prosthetic implant"),
    ("Thyroid lobectomy", "neck", "Endocrine system", "harmonic scalpel"),
    ("Lumbar epidural steroid injection", "lower back", "Nervous system", "spinal needle"),
    ("Tonsillectomy", "throat", "Respiratory system", "electrocautery"),
    ("Cystoscopy", "bladder", "Urinary system", "cystoscope"),
)
SENTENCES = (
    "The {name} treats problems of the {part} that have not improved with rest, medicines or therapy.",
    "Your surgeon uses a {tool} to reach the {part} through one or more small incisions.",
    "Most patients go home the same day; some stay one night in the hospital for observation.",
    "You may be asked to stop eating and drinking after midnight before the {name}.",
    "Tell your care team about blood thinners, allergies and any problems with anesthesia.",
    "Risks include bleeding, infection, blood clots and damage to nearby nerves or vessels.",
    "Swelling and soreness around the {part} usually settle within one to two weeks.",
    "Call your doctor for fever above 38 degrees, spreading redness or pain that gets worse.",
    "A nurse checks your breathing, pulse and blood pressure while you wake up.",
    "Physical therapy or gentle exercise helps you return to normal activity.",
    "The team reviews imaging of the {part} and your blood tests before the procedure.",
    "The incisions are closed with stitches or skin glue and covered with a dressing.",
)
SECTION_HEADINGS = (
    "Summary",
    "Purpose",
    "Indications",
    "Preparation",
    "Procedure Description",
    "Duration",
    "Setting",
    "Personnel",
    "Risks and Complications",
    "Recovery",
)


def synthetic_page(code: str, number: int, revision: int = 0) -> str:
    """A realistic procedure page (about 8 KB) for ``code``; a new revision changes its text."""
    name, part, group, tool = PROCEDURES[number % len(PROCEDURES)]
    rnd = random.Random(f"{code}-{number}-{revision}")

    def sentences(count: int) -> list[str]:
        return [rnd.choice(SENTENCES).format(name=name.lower(), part=part, tool=tool) for _ in range(count)]

    body = []
    for heading in SECTION_HEADINGS:
        items = "".join(f"<li>{s}</li>" for s in sentences(5))
        body.append(f"<h2>{heading}</h2>\n<p>{' '.join(sentences(3))}</p>\n<ul>{items}</ul>")
    title = f"{name} (variant {number}, revision {revision})"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title} - CPT {code}</title>'
        f'</head><body>\n<header><nav><a href="/">Home</a></nav></header>\n<main>\n<h1>{title}</h1>\n'
        f'<p class="code-label">CPT4 code <strong>{code}</strong></p>\n<p>Category: {group}</p>\n'
        f"<h2>Name of the Procedure:</h2>\n<p>{name}. Common names: {name.split()[-1]} surgery, "
        f"{part} procedure {number}.</p>\n" + "\n".join(body) + "\n</main></body></html>\n"
    )


def synthetic_code(number: int) -> str:
    return str(21000 + number)


def write_synthetic(
    folder: Path, number: int, revision: int = 0, *, code: str | None = None, name: str | None = None
) -> Path:
    path = folder / (name or f"proc-{synthetic_code(number)}.html")
    path.write_text(synthetic_page(code or synthetic_code(number), number, revision), encoding="utf-8")
    return path


def make_corpus(folder: Path, *, fixtures: tuple[str, ...], medlineplus: bool, synthetic: range) -> Path:
    folder.mkdir(parents=True)
    for name in fixtures:
        shutil.copy(FIXTURES / name, folder / name)
    if medlineplus:
        (folder / "medlineplus").mkdir()
        for page in sorted((FIXTURES / "medlineplus").glob("*.html")):
            shutil.copy(page, folder / "medlineplus" / page.name)
    for number in synthetic:
        write_synthetic(folder, number)
    return folder


SMALL_FIXTURES = ("seed-63685.html", "variants-47562.html", "missing-sections-99213.html", "no-code.html")


# --- helpers -------------------------------------------------------------------------------------


def expected_docs(corpus: Path) -> DocSet:
    """What a full build of ``corpus`` holds, by the full-build rules (the oracle)."""
    return frozenset((doc.code, doc.content_hash) for doc in load_pages(corpus).docs)


def doc_set(generation: Path) -> DocSet:
    return frozenset(indexed_pages(generation).values())


def served_docs(index: Path) -> DocSet:
    """Open the index the way a user does (SearchEngine) and return what it serves."""
    with SearchEngine(index) as engine:
        stats = engine.stats()
        served = doc_set(index / stats.generation)
        assert stats.document_count == len(served)
        engine.search("procedure")  # the served generation answers queries
    return served


def run_cli(*args: object, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [*PROCSEARCH, *map(str, args)], capture_output=True, text=True, env=CLI_ENV, cwd=CLI_CWD, timeout=timeout
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def assert_no_leftovers(index: Path) -> None:
    """What a successful run leaves: one pointer line naming a generation, at most two generations,
    and nothing from crashed runs."""
    assert not list(index.glob("tmp-*")), sorted(p.name for p in index.iterdir())
    assert not list(index.glob(CURRENT + ".tmp-*")), sorted(p.name for p in index.iterdir())
    assert not list(index.glob("bad-*")), sorted(p.name for p in index.iterdir())
    assert 1 <= len(generations(index)) <= 2, sorted(p.name for p in index.iterdir())
    pointer = (index / CURRENT).read_text(encoding="utf-8")
    assert pointer.endswith("\n") and pointer.count("\n") == 1, repr(pointer)
    assert (index / pointer.strip()).is_dir()


def open_damaged(index: Path) -> IndexDamagedError:
    """Open a damaged index in this process; return the error SearchEngine raises.

    Whoosh leaves a file open when it fails to read a table of contents (whoosh/index.py TOC.read);
    that leak is Whoosh's, so its ResourceWarning is collected here instead of failing a later test.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            with pytest.raises(IndexDamagedError) as caught:
                SearchEngine(index)
        finally:
            gc.collect()
    return caught.value


def segment_files(generation: Path) -> dict[str, int]:
    """Segment file name -> inode (segments are stored as separate files: postings, terms, columns)."""
    return {p.name: p.stat().st_ino for p in generation.glob("MAIN_*") if not p.name.endswith("WRITELOCK")}


def live_docs_per_segment(generation: Path) -> list[int]:
    ix = whoosh_index.open_dir(str(generation), readonly=True)
    try:
        with ix.reader() as reader:
            return [leaf.doc_count() for leaf, _offset in reader.leaf_readers()]
    finally:
        ix.close()


def newest_segment(index: Path) -> Path:
    """The segment file the last re-index wrote: the one the other generation does not have."""
    current = current_generation(index)
    others = {p.name for g in generations(index) if g != current for p in g.glob("*.pst")}
    own = [p for p in current.glob("*.pst") if p.name not in others]
    assert len(own) == 1, sorted(p.name for p in current.glob("*.pst"))
    return own[0]


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """Four fixture pages and eight synthetic ones: twelve documents, all valid."""
    return make_corpus(tmp_path / "pages", fixtures=SMALL_FIXTURES, medlineplus=False, synthetic=range(8))


@dataclass(frozen=True)
class KillCorpora:
    """Two states of one corpus folder (as two folders with the same relative paths)."""

    old: Path
    new: Path
    old_docs: DocSet
    new_docs: DocSet
    base_index: Path
    """An index built from ``old`` (copy it before writing to it)."""


@pytest.fixture(scope="module")
def kill_corpora(tmp_path_factory: pytest.TempPathFactory) -> KillCorpora:
    """The fixture pages (one of them broken) and the MedlinePlus pages, plus 150 synthetic pages;
    the new state changes 30, removes 10 and adds 15."""
    root = tmp_path_factory.mktemp("kill")
    fixtures = tuple(sorted(p.name for p in FIXTURES.glob("*.html")))
    old = make_corpus(root / "old", fixtures=fixtures, medlineplus=True, synthetic=range(150))
    new = root / "new"
    shutil.copytree(old, new)
    for number in range(30):
        write_synthetic(new, number, revision=1)
    for number in range(140, 150):
        (new / f"proc-{synthetic_code(number)}.html").unlink()
    for number in range(150, 165):
        write_synthetic(new, number)
    old_docs, new_docs = expected_docs(old), expected_docs(new)
    assert len(old_docs) != len(new_docs) and old_docs != new_docs
    base = root / "base-index"
    build_index(old, base)
    assert served_docs(base) == old_docs
    return KillCorpora(old, new, old_docs, new_docs, base)


@pytest.fixture()
def kill_index(kill_corpora: KillCorpora, tmp_path: Path) -> Path:
    index = tmp_path / "ix"
    shutil.copytree(kill_corpora.base_index, index)
    return index


def check_after_crash(index: Path, corpora: KillCorpora, what: str) -> DocSet:
    """The index opens, serves exactly the old or exactly the new documents, and reads cleanly."""
    served = served_docs(index)
    assert served in (corpora.old_docs, corpora.new_docs), (
        f"{what}: the index serves neither state ({len(served)} documents: "
        f"{len(served - corpora.old_docs)} not in the old state, {len(served - corpora.new_docs)} not in the new)"
    )
    report = verify_index(index)
    assert not report.damaged, f"{what}: {report.damage}"
    return served


def next_run_recovers(index: Path, corpora: KillCorpora, what: str) -> None:
    """The next (default, lock-timeout 0) run succeeds, cleans up, and serves the old state."""
    result = run_cli("--index", index, "reindex", corpora.old)
    assert result.returncode == EXIT_SKIPPED, f"{what}: {result.stderr}"
    skipped = [line for line in result.stderr.splitlines() if line.startswith("skipped ")]
    assert skipped == ["skipped no-title.html: no title and no recognisable content"], f"{what}: {result.stderr}"
    assert_no_leftovers(index)
    assert served_docs(index) == corpora.old_docs, what
