"""procsearch: full-text search over medical procedure pages.

The library mirrors the CLI one to one::

    from procsearch import SearchEngine, build_index, parse_page

    report = build_index(corpus_dir, index_path)          # procsearch index CORPUS_DIR
    report = reindex(corpus_dir, index_path)              # procsearch reindex CORPUS_DIR
    report = verify_index(index_path, corpus_dir)         # procsearch verify CORPUS_DIR
    name = rollback_index(index_path)                     # procsearch rollback
    engine = SearchEngine(index_path)
    results = engine.search("spinal cord stimulator", limit=5, section=None)   # procsearch search
    doc = engine.get("63685")                                                  # procsearch show
    parsed = parse_page_report(html, source="page.html")                       # procsearch parse
    stats = engine.stats()                                                     # procsearch stats

Every error procsearch raises is a ``ProcsearchError``; its ``remedies`` say what fixes it.
Names are imported lazily, so ``import procsearch`` stays fast. Imported from a clone of the
repository, the subpackages are found in its top-level folders (``ingest/``, ``search/``, ...)
whatever was installed: see :mod:`procsearch.sourcetree`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .lazy import lazy_attributes
from .sourcetree import enable_source_tree_imports

enable_source_tree_imports(Path(__file__).resolve().parent)

__all__ = [
    "SECTIONS",
    "__version__",
    "IndexReport",
    "ProcedureDoc",
    "SearchEngine",
    "SearchHit",
    "SearchResults",
    "SimilarCode",
    "Snippet",
    "build_index",
    "bundled_corpus",
    "default_index_path",
    "load_pages",
    "parse_page",
    "parse_page_report",
    "ParseReport",
    "ProcsearchError",
    "Remedy",
    "reindex",
    "rollback_index",
    "verify_index",
]

_WHERE = {
    "SECTIONS": "procsearch.ingest.sections",
    "ProcedureDoc": "procsearch.ingest.record",
    "SimilarCode": "procsearch.ingest.record",
    "parse_page": "procsearch.ingest.parse",
    "parse_page_report": "procsearch.ingest.parse",
    "ParseReport": "procsearch.ingest.coverage",
    "load_pages": "procsearch.ingest.pages",
    "IndexReport": "procsearch.index.build",
    "build_index": "procsearch.index.build",
    "default_index_path": "procsearch.index.store",
    "SearchEngine": "procsearch.search.engine",
    "SearchHit": "procsearch.search.results",
    "SearchResults": "procsearch.search.results",
    "Snippet": "procsearch.search.results",
    "bundled_corpus": "procsearch.corpus",
    "ProcsearchError": "procsearch.errors",
    "Remedy": "procsearch.errors",
    "reindex": "procsearch.index.update",
    "rollback_index": "procsearch.index.verify",
    "verify_index": "procsearch.index.verify",
}


_lazy = lazy_attributes(__name__, _WHERE)


def __getattr__(name: str) -> object:
    if name == "__version__":  # the installed distribution's version, read when first asked for
        from importlib.metadata import version

        return version("procsearch")
    return _lazy(name)


if TYPE_CHECKING:
    from .corpus import bundled_corpus
    from .errors import ProcsearchError, Remedy
    from .index.build import IndexReport, build_index
    from .index.store import default_index_path
    from .index.update import reindex
    from .index.verify import rollback_index, verify_index
    from .ingest.coverage import ParseReport
    from .ingest.pages import load_pages
    from .ingest.parse import parse_page, parse_page_report
    from .ingest.record import ProcedureDoc, SimilarCode
    from .ingest.sections import SECTIONS
    from .search.engine import SearchEngine
    from .search.results import SearchHit, SearchResults, Snippet
