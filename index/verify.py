"""Checking an index end to end, and rolling back to the previous generation."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as whoosh_index

from .documents import from_fields
from .errors import IndexDamagedError, IndexStoreError, RollbackError
from .store import (
    META,
    ROLLED_BACK,
    check_manifest,
    current_generation,
    generations,
    point_current,
    read_meta,
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


CheckProgress = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``; phases are "checking documents", "checking postings"."""


def check_generation(
    generation: Path, index_path: Path, *, progress: CheckProgress | None = None
) -> tuple[int, int, list[str]]:
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
                total = reader.doc_count()
                for _docnum, stored in reader.iter_docs():
                    from_fields(stored)
                    documents += 1
                    if progress and (documents % 1000 == 0 or documents == total):
                        progress("checking documents", documents, total)
                total = sum(1 for _ in reader.all_terms()) if progress else 0
                for fieldname, text in reader.all_terms():
                    postings = reader.postings(fieldname, text)
                    while postings.is_active():
                        postings.id()
                        postings.next()
                    terms += 1
                    if progress and (terms % 5000 == 0 or terms == total):
                        progress("checking postings", terms, total)
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


def fix_hint(index_path: Path, current: Path) -> str:
    if any(g != current for g in generations(index_path)):
        return (
            f"roll back to the previous generation with: procsearch --index {index_path} rollback; "
            f"or rebuild with: procsearch --index {index_path} index --rebuild"
        )
    return f"rebuild with: procsearch --index {index_path} index --rebuild"


def rollback_index(
    index_path: Path, *, to: str | None = None, lock_timeout: float = 0.0, progress: CheckProgress | None = None
) -> str:
    """Serve an earlier generation again: the newest one older than the current that reads
    cleanly, or the generation named ``to`` (see :func:`list_generations`); return its name.

    The generation moved away from is kept, marked as rolled back, so ``to`` can serve it again
    until a newer generation is published. Raises RollbackError when there is nothing to roll
    back to (or ``to`` names no generation that can be served), IndexDamagedError when every
    candidate is damaged.
    """
    with writer_lock(index_path, lock_timeout):
        try:
            current: Path | None = current_generation(index_path)
        except IndexDamagedError:
            current = None
        existing = generations(index_path)
        if to is not None:
            target = _named_generation(index_path, to, current, existing)
            damage = check_generation(target, index_path, progress=progress)[2]
            if damage:
                raise IndexDamagedError(f"{target.name} of {index_path} does not read cleanly: {damage[0]}")
        else:
            target = _previous_generation(index_path, current, existing, progress)
        point_current(index_path, target)
        (target / ROLLED_BACK).unlink(missing_ok=True)
        if current is not None and current.name > target.name:
            (current / ROLLED_BACK).write_text(f"rolled back to {target.name}\n", encoding="utf-8")
        return target.name


def _previous_generation(
    index_path: Path, current: Path | None, existing: list[Path], progress: CheckProgress | None
) -> Path:
    """The newest generation older than ``current`` (any, with no current one) that reads cleanly."""
    earlier = [g for g in reversed(existing) if current is None or g.name < current.name]
    if not earlier and current is None:
        raise IndexDamagedError(
            f"{index_path} has no generation to serve. Rebuild with: procsearch --index {index_path} index --rebuild"
        )
    if not earlier:
        assert current is not None
        later = [g.name for g in existing if (g / ROLLED_BACK).exists()]
        if later:
            raise RollbackError(
                f"Nothing older to roll back to: {current.name} is the oldest generation of {index_path}. "
                f"To serve a newer one again: procsearch --index {index_path} rollback --to {later[0]}"
            )
        raise RollbackError(
            f"Nothing to roll back to: {index_path} has one generation, {current.name}, which it serves. "
            f"Each index or reindex that changes the index keeps the generation it replaces."
        )
    for candidate in earlier:
        if not check_generation(candidate, index_path, progress=progress)[2]:
            return candidate
    raise IndexDamagedError(
        f"No earlier generation of {index_path} reads cleanly. "
        f"Rebuild with: procsearch --index {index_path} index --rebuild"
    )


def _named_generation(index_path: Path, name: str, current: Path | None, existing: list[Path]) -> Path:
    """The generation ``name``, if it is one a rollback may serve."""
    found = next((g for g in existing if g.name == name), None)
    if found is None:
        listed = ", ".join(g.name for g in existing) or "none"
        raise RollbackError(
            f"{index_path} has no generation {name!r} (it has: {listed}; "
            f"procsearch --index {index_path} generations lists them)."
        )
    if current is not None and found == current:
        raise RollbackError(f"{index_path} already serves {name}.")
    if current is not None and found.name > current.name and not (found / ROLLED_BACK).exists():
        raise RollbackError(f"{name} was never published (the run that built it did not finish); it cannot be served.")
    return found


@dataclass(frozen=True)
class GenerationInfo:
    """One generation of an index, as ``procsearch generations`` lists it."""

    name: str
    state: str
    """"current", "previous" (what ``rollback`` serves), "rolled back" (``rollback --to`` serves
    it again), "older", or "unpublished" (a run that did not finish; removed by the next one)."""
    built_at: str
    documents: int

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "state": self.state, "built_at": self.built_at, "documents": self.documents}


def list_generations(index_path: Path) -> list[GenerationInfo]:
    """Every generation of the index, newest first, with what each is; reads only their metadata."""
    try:
        current = current_generation(index_path).name
    except IndexDamagedError:
        current = ""
    found: list[GenerationInfo] = []
    previous_seen = False
    for generation in reversed(generations(index_path)):
        try:
            meta = json.loads((generation / META).read_text(encoding="utf-8"))
            built_at, documents = str(meta.get("built_at", "")), int(meta.get("document_count", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            built_at, documents = "", 0
        if generation.name == current:
            state = "current"
        elif (generation / ROLLED_BACK).exists():
            state = "rolled back"
        elif current and generation.name > current:
            state = "unpublished"
        elif not previous_seen:
            state, previous_seen = "previous", True
        else:
            state = "older"
        found.append(GenerationInfo(generation.name, state, built_at, documents))
    return found


def _would_index(path: Path, source: str, codes: set[str]) -> bool:
    """Whether a file missing from the index would be indexed: not a page every run skips, nor a
    duplicate of a code already indexed from another file."""
    from ..ingest.errors import PageSkipped
    from ..ingest.pages import read_page

    try:
        return read_page(path, source=source).code not in codes
    except PageSkipped:
        return False
