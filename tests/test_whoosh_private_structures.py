"""Every private Whoosh structure procsearch reads or overrides is still there, in the shape it is used.

pyproject.toml pins whoosh3 to the releases this suite ran on. After an upgrade, this one test
names each private attribute or method that changed and the module relying on it; the behaviour
tests (tests/test_search_ranking_internals.py, tests/test_index_segment.py) then say whether what
is read still means the same.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from typing import Any

import whoosh.codec.whoosh3 as w3
import whoosh.columns
import whoosh.filedb.structfile
import whoosh.index
from whoosh.analysis import RegexTokenizer, StemFilter, StopFilter
from whoosh.fields import TEXT, Schema
from whoosh.matching.wrappers import WrappingMatcher
from whoosh.query import Prefix
from whoosh.scoring import BM25F
from whoosh.writing import SegmentWriter

RANKING = "search/ranking/whoosh_internals.py"
SEGMENT = "index/segment.py"


def _params(function: Callable[..., Any]) -> list[str]:
    return [name for name in inspect.signature(function).parameters if name != "self"]


def _structures(tmp_path: Path) -> Iterator[tuple[str, str, Callable[[], object]]]:
    """(the private structure, the module that relies on it, a check that raises or returns False if
    it changed), each checked while the index is open."""
    ix = whoosh.index.create_in(str(tmp_path), Schema(title=TEXT(stored=True)))
    with ix.writer() as writer:
        writer.add_document(title="spinal cord stimulator")
    reader = ix.reader()
    matcher = reader._terms.matcher("title", b"spinal", ix.schema["title"].format)
    writer = SegmentWriter(ix)
    writer.fieldwriter.start_field("title", ix.schema["title"])
    writer.fieldwriter.start_term(b"spinal")
    postwriter = writer.fieldwriter._postwriter
    stemmer, stop, tokenizer = StemFilter(), StopFilter(), RegexTokenizer()
    try:
        yield from [
            (
                "SegmentReader._terms.matcher(fieldname, text, format)",
                RANKING,
                lambda: isinstance(matcher, w3.W3LeafMatcher),
            ),
            *(
                (f"W3LeafMatcher.{name}", RANKING, lambda name=name: callable(getattr(matcher, name)))
                for name in ("_read_ids", "_read_weights", "_next_block")
            ),
            ("W3LeafMatcher._ids, _weights (after _read_ids, _read_weights)", RANKING, lambda: _read_block(matcher)),
            ("LENGTHS_COLUMN", RANKING, lambda: w3.LENGTHS_COLUMN),
            (
                "SegmentReader._perdoc._cached_reader(name, column)",
                RANKING,
                lambda: _params(reader._perdoc._cached_reader) == ["fieldname", "column"],
            ),
            ("the lengths column's _dbfile.get, _basepos, _count", RANKING, lambda: _lengths_column(reader)),
            ("BM25F._field_B", RANKING, lambda: BM25F(title_B=0.5)._field_B == {"title": 0.5}),
            ("whoosh.query.qcore._NullQuery", RANKING, lambda: __import__("whoosh.query.qcore").query.qcore._NullQuery),
            ("MultiTerm._btexts(reader)", RANKING, lambda: list(Prefix("title", "spi")._btexts(reader)) == [b"spinal"]),
            ("W3Codec (the codec the bulk writer supports)", SEGMENT, lambda: type(writer.codec) is w3.W3Codec),
            *(
                (f"SegmentWriter.{name}", SEGMENT, lambda name=name: hasattr(writer, name))
                for name in ("_check_state", "_check_fields", "_added", "_flush_segment", "perdocwriter", "fieldwriter")
            ),
            ("W3FieldWriter._postwriter", SEGMENT, lambda: isinstance(postwriter, w3.W3PostingsWriter)),
            *(
                (f"W3PostingsWriter.{name}", SEGMENT, lambda name=name: hasattr(postwriter, name))
                for name in (
                    "_blocklimit",
                    "_terminfo",
                    "_write_block",
                    "_ids",
                    "_weights",
                    "_values",
                    "_maxweight",
                    "_minlength",
                    "_maxlength",
                )
            ),
            *(
                (f"SegmentWriter.{name}", f"{SEGMENT} (parallel build)", lambda name=name: hasattr(writer, name))
                for name in ("_finalize_segment", "_close_segment", "_commit_toc", "_finish")
            ),
            (
                "StemFilter._stem, .ignore",
                "index/analysis.py",
                lambda: isinstance(stemmer._stem("stimulators"), str) and not stemmer.ignore,
            ),
            (
                "StopFilter.stops, .min, .max, .renumber",
                "index/analysis.py",
                lambda: (stop.stops, stop.min, stop.max, stop.renumber),
            ),
            (
                "RegexTokenizer.expression, .gaps",
                "index/analysis.py",
                lambda: (tokenizer.expression.findall, not tokenizer.gaps),
            ),
            (
                "WrappingMatcher._replacement(newchild)",
                "search/budget.py",
                lambda: _params(WrappingMatcher._replacement) == ["newchild"],
            ),
            ("whoosh.codec.whoosh3.loads", "index/unpickler.py", lambda: w3.loads),
            ("whoosh.columns.loads", "index/unpickler.py", lambda: whoosh.columns.loads),
            ("whoosh.filedb.structfile.load", "index/unpickler.py", lambda: whoosh.filedb.structfile.load),
            (
                "whoosh.index.pickle, toc_loaders",
                "index/unpickler.py",
                lambda: (whoosh.index.pickle, whoosh.index.toc_loaders),
            ),
        ]
    finally:
        writer.cancel()
        reader.close()


def _read_block(matcher: Any) -> bool:
    matcher._read_ids()
    matcher._read_weights()
    return list(matcher._ids) == [0] and len(matcher._weights) == 1


def _lengths_column(reader: Any) -> bool:
    column = reader._perdoc._cached_reader("_title_len", w3.LENGTHS_COLUMN)
    return bytes(column._dbfile.get(column._basepos, column._count)) == bytes([3])


def test_every_private_whoosh_structure_procsearch_relies_on_is_still_there(tmp_path: Path) -> None:
    changed = []
    for structure, where, check in _structures(tmp_path):
        try:
            ok = check() is not False
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            ok, structure = False, f"{structure} ({type(exc).__name__}: {exc})"
        if not ok:
            changed.append(f"{structure}, relied on by {where}")
    assert not changed, f"whoosh3 {version('whoosh3')} changed what procsearch reads privately:\n" + "\n".join(changed)
