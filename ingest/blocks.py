"""Stage 3 of parsing: the page becomes a flat list of blocks in reading order.

A block is a heading, a paragraph or a list item. Every piece of text a browser would show
becomes exactly one block; a block under furniture carries the reason (see :mod:`.furniture`),
so that the later stages can account for every word of the page.

Headings are recognised by what they do, not only by their tag: ``h1``-``h6``,
``role=heading``, ``<summary>``, accordion triggers, elements whose class names them a label,
title or heading (``field__label``, ``wp-block-heading``, ``cmp-title__text``, ``card-header``),
and short bold or specially styled lines, which :mod:`.outline` confirms or rejects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, Tag

from . import furniture
from .furniture import BLOCK_TAGS, INVISIBLE_TAGS, Measure
from .heading_marks import HEADING_TAGS, bold_part, heading_level, label_class, names_a_section, style_of
from .sections import is_alias, match_heading

MAX_TOKEN_LENGTH = 64
"""Longer "words" (base64, minified code, hashes) are dropped from the text."""

MAX_DEPTH = 120
"""Below this many nested elements, a subtree is read as one block of text (no recursion limit hit)."""

_PARAGRAPH_TAGS = ("p", "dd", "blockquote", "pre", "address", "figcaption", "caption")
_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" ([,.;:!?)\]])")
_LONG_TOKEN = re.compile(rf"(?<!\S)(?!https?://|www\.)\S{{{MAX_TOKEN_LENGTH + 1},}}")
"""An over-long token that is no web address (addresses split into words when indexed)."""
_EDIT_LINK = re.compile(r"\s*\[\s*edit( source)?\s*\]\s*$", re.I)
_LEAD_IN = re.compile(r"^(?P<label>[^.!?]{2,60}?)\s*[:\u2013\u2014-]?\s*$")


@dataclass(frozen=True)
class Block:
    """One piece of the linearised page.

    ``kind`` is "heading", "text" or "item". ``how`` says how a heading was recognised ("h2",
    "role=heading", "label class field__label", ...). ``style`` is the signature of a short line's
    markup (tag, classes, inline style, bold) by which :mod:`.outline` finds headings on pages that
    have no heading markup. ``dropped`` is the reason the block is furniture ("" when it is not).
    """

    kind: str
    text: str
    level: int = 0
    how: str = ""
    style: str = ""
    href: str = ""
    dropped: str = ""


@dataclass(frozen=True)
class PageBlocks:
    """A page read into blocks: everything the later stages need, and nothing of BeautifulSoup."""

    blocks: tuple[Block, ...]
    canonical: str = ""
    head_title: str = ""
    content_hash: str = ""
    script_data: int = 0
    """Characters of data in the page's JSON scripts (``__NEXT_DATA__``, JSON-LD): a page that
    shows nothing but carries this much was saved before its scripts rendered it."""


def read_blocks(markup: str, *, content_hash: str = "") -> PageBlocks:
    """Read a page's markup into blocks (furniture included, marked with its reason)."""
    soup = BeautifulSoup(markup, PARSER)
    head = soup.find("head")
    where = head if isinstance(head, Tag) else soup
    canonical = _canonical_url(where)
    head_title = _head_title(where)
    for node in [node for node in soup.descendants if isinstance(node, (Comment, Doctype))]:
        node.extract()
    script_data = sum(
        len(script.get_text())
        for script in soup.find_all("script")
        if isinstance(script, Tag) and "json" in str(script.get("type") or "").lower()
    )
    root = soup  # the whole document: text a browser shows after </body> counts too (head is invisible)
    walker = _Walker(soup, root)
    return PageBlocks(tuple(walker.run()), canonical, head_title, content_hash, script_data)


PARSER = "html.parser"
"""The BeautifulSoup tree builder: the standard library's, so results never depend on what else is installed."""


class _Walker:
    """Walks the tree once, in document order; furniture decisions are made top-down, so the
    walk is linear in the size of the page however deeply it nests."""

    def __init__(self, soup: BeautifulSoup, root: Tag) -> None:
        self.soup = soup
        self.root = root
        self.early: list[Block] = []
        # One pass over the tree lists its elements; every later lookup reads the list (bs4's
        # find_all walks the whole tree, with a filter, on every call).
        self.tags = [node for node in soup.descendants if isinstance(node, Tag)]
        self.panels = furniture.disclosure_panels(self.tags)
        self._prepare()
        self.sizes = furniture.measure(root)
        h1 = next((tag for tag in self.named("h1") if not furniture.is_logo(tag)), None)
        self.title_path = {id(parent) for parent in h1.parents} | {id(h1)} if h1 is not None else set()
        main = furniture.main_region(
            (self.first("main"), self.first(role="main"), self.first("article")), root, self.sizes, self.title_path
        )
        self.main = main
        self.main_path = ({id(parent) for parent in main.parents} | {id(main)}) if main is not None else set()

    def first(self, name: str = "", *, role: str = "") -> Tag | None:
        """The first element (still in the tree) with this name, or this role."""
        for tag in self.tags:
            if (tag.name == name if name else tag.get("role") == role) and tag.parent is not None:
                return tag
        return None

    def named(self, *names: str) -> list[Tag]:
        return [tag for tag in self.tags if tag.name in names and tag.parent is not None]

    def run(self) -> list[Block]:
        blocks = list(self.walk(self.root, reason="", in_article=False, in_main=self.main is None, depth=0))
        return self.early + blocks

    def _prepare(self) -> None:
        """Controls, footnote marks and edit links inside running text are taken out first (and
        reported), so they never glue themselves to a sentence."""
        in_headings: set[int] = set()
        for heading in self.named(*HEADING_TAGS, "summary"):
            if id(heading) not in in_headings:  # an outer heading has counted this one already
                in_headings.update(id(node) for node in heading.descendants if isinstance(node, Tag))
        for button in self.named("button"):
            if id(button) in in_headings:
                button.unwrap()
            elif button.get("aria-expanded") is not None and (
                button.get("aria-controls") or furniture.disclosed_by(button) is not None
            ):
                button.name = "h3"  # an accordion's trigger is its panel's heading
                button["data-how"] = "accordion trigger"
        for tag in self.named("sup", "span", "a"):
            if tag.parent is None:
                continue  # inside a mark already taken out
            if furniture.is_citation_mark(tag):
                reason = furniture.CITATION_MARK
            elif tag.name == "span" and furniture.class_tokens(tag) & {"mw-editsection", "editsection"}:
                reason = furniture.EDIT_LINK
            else:
                continue
            text = squash(tag.get_text(" "))
            if text:
                self.early.append(Block("text", text, dropped=reason))
            tag.decompose()

    def text(self, tag: Tag) -> str:
        return furniture.visible_text(tag, self.panels)

    def size(self, tag: Tag) -> Measure:
        return self.sizes.get(id(tag), Measure())

    def walk(self, container: Tag, *, reason: str, in_article: bool, in_main: bool, depth: int) -> Iterator[Block]:
        """The blocks of ``container``'s children. ``reason`` is the furniture reason inherited
        from an ancestor ("" for content)."""
        if depth > MAX_DEPTH:
            text = squash(self.text(container))
            if text:
                yield Block("text", text, dropped=reason)
            return
        inline: list[str] = []

        def flush() -> Iterator[Block]:
            text = squash("".join(inline))  # inline pieces join as the browser shows them
            inline.clear()
            if text:
                yield Block("text", text, dropped=reason)

        for child in container.children:
            if isinstance(child, NavigableString):
                inline.append(str(child))
                continue
            if not isinstance(child, Tag) or child.name in INVISIBLE_TAGS:
                continue
            if furniture.is_hidden(child) and id(child) not in self.panels:
                continue
            size = self.size(child)
            inside = in_main or id(child) in self.main_path and child is self.main
            child_reason = reason
            if not child_reason:
                child_reason = furniture.furniture_reason(
                    child, size, in_article=in_article, holds_title=id(child) in self.title_path
                )
                if not child_reason and not inside and self.main is not None and id(child) not in self.main_path:
                    child_reason = furniture.OUTSIDE_MAIN
                if not child_reason and furniture.is_link_list(child, size, in_main=inside and self.main is not None):
                    child_reason = furniture.NAVIGATION
            if (
                child_reason
                and id(child) in self.title_path
                and child_reason in (furniture.OUTSIDE_MAIN, furniture.HEADER)
            ):
                child_reason = ""  # the page's title may sit in a header or outside <main>
            child_article = in_article or child.name == "article" or child is self.main
            if child_reason and not reason and id(child) not in self.title_path:
                # A furniture subtree is one dropped block: its structure does not matter.
                yield from flush()
                text = squash(self.text(child))
                if text:
                    yield Block("text", text, dropped=child_reason)
                continue
            if not (child.name in BLOCK_TAGS or size.has_blocks or label_class(child)):
                inline.append(self.text(child))
                continue
            yield from flush()
            yield from self.element(
                child, reason=child_reason, in_article=child_article, in_main=inside, depth=depth + 1
            )
        yield from flush()

    def element(self, tag: Tag, *, reason: str, in_article: bool, in_main: bool, depth: int) -> Iterator[Block]:
        """The blocks of one block-level element."""
        name = tag.name
        level, how = heading_level(tag)
        if level and not (name == "div" and self.size(tag).has_blocks and how.startswith("label class")):
            text = _EDIT_LINK.sub("", squash(self.text(tag)))
            if id(tag) in self.title_path:
                reason = ""  # the page's first h1 is its title, wherever the site put it
            if text:
                yield Block("heading", text, level=level, how=how, dropped=reason)
            return
        if name == "dt":
            text = squash(self.text(tag))
            if text:
                known = match_heading(text) is not None
                yield Block("heading" if known else "text", text, level=4 if known else 0, how="dt", dropped=reason)
            return
        if name == "li":
            yield from self.list_item(tag, reason=reason, in_article=in_article, in_main=in_main, depth=depth)
            return
        if name == "tr":
            yield from self.table_row(tag, reason=reason, in_article=in_article, in_main=in_main, depth=depth)
            return
        if name in ("br", "hr"):
            return
        if name in (*_PARAGRAPH_TAGS, "div") and not self.size(tag).has_blocks:
            yield from self.paragraph(tag, reason=reason)
            return
        yield from self.walk(tag, reason=reason, in_article=in_article, in_main=in_main, depth=depth)

    def paragraph(self, tag: Tag, *, reason: str) -> Iterator[Block]:
        """A paragraph: plain text, a bold line (a heading candidate), or a bold lead-in
        ("<b>Risks:</b> Bleeding ...") that names a known heading, which is split off."""
        text = squash(self.text(tag))
        if not text:
            return
        bold = bold_part(tag)
        if bold is not None:
            lead = squash(self.text(bold))
            if lead == text:
                yield Block("text", text, style=style_of(tag, bold=True), dropped=reason)
                return
            split = _lead_in(lead, text)
            if split:
                yield from _headed(*split, how="bold lead-in", reason=reason)
                return
        yield Block("text", text, style=style_of(tag), href=_only_link(tag), dropped=reason)

    def list_item(self, tag: Tag, *, reason: str, in_article: bool, in_main: bool, depth: int) -> Iterator[Block]:
        nested = [child for child in tag.children if isinstance(child, Tag) and child.name in ("ul", "ol", "dl")]
        for lst in nested:
            lst.extract()
        if self.size(tag).has_blocks and any(
            isinstance(child, Tag) and child.name in ("p", "div", "table") for child in tag.children
        ):
            yield from self.walk(tag, reason=reason, in_article=in_article, in_main=in_main, depth=depth)
        else:
            text = squash(self.text(tag))
            if text:
                yield Block("item", text, href=_only_link(tag), dropped=reason)
        for lst in nested:
            yield from self.walk(lst, reason=reason, in_article=in_article, in_main=in_main, depth=depth + 1)

    def table_row(self, tag: Tag, *, reason: str, in_article: bool, in_main: bool, depth: int) -> Iterator[Block]:
        """A data row is one item ("Code - 47562"); a row of a layout table is read cell by cell."""
        row = [child for child in tag.children if isinstance(child, Tag) and child.name in ("td", "th")]
        stray = any(
            (isinstance(child, Tag) and child.name not in ("td", "th"))
            or (isinstance(child, NavigableString) and child.strip())
            for child in tag.children
        )
        if stray or any(self._is_layout_cell(cell) for cell in row):
            yield from self.walk(tag, reason=reason, in_article=in_article, in_main=in_main, depth=depth)
            return
        cells = [text for text in (squash(self.text(cell)) for cell in row) if text]
        if len(row) == 2 and len(cells) == 2 and row[0].name == "th" and names_a_section(cells[0]):
            # A header cell naming a section ("Risks" | "Infection, bleeding ...") heads its row.
            yield Block("heading", cells[0], level=5, how="table header cell", dropped=reason)
            yield Block("text", cells[1], dropped=reason)
        elif cells:
            yield Block("item", " - ".join(cells), href=_only_link(tag), dropped=reason)

    def _is_layout_cell(self, cell: Tag) -> bool:
        """A table cell that holds a page's content (headings, several paragraphs or lists), not a value."""
        if cell.find((*HEADING_TAGS, "table")) is not None:
            return True
        blocks = [
            child for child in cell.children if isinstance(child, Tag) and child.name in ("p", "div", "ul", "ol", "dl")
        ]
        return len(blocks) >= 2 or self.size(cell).chars > 400


def _lead_in(lead: str, text: str) -> tuple[str, str] | None:
    """A bold lead-in that is a known heading ("Risks:" in "<b>Risks:</b> Infection ..."), split
    from the text after it; None when the bold part is no such label."""
    label = _LEAD_IN.match(lead)
    if label and lead != text and text.startswith(lead) and is_alias(label.group("label")):
        return label.group("label").strip(), text[len(lead) :].lstrip(" :\u2013\u2014-")
    return None


def _headed(heading: str, rest: str, *, how: str, reason: str) -> Iterator[Block]:
    yield Block("heading", heading, level=5, how=how, dropped=reason)
    if rest:
        yield Block("text", rest, dropped=reason)


def _only_link(tag: Tag) -> str:
    """The target of the first link in ``tag`` ("" if none)."""
    for node in tag.descendants:
        if isinstance(node, Tag) and node.name == "a" and node.get("href") is not None:
            return str(node["href"])
    return ""


def _canonical_url(soup: BeautifulSoup | Tag) -> str:
    for name, attrs in (("link", {"rel": "canonical"}), ("meta", {"property": "og:url"})):
        tag = soup.find(name, attrs=attrs)  # type: ignore[arg-type]
        if isinstance(tag, Tag):
            value = tag.get("href") or tag.get("content")
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def _head_title(soup: BeautifulSoup | Tag) -> str:
    meta = soup.find("meta", attrs={"property": "og:title"})
    if isinstance(meta, Tag) and isinstance(meta.get("content"), str):
        return squash(str(meta["content"]))
    tag = soup.find("title")
    return squash(tag.get_text(" ")) if isinstance(tag, Tag) else ""


def squash(text: str) -> str:
    """Collapse white space and drop over-long tokens."""
    text = _LONG_TOKEN.sub("", text)
    text = _SPACE.sub(" ", text.replace("\n", " ")).strip()
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
