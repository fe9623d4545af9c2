"""Tantivy on the same records: every field stored text with en_stem, BM25 with procsearch's weights as boosts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .engines import LIMIT, RecordsAdapter
from .queries import query_words
from .records import field_names, read_settings, write_settings

HEAP = 256_000_000
"""One Tantivy writer thread with 256 MB, like procsearch's one Whoosh writer with limitmb=256."""
TOKENIZER = "en_stem"


def tantivy_match(text: str) -> str:
    """``"w1" "w2" ...``: quoted words, OR-ed by Tantivy's parser (its default for several terms)."""
    return " ".join(f'"{word}"' for word in query_words(text, drop='"\\'))


def write_tantivy(target: Path, records: Iterable[dict[str, str]]) -> dict[str, Any]:
    """A Tantivy index, every field stored text; one writer thread."""
    import tantivy

    names = field_names()
    builder = tantivy.SchemaBuilder()
    for name in names:
        builder.add_text_field(name, stored=True, tokenizer_name=TOKENIZER)
    target.mkdir(parents=True)
    index = tantivy.Index(builder.build(), path=str(target))
    writer = index.writer(heap_size=HEAP, num_threads=1)
    for fields in records:
        writer.add_document(tantivy.Document(**{name: text for name, text in fields.items() if text}))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    write_settings(target)
    return {
        "documents": index.searcher().num_docs,
        "detail": {"tokenizer": TOKENIZER, "heap_size": HEAP, "num_threads": 1},
    }


class TantivySearcher:
    """The Tantivy index: BM25 with field boosts, a SnippetGenerator per snippet field (its
    snippets as long as procsearch's).

    Like procsearch, a hit's snippet comes from the highest-weighted section field that has a
    highlighted match; failing that, the start of the summary.
    """

    def __init__(self, directory: Path) -> None:
        import tantivy

        self.tantivy = tantivy
        settings = read_settings(directory)
        self.index = tantivy.Index.open(str(directory))
        self.searcher = self.index.searcher()
        self.schema = self.index.schema
        self.fields: list[str] = settings["fields"]
        self.boosts: dict[str, float] = {name: float(settings["weights"][name]) for name in self.fields}
        self.snippet_fields: list[str] = settings["snippet_fields"]
        self.snippet_chars: int = settings["snippet_chars"]

    def search(self, text: str) -> list[tuple[str, str]]:
        match = tantivy_match(text)
        if not match:
            raise ValueError(f"no words in {text!r}")
        query = self.index.parse_query(match, self.fields, field_boosts=self.boosts)
        generators: dict[str, Any] = {}
        hits = []
        for _score, address in self.searcher.search(query, LIMIT).hits:
            doc = self.searcher.doc(address)
            hits.append((str(doc.get_first("code")), self._snippet(query, doc, generators)))
        return hits

    def _snippet(self, query: Any, doc: Any, generators: dict[str, Any]) -> str:
        for name in self.snippet_fields:
            if doc.get_first(name) is None:
                continue
            if name not in generators:
                generator = self.tantivy.SnippetGenerator.create(self.searcher, query, self.schema, name)
                generator.set_max_num_chars(self.snippet_chars)
                generators[name] = generator
            snippet = generators[name].snippet_from_doc(doc)
            if snippet.highlighted():
                return str(snippet.to_html())
        return str(doc.get_first("summary") or "")[: self.snippet_chars]


class TantivyAdapter(RecordsAdapter):
    name = "tantivy"
    label = "Tantivy"
    description = (
        f"{TOKENIZER}, one writer thread ({HEAP // 1_000_000} MB), field boosts = procsearch's weights, "
        "SnippetGenerator cut to procsearch's snippet length; each query as an OR of its quoted words"
    )

    def write(self, target: Path, records: Iterable[dict[str, str]]) -> dict[str, Any]:
        return write_tantivy(target, records)

    def open(self, path: Path) -> TantivySearcher:
        return TantivySearcher(path)
