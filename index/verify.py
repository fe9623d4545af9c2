"""Checking an index end to end, and rolling back to the previous generation."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index

from .documents import from_fields
from .errors import IndexDamagedError, IndexStoreError
from .store import BAD_PREFIX, check_manifest, current_generation, generations, point_current, read_meta, writer_lock


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


def check_generation(generation: Path, index_path: Path) -> tuple[int, int, list[str]]:
    """Read every stored document and every posting of a generation: (documents, terms, damage)."""
    damage: list[str] = []
    documents = terms = 0
    try:
        meta = read_meta(generation, index_path)
    except IndexStoreError as exc:
        return 0, 0, [str(exc)]
    damage.extend(f"{generation.name}: {problem}" for problem in check_manifest(generation))
    try:
        ix = whoosh_index.open_dir(str(generation), readonly=True)
        try:
            with ix.reader() as reader:
                for _docnum, stored in reader.iter_docs():
                    from_fields(stored)
                    documents += 1
                for fieldname, text in reader.all_terms():
                    postings = reader.postings(fieldname, text)
                    while postings.is_active():
                        postings.id()
                        postings.next()
                    terms += 1
        finally:
            ix.close()
    except Exception as exc:  # Whoosh raises many kinds of error on damaged files
        damage.append(f"{generation.name}: cannot read the index files ({type(exc).__name__}: {exc})")
    if not damage and documents != meta.document_count:
        damage.append(f"{generation.name}: holds {documents} documents, its metadata says {meta.document_count}")
    return documents, terms, damage


def verify_index(index_path: Path, corpus_dir: Path | None = None) -> VerifyReport:
    """Check the current generation; with ``corpus_dir``, also list missing, extra and stale pages."""
    generation = current_generation(index_path)
    documents, terms, damage = check_generation(generation, index_path)
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


def previous_good_generation(index_path: Path, current: Path) -> Path | None:
    """The newest other generation that reads cleanly."""
    for candidate in reversed(generations(index_path)):
        if candidate != current and not check_generation(candidate, index_path)[2]:
            return candidate
    return None


def fix_hint(index_path: Path, current: Path) -> str:
    if any(g != current for g in generations(index_path)):
        return (
            f"roll back to the previous generation with: procsearch --index {index_path} rollback; "
            f"or rebuild with: procsearch --index {index_path} index --rebuild"
        )
    return f"rebuild with: procsearch --index {index_path} index --rebuild"


def rollback_index(index_path: Path, *, lock_timeout: float = 0.0) -> str:
    """Point CURRENT at the newest earlier generation that reads cleanly; return its name."""
    with writer_lock(index_path, lock_timeout):
        try:
            current = current_generation(index_path)
        except IndexDamagedError:
            current = Path()
        previous = previous_good_generation(index_path, current)
        if previous is None:
            raise IndexDamagedError(
                f"No earlier generation of {index_path} reads cleanly. "
                f"Rebuild with: procsearch --index {index_path} index --rebuild"
            )
        point_current(index_path, previous)
        if current.name and current.is_dir():
            # Set the damaged generation aside (kept for inspection until the next clean-up).
            os.replace(current, index_path / (BAD_PREFIX + current.name))
        return previous.name


def _would_index(path: Path, source: str, codes: set[str]) -> bool:
    """Whether a file missing from the index would be indexed: not a page every run skips, nor a
    duplicate of a code already indexed from another file."""
    from ..ingest.errors import PageSkipped
    from ..ingest.pages import read_page

    try:
        return read_page(path, source=source).code not in codes
    except PageSkipped:
        return False
