"""How procsearch reads real pages of sites it was not written for, against plain full-text indexes.

For every site folder under ``../shared/foreign-pages`` (or the folder given), per page:
  coverage      the share of the page's visible words that reached the record (procsearch's own account)
  sections      the canonical sections found, and how many other headings
  names         the common names found
  recall        the share of the page's main-content sentences (as an independent extractor,
                trafilatura, finds them) that reached the record; a sentence counts when nine in
                ten of its word trigrams are in the record's text
In the same run it indexes all the pages three ways (procsearch; plain Whoosh BM25 over each
page's whole visible text; SQLite FTS5 bm25 over the same text) and scores title and
other-name queries: the titles given in each folder's SOURCES.txt (without the site's name), and
the "Other names" / "Also known as" lines found in the raw pages by a regular expression, not
by the parser. success@3 = the page is among the first three results.

    pip install trafilatura        # used by this bench only
    python bench/sites.py [FOLDER] [--misses]
"""

from __future__ import annotations

import argparse
import html
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from procsearch.index.build import build_index
from procsearch.ingest.pages import find_pages
from procsearch.ingest.parse import parse_page_report
from procsearch.search.engine import SearchEngine

HERE = Path(__file__).parent
DEFAULT = HERE.parent.parent / "shared" / "foreign-pages"
_WORD = re.compile(r"\w+")
_SITE_PART = re.compile(
    r"(?i)\s*(?:[-|:]+\s*(?:mayo clinic|wikipedia|webmd|medlineplus|cdc[^|]*)\s*)+$|^\s*(?:acs|cdc h1n1 flu)\s*(?:::|\|)\s*"
)
_OTHER_NAMES = re.compile(r"(?i)(?:other names?|also (?:known as|called))\s*:?\s*</?\w[^>]*>\s*([^<]{3,300})<")


_MARK = re.compile(r"\[(?:\d+|citation needed|[a-z])\]", re.I)


def words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def content_words(text: str) -> list[str]:
    """Words for comparing texts: no footnote marks, no bare numbers (the two extractors differ
    on where a number next to a mark belongs)."""
    return [word for word in words(_MARK.sub(" ", text)) if not word.isdigit()]


def trigrams(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + 3]) for i in range(max(0, len(tokens) - 2))}


@dataclass
class PageRow:
    site: str
    name: str
    coverage: float
    sections: str
    others: int
    names: int
    recall: float
    explained: float
    sentences: int
    missed: list[str]


def main_sentences(data: bytes) -> list[str]:
    import trafilatura

    main = trafilatura.extract(data.decode("utf-8", "replace"), include_tables=True, favor_recall=True) or ""
    return [s for s in re.split(r"(?<=[.!?])\s+|\n", main) if len(words(s)) >= 4]


def read_site_pages(folder: Path) -> list[Path]:
    return [path for path in find_pages(folder) if path.suffix.lower() in (".html", ".htm")]


def page_row(site: str, path: Path, root: Path) -> PageRow:
    data = path.read_bytes()
    report = parse_page_report(data, source=path.relative_to(root).as_posix())
    doc = report.doc
    # In reading order, each heading before its text (an extractor may run them together).
    texts = [doc.title, *doc.common_names, *(f"{s.code} {s.label}" for s in doc.similar_codes)]
    for origin in report.origins:
        body = doc.other.get(origin.heading, "") if origin.field == "other" else doc.sections.get(origin.field, "")
        texts.append(f"{origin.heading} {body}")
    have = trigrams(content_words(" ".join(texts)))
    dropped = trigrams(content_words(" ".join(block.text.removesuffix(" ...") for block in report.dropped)))
    sentences = main_sentences(data)
    missed = []
    accounted = 0
    for sentence in sentences:
        grams = trigrams(content_words(sentence))
        if grams and len(grams & have) < 0.9 * len(grams):
            missed.append(sentence)
            accounted += len(grams & (have | dropped)) >= 0.9 * len(grams)
    recall = 1 - len(missed) / len(sentences) if sentences else 1.0
    explained = 1 - (len(missed) - accounted) / len(sentences) if sentences else 1.0
    return PageRow(
        site,
        path.name,
        report.coverage.share,
        ",".join(doc.sections),
        len(doc.other),
        len(doc.common_names),
        recall,
        explained,
        len(sentences),
        missed,
    )


def parse_milliseconds(root: Path) -> float:
    """Milliseconds per page to parse every page under ``root`` (and the sample corpus), best of 3."""
    from procsearch.corpus import bundled_corpus
    from procsearch.ingest.parse import parse_page

    pages = [(path.name, path.read_bytes()) for path in [*find_pages(root), *find_pages(bundled_corpus())]]
    pages = [(name, data) for name, data in pages if name.endswith((".html", ".htm"))]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for name, data in pages:
            parse_page(data, source=name)
        best = min(best, time.perf_counter() - started)
    return 1000 * best / len(pages)


def queries_for(root: Path) -> list[tuple[str, str]]:
    """(query, page source relative to root): titles from SOURCES.txt, other names from the raw pages."""
    found: list[tuple[str, str]] = []
    for sources in sorted(root.glob("*/SOURCES.txt")):
        site = sources.parent.name
        header: list[str] = []
        for line in sources.read_text(encoding="utf-8").splitlines():
            cells = line.split("\t")
            if cells[:1] == ["file"]:
                header = cells
                continue
            if header and len(cells) == len(header) and (sources.parent / cells[0]).is_file():
                title = _SITE_PART.sub("", cells[header.index("title")]).strip()
                if title:
                    found.append((title, f"{site}/{cells[0]}"))
        for path in read_site_pages(sources.parent):
            if not header:
                title = re.search(r"(?is)<title>(.*?)</title>", path.read_text(encoding="utf-8", errors="replace"))
                if title:
                    found.append((_SITE_PART.sub("", html.unescape(title.group(1))).strip(), f"{site}/{path.name}"))
            raw = path.read_text(encoding="utf-8", errors="replace")
            for match in _OTHER_NAMES.finditer(raw):
                for name in re.split(r",|;|\bor\b", html.unescape(match.group(1))):
                    name = " ".join(name.split()).strip(" .")
                    if 2 <= len(name) <= 60:
                        found.append((name, f"{site}/{path.name}"))
    return found


def page_text(path: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_bytes(), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    return " ".join(soup.get_text(" ").split())


def plain_whoosh(pages: dict[str, str], queries: list[tuple[str, str]], scratch: Path) -> float:
    from whoosh import index as whoosh_index
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.qparser import OrGroup, QueryParser

    schema = Schema(path=ID(stored=True, unique=True), body=TEXT)
    ix = whoosh_index.create_in(str(scratch), schema)
    with ix.writer() as writer:
        for source, text in pages.items():
            writer.add_document(path=source, body=text)
    hits = 0
    with ix.searcher() as searcher:
        parser = QueryParser("body", schema, group=OrGroup)
        for query, expected in queries:
            results = searcher.search(parser.parse(query), limit=3)
            hits += expected in [hit["path"] for hit in results]
    ix.close()
    return hits / len(queries)


def fts5(pages: dict[str, str], queries: list[tuple[str, str]]) -> float:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE pages USING fts5(path UNINDEXED, body, tokenize='porter unicode61')")
    db.executemany("INSERT INTO pages VALUES (?, ?)", pages.items())
    hits = 0
    for query, expected in queries:
        terms = " OR ".join(f'"{word}"' for word in words(query))
        rows = db.execute(
            "SELECT path FROM pages WHERE pages MATCH ? ORDER BY bm25(pages) LIMIT 3", (terms,)
        ).fetchall()
        hits += expected in [row[0] for row in rows]
    return hits / len(queries)


def procsearch(root: Path, queries: list[tuple[str, str]], scratch: Path) -> float:
    index = scratch / "procsearch"
    build_index(root, index)
    hits = 0
    with SearchEngine(index) as engine:
        for query, expected in queries:
            results = engine.search(query, limit=3)
            hits += any(engine.get(hit.code).source == expected for hit in results.hits)
    return hits / len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--misses", action="store_true", help="print the sentences that did not reach the record")
    args = parser.parse_args()
    root = args.folder.resolve()
    if not root.is_dir():
        sys.exit(f"{root}: no such folder (the foreign pages live in ../shared/foreign-pages)")

    rows = []
    for site in sorted(p for p in root.iterdir() if p.is_dir()):
        for path in read_site_pages(site):
            rows.append(page_row(site.name, path, root))
    print(
        "| site | page | coverage | sentence recall | + dropped with a reason | sentences | sections | other headings | names |"
    )
    print("|---|---|---:|---:|---:|---:|---|---:|---:|")
    for row in rows:
        print(
            f"| {row.site} | {row.name} | {row.coverage:.2f} | {row.recall:.3f} | {row.explained:.3f} | {row.sentences} "
            f"| {row.sections or '-'} | {row.others} | {row.names} |"
        )
        if args.misses:
            for sentence in row.missed:
                print(f"|   | missed: {sentence[:140]} | | | | | | | |")
    recalls = [row.recall for row in rows]
    print(
        f"\n{len(rows)} pages: sentence recall mean {statistics.mean(recalls):.3f}, min {min(recalls):.3f}; "
        f"coverage mean {statistics.mean(row.coverage for row in rows):.3f}\n"
    )

    print(f"parse time: {parse_milliseconds(root):.1f} ms a page (best of 3, one process)\n")

    queries = queries_for(root)
    pages = {
        path.relative_to(root).as_posix(): page_text(path)
        for site in root.iterdir()
        if site.is_dir()
        for path in read_site_pages(site)
    }
    with tempfile.TemporaryDirectory() as scratch:
        whoosh_dir = Path(scratch) / "whoosh"
        whoosh_dir.mkdir()
        scores = {
            "procsearch": procsearch(root, queries, Path(scratch)),
            "plain Whoosh BM25 (page text)": plain_whoosh(pages, queries, whoosh_dir),
            "SQLite FTS5 bm25 (page text)": fts5(pages, queries),
        }
    print(f"| engine | success@3 on {len(queries)} title and other-name queries |")
    print("|---|---:|")
    for name, score in scores.items():
        print(f"| {name} | {score:.3f} |")


if __name__ == "__main__":
    main()
