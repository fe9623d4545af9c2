"""Checking an index end to end, and rolling back to the previous generation."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .documents import from_fields
from .errors import IndexDamagedError, IndexStoreError
from .store import (
    BAD_PREFIX,
    check_generation_files,
    current_generation,
    fix_hint,
    open_whoosh,
    point_current,
    read_meta,
    rollback_target,
    writer_lock,
)


@dataclass(frozen=True)
class VerifyReport:
    """Damage found in the index files, and drift from the corpus folder (if one was given)."""

    index_path: Path
    generation: str
    documents: int
    terms: int
    damage: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    fix: str = ""
    checked_corpus: bool = field(default=False)

    @property
    def damaged(self) -> bool:
        return bool(self.damage)

    @property
    def drifted(self) -> bool:
        return bool(self.missing or self.extra or self.stale)

    def to_dict(self) -> dict[str, object]:
        return {
            "index": str(self.index_path),
            "generation": self.generation,
            "documents": self.documents,
            "terms": self.terms,
            "damaged": self.damaged,
            "damage": list(self.damage),
            "fix": self.fix,
            "drifted": self.drifted,
            "missing": list(self.missing),
            "extra": list(self.extra),
            "stale": list(self.stale),
            "checked_corpus": self.checked_corpus,
        }


ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``; phases "checking files", "reading documents", "reading postings"."""


def check_generation(
    generation: Path, index_path: Path, *, deep: bool = True, progress: ProgressCallback | None = None
) -> tuple[int, int, list[str]]:
    """Check a generation: every file against its checksum, then (``deep``) every stored document
    and every posting through Whoosh. Returns (documents, terms, damage); raises IndexUnsafeError
    for files others could have written (they are never read)."""
    file_progress = (lambda done, total: progress("checking files", done, total)) if progress else None
    problems = check_generation_files(generation, index_path, full=True, progress=file_progress)
    if problems:  # never hand files that fail their checksums to Whoosh
        return 0, 0, [f"{generation.name}: {problem}" for problem in problems]
    try:
        meta = read_meta(generation, index_path)
    except IndexStoreError as exc:
        return 0, 0, [str(exc)]
    damage: list[str] = []
    documents = terms = 0
    try:
        ix = open_whoosh(generation)
        try:
            with ix.reader() as reader:
                if deep:
                    total = reader.doc_count_all()
                    for documents, (_docnum, stored) in enumerate(reader.iter_docs(), 1):
                        from_fields(stored)
                        if progress and (documents % 1000 == 0 or documents == total):
                            progress("reading documents", documents, total)
                    fields = len(set(reader.indexed_field_names()))
                    seen: set[str] = set()
                    for fieldname, text in reader.all_terms():
                        if progress and fieldname not in seen:
                            seen.add(fieldname)
                            progress("reading postings", len(seen) - 1, fields)
                        postings = reader.postings(fieldname, text)
                        while postings.is_active():
                            postings.id()
                            postings.next()
                        terms += 1
                    if progress:
                        progress("reading postings", fields, fields)
                else:
                    documents = reader.doc_count()
        finally:
            ix.close()
    except Exception as exc:  # checksums passed, so this is damage Whoosh itself wrote, or a bug
        damage.append(f"{generation.name}: cannot read the index files ({type(exc).__name__}: {exc})")
    if not damage and documents != meta.document_count:
        damage.append(f"{generation.name}: holds {documents} documents, its metadata says {meta.document_count}")
    return documents, terms, damage


def verify_index(
    index_path: Path, corpus_dir: Path | None = None, *, progress: ProgressCallback | None = None
) -> VerifyReport:
    """Check the current generation; with ``corpus_dir``, also list missing, extra and stale pages."""
    generation = current_generation(index_path)
    documents, terms, damage = check_generation(generation, index_path, progress=progress)
    fix = ""
    if damage:
        fix = fix_hint(index_path, generation)
        return VerifyReport(index_path, generation.name, documents, terms, tuple(damage), fix=fix)
    if corpus_dir is None:
        return VerifyReport(index_path, generation.name, documents, terms)
    from .update import file_hashes, indexed_pages

    files = file_hashes(corpus_dir)
    indexed = indexed_pages(generation)
    codes = {code for code, _ in indexed.values()}
    missing = tuple(sorted(s for s in files if s not in indexed and _would_index(files[s][0], s, codes)))
    extra = tuple(sorted(s for s in indexed if s not in files))
    stale = tuple(sorted(s for s in files if s in indexed and indexed[s][1] != files[s][1]))
    if missing or extra or stale:
        fix = f"procsearch --index {index_path} reindex {corpus_dir}"
    return VerifyReport(index_path, generation.name, documents, terms, (), missing, extra, stale, fix, True)


def rollback_index(index_path: Path, *, lock_timeout: float = 0.0) -> str:
    """Point CURRENT at the newest earlier generation this index published whose files are all as
    published (with CURRENT missing or damaged: the newest such generation); return its name."""
    with writer_lock(index_path, lock_timeout):
        try:
            current: Path | None = current_generation(index_path)
        except IndexDamagedError:  # CURRENT missing or naming a missing generation: serve the newest good one
            current = None
        target = rollback_target(index_path, current)
        if target is None:
            raise IndexDamagedError(
                f"No earlier generation of {index_path} reads cleanly. "
                f"Rebuild with: procsearch --index {index_path} index --rebuild"
            )
        point_current(index_path, target)
        if current is not None and current.is_dir():
            # Set the damaged generation aside (kept for inspection until the next clean-up).
            os.replace(current, index_path / (BAD_PREFIX + current.name))
        return target.name


def _would_index(path: Path, source: str, codes: set[str]) -> bool:
    """Whether a file missing from the index would be indexed: not a page every run skips, nor a
    duplicate of a code already indexed from another file."""
    from ..ingest.errors import PageSkipped
    from ..ingest.pages import read_page

    try:
        return read_page(path, source=source).code not in codes
    except PageSkipped:
        return False
