"""Reading the pickles Whoosh stores in an index without letting them run code.

Whoosh pickles parts of an index: the schema and the segment list in the table of contents
(TOC), the header of every postings block, postings inlined in the terms file, the headers of
column files and the stored fields. A plain unpickler calls whatever a pickle names, so a file
rewritten by someone else would run their code as the user who searches. :func:`install`
replaces each place whoosh3 unpickles with :class:`RestrictedUnpickler`, which admits only the
classes a procsearch schema, segment list, block header and stored fields consist of, and
disables Whoosh's loaders of older TOC formats (procsearch never writes them). procsearch also
opens every index with the schema built from its own code (``store.open_whoosh``), so the
pickled schema is skipped altogether; admitting its classes here keeps a plain
``whoosh.index.open_dir`` working on a procsearch index.

Any failure while unpickling (a refused class, a damaged byte) raises
``pickle.UnpicklingError``, which the index treats as damage. The override is process-wide: once
procsearch has opened an index, other Whoosh indexes opened by the same process are read through
it too (one whose schema holds other classes then needs its own process).
"""

from __future__ import annotations

import io
import pickle
import types
from typing import Any, BinaryIO

ALLOWED: frozenset[tuple[str, str]] = frozenset(
    {
        # The schema (see index/schema.py and index/analysis.py; a test checks this covers it).
        ("whoosh.fields", "Schema"),
        ("whoosh.fields", "ID"),
        ("whoosh.fields", "KEYWORD"),
        ("whoosh.fields", "STORED"),
        ("whoosh.fields", "TEXT"),
        ("whoosh.formats", "Existence"),
        ("whoosh.formats", "Frequency"),
        ("whoosh.formats", "Positions"),
        ("whoosh.analysis.analyzers", "CompositeAnalyzer"),
        ("whoosh.analysis.tokenizers", "IDTokenizer"),
        ("whoosh.analysis.tokenizers", "RegexTokenizer"),
        ("whoosh.analysis.filters", "LowercaseFilter"),
        ("whoosh.analysis.filters", "StopFilter"),
        ("whoosh.analysis.morph", "StemFilter"),
        ("whoosh.lang.porter", "stem"),
        ("re", "_compile"),
        ("__builtin__", "frozenset"),
        ("builtins", "frozenset"),
        # The segment list.
        ("whoosh.codec.whoosh3", "W3Codec"),
        ("whoosh.codec.whoosh3", "W3Segment"),
        ("collections", "defaultdict"),
        ("builtins", "int"),
        ("__builtin__", "int"),
    }
)
"""(module, name) pairs a procsearch index may name in a pickle. Block headers, inlined
postings and stored fields are tuples, numbers, strings and bytes only."""


def _latin1_bytes(text: str, encoding: str = "latin1") -> bytes:
    """What protocol-2 pickles call (as ``_codecs.encode``) to rebuild a bytes object."""
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refused to decode bytes as {encoding!r}")
    return text.encode("latin-1")


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that refuses every global not in :data:`ALLOWED`."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("_codecs", "encode"):
            return _latin1_bytes
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: an index never holds it")
        return super().find_class(module, name)


def restricted_load(file: BinaryIO) -> Any:
    """``pickle.load`` through :class:`RestrictedUnpickler`; any failure is an UnpicklingError."""
    try:
        return RestrictedUnpickler(file).load()
    except pickle.UnpicklingError:
        raise
    except Exception as exc:  # a damaged pickle fails in many ways; all of them mean damage
        raise pickle.UnpicklingError(f"damaged pickle ({type(exc).__name__}: {exc})") from exc


def restricted_loads(data: bytes) -> Any:
    """``pickle.loads`` through :class:`RestrictedUnpickler`; any failure is an UnpicklingError."""
    return restricted_load(io.BytesIO(data))


class _PickleModule(types.ModuleType):
    """The ``pickle`` module as whoosh.index sees it: its ``loads`` is the restricted one."""

    loads = staticmethod(restricted_loads)
    load = staticmethod(restricted_load)

    def __getattr__(self, name: str) -> Any:
        return getattr(pickle, name)


_installed = False


def install() -> None:
    """Route every unpickling whoosh3 does on an index through :class:`RestrictedUnpickler`.

    Idempotent; called by ``index.store`` before it opens any index. Whoosh binds the pickle
    functions into each module's namespace at import, so each of those names is replaced.
    """
    global _installed
    if _installed:
        return
    import whoosh.codec.whoosh3 as whoosh3
    import whoosh.columns as columns
    import whoosh.filedb.structfile as structfile
    import whoosh.index as whoosh_index

    structfile.load = restricted_load  # type: ignore[assignment]  # StructFile.read_pickle: TOC segments, block and column headers, compound files
    whoosh3.loads = restricted_loads  # type: ignore[assignment]  # postings block data, postings inlined in the terms file
    columns.loads = restricted_loads  # type: ignore[assignment]  # stored fields (a pickle column) and other pickle columns
    whoosh_index.pickle = _PickleModule("pickle")  # the TOC's schema, when no schema is given
    whoosh_index.toc_loaders = {}  # older TOC formats are read with an unrestricted unpickler
    _installed = True
