"""Checking an index end to end, and rolling back to the previous generation."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import LIST_GENERATIONS, REINDEX, ROLLBACK, Remedy, describe_remedies
from .documents import from_fields
from .errors import IndexDamagedError, IndexStoreError, RollbackError
from .generations import point_current
from .lock import writer_lock
from .store import (
    META,
    check_generation_files,
    current_generation,
    generations,
    is_rolled_back,
    open_whoosh,
    published_generations,
    read_meta,
    rebuild,
    repairs,
    rollback_target,
    rolled_back_marker,
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
    remedies: tuple[Remedy, ...] = ()
    """What fixes the damage or the drift, first the one to try first."""
    checked_corpus: bool = field(default=False)

    @property
    def damaged(self) -> bool:
        return bool(self.damage)

    @property
    def drifted(self) -> bool:
        return bool(self.missing or self.extra or self.stale)

    @property
    def fix(self) -> str:
        """The remedies in plain words ("" when the index is sound and matches the folder)."""
        return describe_remedies(self.remedies)

    def to_dict(self) -> dict[str, object]:
        return {
            "index": str(self.index_path),
            "generation": self.generation,
            "documents": self.documents,
            "terms": self.terms,
            "damaged": self.damaged,
            "damage": list(self.damage),
            "fix": self.fix,
            "remedies": [remedy.to_dict() for remedy in self.remedies],
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
        return 0, 0, [exc.message]
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
    if damage:
        remedies, _ = repairs(index_path, generation)
        return VerifyReport(index_path, generation.name, documents, terms, tuple(damage), remedies=remedies)
    if corpus_dir is None:
        return VerifyReport(index_path, generation.name, documents, terms)
    from .changes import file_hashes, indexed_pages

    files = file_hashes(corpus_dir)
    indexed = indexed_pages(generation)
    codes = {code for code, _ in indexed.values()}
    missing = tuple(sorted(s for s in files if s not in indexed and _would_index(files[s][0], s, codes)))
    extra = tuple(sorted(s for s in indexed if s not in files))
    stale = tuple(sorted(s for s in files if s in indexed and indexed[s][1] != files[s][1]))
    remedies = (Remedy(REINDEX, index_path, corpus_dir),) if missing or extra or stale else ()
    return VerifyReport(index_path, generation.name, documents, terms, (), missing, extra, stale, remedies, True)


LATEST = "latest"
"""``rollback --to latest``: serve the newest published generation again (undo rollbacks)."""


def rollback_index(
    index_path: Path, *, to: str | None = None, lock_timeout: float = 0.0, progress: ProgressCallback | None = None
) -> str:
    """Serve an earlier generation again: the newest one older than the current that reads
    cleanly, or the generation named ``to`` (see :func:`list_generations`; "latest" names the
    newest published one); return its name. Asking for the generation already served changes
    nothing.

    Only a generation this index published, whose files are all as published, is ever served
    (with CURRENT missing or damaged: the newest such generation). The generation moved away
    from is kept, marked as rolled back, so ``to`` can serve it again until a newer generation
    is published. Raises RollbackError when there is nothing to roll back to (or ``to`` names
    no generation that can be served), IndexDamagedError when every candidate is damaged.
    """
    with writer_lock(index_path, lock_timeout):
        try:
            current: Path | None = current_generation(index_path)
        except IndexDamagedError:
            current = None
        existing = generations(index_path)
        if to is not None:
            target = _named_generation(index_path, to, current, existing)
            if current is not None and target == current:
                return target.name  # already served: nothing to do
            damage = check_generation(target, index_path, deep=False, progress=progress)[2]
            if damage:
                raise IndexDamagedError(f"{target.name} of {index_path} does not read cleanly: {damage[0]}")
        else:
            target = _previous_generation(index_path, current, existing, progress)
        point_current(index_path, target)
        rolled_back_marker(target).unlink(missing_ok=True)
        if current is not None and current.name > target.name:
            rolled_back_marker(current).write_text(f"rolled back to {target.name}\n", encoding="utf-8")
        return target.name


def _previous_generation(
    index_path: Path, current: Path | None, existing: list[Path], progress: ProgressCallback | None
) -> Path:
    """The newest published generation older than ``current`` (any, with no current one) whose
    files are all as published."""
    earlier = [g for g in reversed(existing) if current is None or g.name < current.name]
    if not earlier and current is None:
        raise IndexDamagedError(f"{index_path} has no generation to serve.", remedies=[rebuild(index_path)])
    if not earlier:
        assert current is not None
        later = [g.name for g in existing if is_rolled_back(g)]
        if later:
            raise RollbackError(
                f"Nothing older to roll back to: {current.name} is the oldest generation of {index_path}.",
                remedies=[Remedy(ROLLBACK, index_path, generation=later[0])],
            )
        raise RollbackError(
            f"Nothing to roll back to: {index_path} has one generation, {current.name}, which it serves. "
            f"Each index or reindex that changes the index keeps the generation it replaces.",
            index_path=index_path,
        )
    target = rollback_target(index_path, current, progress=progress)
    if target is None:
        raise IndexDamagedError(f"No earlier generation of {index_path} reads cleanly.", remedies=[rebuild(index_path)])
    return target


def _named_generation(index_path: Path, name: str, current: Path | None, existing: list[Path]) -> Path:
    """The generation ``name`` ("latest": the newest published one), if a rollback may serve it."""
    if name == LATEST:
        published = published_generations(index_path)
        if not published:
            raise RollbackError(f"{index_path} has no published generation to serve.", index_path=index_path)
        return published[-1]
    found = next((g for g in existing if g.name == name), None)
    if found is None:
        listed = ", ".join(g.name for g in existing) or "none"
        raise RollbackError(
            f"{index_path} has no generation {name!r} (it has: {listed}).",
            remedies=[Remedy(LIST_GENERATIONS, index_path)],
        )
    if found not in published_generations(index_path):
        raise RollbackError(
            f"{name} was never published by this index (or its files changed since); it cannot be served.",
            index_path=index_path,
        )
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
    published = set(published_generations(index_path))
    for generation in reversed(generations(index_path)):
        try:
            meta = json.loads((generation / META).read_text(encoding="utf-8"))
            built_at, documents = str(meta.get("built_at", "")), int(meta.get("document_count", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            built_at, documents = "", 0
        if generation.name == current:
            state = "current"
        elif is_rolled_back(generation):
            state = "rolled back"
        elif generation not in published:
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
