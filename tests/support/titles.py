"""A small index of ICD-10-PCS titles, and a vocabulary of one abbreviation: for tests of how
expansions no title holds whole are searched."""

from __future__ import annotations

from pathlib import Path

from procsearch.search.vocabulary import Vocabulary


def titles_index(path: Path, titles: dict[str, str], pages: dict[str, str] | None = None) -> Path:
    """Build an index at ``path`` of ICD-10-PCS records with these codes and titles (and of CPT
    pages with ``pages``' codes and titles)."""
    from procsearch.index.build import build_index
    from procsearch.ingest.record import ProcedureDoc

    records = [
        ProcedureDoc(code=c, code_system="ICD-10-PCS", title=t, source=f"icd10pcs:{c}") for c, t in titles.items()
    ]
    records += [ProcedureDoc(code=c, code_system="CPT", title=t, source=f"{c}.html") for c, t in (pages or {}).items()]
    build_index(None, path, records=records)
    return path


def abbreviation(short: str, meaning: str) -> Vocabulary:
    """A vocabulary that knows one abbreviation."""
    vocabulary = Vocabulary()
    vocabulary.add(short, [meaning], "abbreviation")
    return vocabulary
