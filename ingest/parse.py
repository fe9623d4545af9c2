"""Parse one scraped procedure page into a :class:`ProcedureDoc`.

:func:`parse_page` is a pure function of the page's HTML: it reads no files. It does not depend
on one site's template: it removes page furniture, turns the content into a flat list of
headings and text blocks, and maps headings onto the canonical sections of :mod:`.sections`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import escape
from pathlib import PurePosixPath
from urllib.parse import urlparse

from bs4 import BeautifulSoup, Comment, Doctype, NavigableString, Tag

from .codes import LABELLED_CODE, find_codes, group_of, normalize_code, system_from_label, system_of
from .encoding import clean_text, decode_html
from .errors import PageSkipped
from .record import ProcedureDoc, SimilarCode
from .sections import NAMES, OTHER, SIMILAR, SKIP, match_heading

PARSER = "html.parser"
"""The BeautifulSoup tree builder: the standard library's, so results never depend on what else is installed."""

MAX_TOKEN_LENGTH = 64
"""Longer "words" (base64, minified code, hashes) are dropped from the text."""

_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "svg",
    "canvas",
    "form",
    "button",
    "input",
    "select",
    "textarea",
    "nav",
    "footer",
    "aside",
    "object",
    "embed",
    "video",
    "audio",
    "map",
    "head",
)
_FURNITURE = re.compile(
    r"(^|[\s_-])(cookie|consent|gdpr|banner|advert\w*|ads?|ad-?slot|adsense|sponsor\w*|promo|sidebar|"
    r"breadcrumbs?|menu|navbar|nav|navigation|navbox|(left|right|side|top)-?(menu|nav)|topbar|masthead|"
    r"site-header|header-search|search-?box|searchbar|footer|printfooter|share|sharing|social|newsletter|"
    r"subscribe|upsell|upgrade(?:-?(?:box|prompt|banner|cta))?|popup|modal|skip-?link|jump-?link|related-links|related|page-actions|"
    r"print-only|noprint|hide-offscreen|toolbar|widget|byline|toc|table-of-contents|"
    # MediaWiki: section edit links, disambiguation notes, category links.
    r"editsection|hatnote|catlinks)($|[\s_-])",
    re.I,
)
_CITATION_MARK = re.compile(r"^\[\s*(\d{1,3}|[a-z]|note \d+|citation needed)\s*\]$", re.I)
"""The text of a footnote marker such as ``<sup>[3]</sup>``."""
_EDIT_LINK = re.compile(r"\s*\[\s*edit( source)?\s*\]\s*$", re.I)
_BOILERPLATE = re.compile(
    r"(?i)^(?:"
    r"advertisement\b.{0,40}|sponsored(?: content)?|(?:back to|return to) top\b.*|skip to (?:main )?content\b.*"
    r"|(?:page |article |content )?last (?:medically )?(?:reviewed|updated|modified|edited)\b.*"
    # A byline names a person or a date ("Reviewed by Dr. Lee", "Updated on 3 May 2024"), not
    # "reviewed by a pathologist"; a wiki's "Retrieved from" line gives an address.
    r"|(?:medically reviewed|reviewed|written|fact[- ]checked|updated)(?: by| on)\s+(?-i:[A-Z0-9]).*"
    r"|medically reviewed\..*"
    r"|this (?:page|leaflet|article|information|content) was (?:last )?(?:reviewed|updated|published|edited)\b.*"
    r"|(?:next )?review (?:date|due)\b.*|(?:date )?published\s*:.*|by [^.]{1,60} staff"
    r"|(?:share|print|email) this (?:page|article|code|leaflet)\b.*|retrieved from\s+(?:\"?https?://|(?-i:[A-Z])).*"
    r"|from \S+(?: \S+)?, the free encyclopedia"
    r")$"
)
"""A whole block of page furniture that carries no class to recognise it by: an "Advertisement" label, a
review date, a byline, a "Back to top" link."""
MAX_BOILERPLATE_LENGTH = 250
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_BLOCK_TAGS = (
    "p",
    "li",
    "dd",
    "dt",
    "blockquote",
    "pre",
    "address",
    "figcaption",
    "caption",
    "td",
    "th",
    "tr",
    "table",
    "ul",
    "ol",
    "dl",
    "div",
    "section",
    "article",
    "main",
    "header",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "br",
    "hr",
)
_NAMES_LINE = re.compile(
    r"\b(?:common names?|other names?|also (?:known as|called)|abbreviations?|synonyms?|lay names?)"
    r"(?: for [^:]{1,80})?\s*[:\-\u2013]\s*(?P<names>.+)",
    re.I,
)
_GROUP_LINE = re.compile(
    r"(?im)^(?:- )?(?:category|specialty|speciality|body system|code range|section)\s*[:\-\u2013]\s*([^\n]{2,80})$"
)
_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r" ([,.;:!?)\]])")
_LONG_TOKEN = re.compile(rf"\S{{{MAX_TOKEN_LENGTH + 1},}}")
_TITLE_SUFFIX = re.compile(r"\s+[|\u2013\u2014:-]\s+[^|\u2013\u2014:-]{1,40}$")


_MARKUP = re.compile(r"<(html|body|head|p|div|h[1-6]|ul|ol|li|table|section|article|main|span|a|br|meta|title)\b", re.I)
_BULLET = re.compile(r"^\s*(?:[\u2022\u25cf\u25aa*\u2013-]|\d{1,2}[.)])\s+")
_SEARCH_BOX = re.compile(r"(?i)^search (all )?(medical )?codes?\b")


def text_to_html(text: str) -> str:
    """Markup for a page saved as rendered text: the first line is the title, lines that name a
    section are headings, bulleted and numbered lines are list items, the rest paragraphs."""
    lines = [line.strip() for line in text.splitlines()]
    parts: list[str] = []
    titled = False
    for line in lines:
        if not line or _SEARCH_BOX.match(line):
            continue
        for heading, rest in _split_glued_heading(line):
            body = escape(rest)
            if heading:
                parts.append(f"<h2>{escape(heading)}</h2>")
            elif not titled:
                parts.append(f"<h1>{body}</h1>")
                titled = True
            elif _BULLET.match(rest):
                parts.append(f"<li>{escape(_BULLET.sub('', rest))}</li>")
            elif body:
                parts.append(f"<p>{body}</p>")
    return "<html><body><main>" + "\n".join(parts) + "</main></body></html>"


def _split_glued_heading(line: str) -> list[tuple[str, str]]:
    """A short line naming a section is a heading; so is a heading glued to the next text
    ("Similar CodesReal pages ..."), which text scrapers produce."""
    if len(line) <= 60 and not line.endswith(".") and match_heading(line) is not None and not _BULLET.match(line):
        return [(line, "")]
    glued = re.match(r"^(Similar Codes|Related Codes)(?=[A-Z0-9])(.*)$", line)
    if glued:
        return [(glued.group(1), ""), ("", glued.group(2))]
    return [("", line)]


@dataclass
class _Block:
    """One piece of the linearised page: a heading, a paragraph, or a list item."""

    kind: str  # "heading", "text" or "item"
    text: str
    level: int = 0
    href: str = ""


def parse_page(html: str | bytes, *, source: str = "") -> ProcedureDoc:
    """Parse the HTML of one procedure page into a record.

    ``source`` names the page (a path or URL); it is stored in the record and used as the id of a
    page that carries no code. Raises :class:`PageSkipped` for a page with no title and no
    recognisable content.
    """
    raw = html if isinstance(html, bytes) else html.encode("utf-8", "surrogatepass")
    text = decode_html(html) if isinstance(html, bytes) else clean_text(html)
    content_hash = hashlib.sha256(raw).hexdigest()
    if not _MARKUP.search(text[:65536]):
        text = text_to_html(text)
    soup = BeautifulSoup(text, PARSER)

    canonical = _canonical_url(soup)
    head_title = _head_title(soup)
    _remove_furniture(soup)
    root = _content_root(soup)
    blocks = [block for block in _linearise(root) if not _is_boilerplate(block)]

    title, blocks = _take_title(blocks, head_title)
    preamble, lead, names_text, similar_blocks, sections, other = _segment(blocks)

    code, system = _find_code(preamble, title, head_title, canonical, source)
    title = _strip_title(title, code)
    if lead:
        # The text between the title and the first heading (a lede, a wiki article's opening
        # paragraphs) introduces the procedure: it opens the summary.
        summary = "\n".join(part for part in (lead, sections.get("summary", "")) if part)
        sections = {"summary": summary, **{name: text for name, text in sections.items() if name != "summary"}}
    common_names = _common_names(names_text, [preamble, *sections.values(), *other.values()], title)

    if not title and not sections and not other:
        raise PageSkipped("no title and no recognisable content", source)
    if not sections and not other and not names_text and not preamble:
        raise PageSkipped("no recognisable content", source)
    if not title:
        title = names_text.split(".")[0].strip() if names_text else ""
    if not title:
        title = _first_sentence(next(iter(sections.values()), "") or next(iter(other.values()), ""))

    return ProcedureDoc(
        code=code or _fallback_id(canonical, source, title),
        code_system=system if code else "",
        title=title,
        common_names=common_names,
        sections=sections,
        other=other,
        similar_codes=_similar_codes(similar_blocks, exclude=code),
        group=(group_of(code, system) if code else "") or _group(preamble),
        source=source,
        content_hash=content_hash,
    )


# --- furniture ---------------------------------------------------------------------------------


def _canonical_url(soup: BeautifulSoup) -> str:
    for name, attrs in (("link", {"rel": "canonical"}), ("meta", {"property": "og:url"})):
        tag = soup.find(name, attrs=attrs)  # type: ignore[arg-type]
        if isinstance(tag, Tag):
            value = tag.get("href") or tag.get("content")
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def _head_title(soup: BeautifulSoup) -> str:
    meta = soup.find("meta", attrs={"property": "og:title"})
    if isinstance(meta, Tag) and isinstance(meta.get("content"), str):
        return _squash(str(meta["content"]))
    tag = soup.find("title")
    return _squash(tag.get_text(" ")) if isinstance(tag, Tag) else ""


def _remove_furniture(soup: BeautifulSoup) -> None:
    """Drop scripts, styles, comments, navigation, banners, ads, forms and the like, in place.

    An element holding the page's h1 is never dropped (some sites put the title in a header).
    Neither is the text of a button inside a heading (an accordion's heading) nor a collapsed
    accordion or tab panel: its text is in the page, only hidden until the reader opens it.
    Linear in the size of the page, however deeply it nests.
    """
    for node in soup.find_all(string=lambda s: isinstance(s, (Comment, Doctype))):
        node.extract()
    panels = _disclosure_panels(soup)
    for button in soup.find_all("button"):
        if button.find_parent(_HEADING_TAGS + ("summary",)) is not None:
            button.unwrap()
        elif button.get("aria-expanded") is not None and button.get("aria-controls"):
            button.name = "h3"  # an accordion's trigger is its panel's heading
    for sup in soup.find_all("sup"):
        if _CITATION_MARK.match(sup.get_text(strip=True)):
            sup.decompose()
    keeps_title = {id(parent) for h1 in soup.find_all("h1") for parent in h1.parents}
    doomed: list[Tag] = []
    for tag in soup.find_all(True):
        if id(tag) in keeps_title or tag.name in ("html", "body", "main", "article"):
            continue
        if tag.name in _DROP_TAGS or tag.name == "header":
            doomed.append(tag)
            continue
        marks = " ".join([str(tag.get("id") or ""), *(tag.get("class") or []), str(tag.get("role") or "")])
        if marks.strip() and _FURNITURE.search(marks):
            if not ("related" in marks.lower() and _is_similar_block(tag)):
                doomed.append(tag)
        elif (tag.get("hidden") is not None or tag.get("aria-hidden") == "true") and id(tag) not in panels:
            doomed.append(tag)
    doomed_ids = {id(tag) for tag in doomed}
    for tag in doomed:
        if not any(id(parent) in doomed_ids for parent in tag.parents):
            tag.decompose()


def _is_similar_block(tag: Tag) -> bool:
    """A block of related codes: it holds a "Related codes" heading, or is the list right after one."""
    heading = tag.find(_HEADING_TAGS + ("strong", "b", "dt"))
    if not isinstance(heading, Tag):
        heading = tag.find_previous_sibling(True)
    return isinstance(heading, Tag) and match_heading(heading.get_text(" ")) == SIMILAR


def _disclosure_panels(soup: BeautifulSoup) -> set[int]:
    """Collapsed accordion and tab panels: the elements an ``aria-expanded`` control points at
    with ``aria-controls``, and elements with role region or tabpanel."""
    tags = soup.find_all(True)
    controlled = {
        name
        for control in tags
        if control.get("aria-expanded") is not None
        for name in str(control.get("aria-controls") or "").split()
    }
    return {
        id(tag)
        for tag in tags
        if tag.get("role") in ("region", "tabpanel") or (tag.get("id") and str(tag.get("id")) in controlled)
    }


def _content_root(soup: BeautifulSoup) -> Tag:
    """The element holding the page's content: main, article or role=main if it holds the h1."""
    h1 = soup.find("h1")
    for candidate in (soup.find("main"), soup.find("article"), soup.find(True, attrs={"role": "main"})):
        if not isinstance(candidate, Tag) or len(candidate.get_text(strip=True)) < 200:
            continue
        if not isinstance(h1, Tag) or candidate.find("h1") is not None:
            return candidate
    return _body(soup)


def _body(soup: BeautifulSoup) -> Tag:
    body = soup.find("body")
    return body if isinstance(body, Tag) else soup


# --- linearising -------------------------------------------------------------------------------


MAX_DEPTH = 120
"""Below this many nested elements, a subtree is read as one block of text (no recursion limit hit)."""


def _linearise(root: Tag, depth: int = 0) -> Iterator[_Block]:
    """Walk the content in document order, yielding headings, paragraphs and list items."""
    if depth > MAX_DEPTH:
        text = _squash(root.get_text(" "))
        if text:
            yield _Block("text", text)
        return
    inline: list[str] = []

    def flush() -> Iterator[_Block]:
        text = _squash(" ".join(inline))
        inline.clear()
        if text:
            yield _Block("text", text)

    for child in root.children:
        if isinstance(child, NavigableString):
            inline.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name
        if name in _HEADING_TAGS or _heading_level(child):
            yield from flush()
            text = _EDIT_LINK.sub("", _squash(child.get_text(" ")))
            if text:
                yield _Block("heading", text, level=int(name[1]) if name in _HEADING_TAGS else _heading_level(child))
        elif name == "dt":
            yield from flush()
            text = _squash(child.get_text(" "))
            if text:
                yield _Block("heading" if match_heading(text) else "text", text, level=4)
        elif name == "li":
            yield from flush()
            yield from _list_item(child, depth)
        elif name in ("p", "dd", "blockquote", "pre", "address", "figcaption", "caption"):
            yield from flush()
            yield from _paragraph(child, depth)
        elif name == "tr":
            yield from flush()
            yield from _table_row(child, depth)
        elif name == "br":
            yield from flush()
        elif name in _BLOCK_TAGS or child.find(_BLOCK_TAGS):
            yield from flush()
            if _bold_heading(child):
                yield _Block("heading", _squash(child.get_text(" ")), level=5)
            else:
                yield from _linearise(child, depth + 1)
        else:
            inline.append(child.get_text(" "))
    yield from flush()


def _paragraph(tag: Tag, depth: int) -> Iterator[_Block]:
    if _bold_heading(tag):
        yield _Block("heading", _squash(tag.get_text(" ")), level=5)
        return
    if _first_descendant(tag, ("ul", "ol", "dl", "table", "div", "p")) is not None:
        yield from _linearise(tag, depth + 1)
        return
    text = _squash(tag.get_text(" "))
    if text:
        yield _Block("text", text, href=_only_link(tag))


def _list_item(tag: Tag, depth: int) -> Iterator[_Block]:
    nested = _child_tags(tag, ("ul", "ol"))
    for lst in nested:
        lst.extract()
    text = _squash(tag.get_text(" "))
    if text:
        yield _Block("item", text, href=_only_link(tag))
    for lst in nested:
        yield from _linearise(lst, depth + 1)


def _table_row(tag: Tag, depth: int) -> Iterator[_Block]:
    """A data row is one item ("Code - 47562"); a row of a layout table is read cell by cell."""
    row = _child_tags(tag, ("td", "th"))
    if any(_is_layout_cell(cell) for cell in row):
        yield from _linearise(tag, depth + 1)
        return
    cells = [_squash(cell.get_text(" ")) for cell in row]
    cells = [cell for cell in cells if cell]
    if cells:
        yield _Block("item", " - ".join(cells), href=_only_link(tag))


def _is_layout_cell(cell: Tag) -> bool:
    """A table cell that holds a page's content (headings, several paragraphs or lists), not a value."""
    if _first_descendant(cell, _HEADING_TAGS + ("table",)) is not None:
        return True
    blocks = _child_tags(cell, ("p", "div", "ul", "ol", "dl"))
    return len(blocks) >= 2 or len(cell.get_text(" ", strip=True)) > 400


_HEADING_CLASS = re.compile(r"(^|[\s_-])(heading|subheading|title|subtitle|h[2-6])($|[\s_-])", re.I)


def _heading_level(tag: Tag) -> int:
    """The level of a heading that is not an h1-h6: ``role="heading"`` (with its ``aria-level``),
    a ``<summary>`` (a disclosure's label), or a short block of text whose class calls it a
    heading or title. 0 for anything else."""
    if tag.get("role") == "heading":
        level = str(tag.get("aria-level") or "")
        return int(level) if level.isdigit() and 1 <= int(level) <= 6 else 5
    if tag.name == "summary":
        return 6
    if tag.name in ("div", "p") and _HEADING_CLASS.search(" ".join(tag.get("class") or [])):
        text = tag.get_text(" ", strip=True)
        if 0 < len(text) <= 100 and tag.find(_BLOCK_TAGS) is None:
            return 5
    return 0


def _bold_heading(tag: Tag) -> bool:
    """A paragraph whose whole text is one bold phrase is a heading when it names a known heading
    (a canonical section, or a common other one such as "Results"); any other bold line ("Do not
    drive for 24 hours") is emphasis inside its section.

    Only direct children are looked at, so the check costs nothing on deeply nested markup.
    """
    content = [child for child in tag.children if not (isinstance(child, NavigableString) and not child.strip())]
    if len(content) != 1 or not isinstance(content[0], Tag) or content[0].name not in ("strong", "b"):
        return False
    text = _squash(content[0].get_text(" "))
    if not 0 < len(text) <= 80:
        return False
    return match_heading(text) is not None


def _is_boilerplate(block: _Block) -> bool:
    return (
        block.kind != "heading" and len(block.text) <= MAX_BOILERPLATE_LENGTH and bool(_BOILERPLATE.match(block.text))
    )


def _only_link(tag: Tag) -> str:
    """The target of the first link in ``tag`` ("" if none)."""
    link = _first_descendant(tag, ("a",), attribute="href")
    return str(link["href"]) if link is not None else ""


def _child_tags(tag: Tag, names: tuple[str, ...]) -> list[Tag]:
    """``tag.find_all(names, recursive=False)``, without building a bs4 filter on every call (the
    parser asks this of every list item and table row)."""
    return [child for child in tag.children if isinstance(child, Tag) and child.name in names]


def _first_descendant(tag: Tag, names: tuple[str, ...], *, attribute: str = "") -> Tag | None:
    """``tag.find(names)`` (with ``attribute`` present, if named), likewise without a filter."""
    for node in tag.descendants:
        if isinstance(node, Tag) and node.name in names and (not attribute or node.get(attribute) is not None):
            return node
    return None


# --- segmenting --------------------------------------------------------------------------------


def _take_title(blocks: list[_Block], head_title: str) -> tuple[str, list[_Block]]:
    """The page title: the first h1, else the head's title without its site suffix (and a heading
    that repeats it is the title, not a section)."""
    for index, block in enumerate(blocks):
        if block.kind == "heading" and block.level == 1:
            return block.text, blocks[:index] + blocks[index + 1 :]
    title = head_title
    while _TITLE_SUFFIX.search(title):
        title = _TITLE_SUFFIX.sub("", title)
    title = title.strip()
    for index, block in enumerate(blocks):
        if block.kind == "heading" and title and block.text.casefold() == title.casefold():
            return block.text, blocks[:index] + blocks[index + 1 :]
    return title, blocks


_CODE_PREFIX = re.compile(
    r"^\s*(?:(?:CPT|HCPCS(?: Level II)?|ICD-10-PCS)\s*®?\s*(?:code\s*)?)?(?P<code>[0-9A-Z]{5,7})\s*[-\u2013\u2014:|]\s+(?=\S)",
    re.I,
)
_TITLE_TOPICS = re.compile(r"\s*,\s*(?:and\s+|&\s+)?|\s+(?:and|&)\s+")


def _strip_title(title: str, code: str) -> str:
    """A title without the page's code in front ("CPT® 45378 - Colonoscopy" -> "Colonoscopy") and
    without a list of the page's topics after a colon ("Cystoscopy: What It Is, Purpose & Recovery")."""
    match = _CODE_PREFIX.match(title)
    if match and code and normalize_code(match.group("code")) == code:
        title = title[match.end() :]
    name, colon, topics = title.partition(": ")
    parts = [part for part in _TITLE_TOPICS.split(topics) if part] if colon else []
    if len(parts) >= 2 and sum(match_heading(part) is not None for part in parts) * 2 >= len(parts):
        title = name
    return title.strip()


_LABEL_LINE = re.compile(r"^[^.:!?]{1,40}:\s*\S[^.]{0,80}$")
"""A short "Label: value" line, not a sentence."""
_PROSE = re.compile(r"^\S+(?:\s+\S+){7,}.*[.!?]$")
"""A sentence or more: at least eight words, ending like a sentence."""


def _segment(
    blocks: list[_Block],
) -> tuple[str, str, str, list[_Block], dict[str, str], dict[str, str]]:
    """Group blocks under their headings: preamble, lead, names, similar codes, sections, other.

    Before the first heading, the blocks from the first paragraph of prose on are the page's
    lead; the others (code labels, infobox rows) are its preamble.
    """
    preamble: list[_Block] = []
    lead: list[_Block] = []
    names: list[_Block] = []
    similar: list[_Block] = []
    sections: dict[str, list[_Block]] = {}
    other: dict[str, list[_Block]] = {}
    bucket, level = preamble, 0

    for block in blocks:
        if block.kind != "heading":
            if bucket is preamble and (lead or (block.kind == "text" and _PROSE.match(block.text))):
                # Label lines ("CPT code: 45378", "Category: Digestive") stay in the preamble,
                # where the code and group are looked for, even after the lead has begun.
                (preamble if _LABEL_LINE.match(block.text) else lead).append(block)
            else:
                bucket.append(block)
            continue
        target = match_heading(block.text)
        if target in (None, OTHER) and level and block.level > level:
            # An unknown (or non-canonical) sub-heading inside a section stays in that section, as text.
            bucket.append(_Block("text", block.text))
            continue
        level = block.level
        if target is None or target == OTHER:
            bucket = other.setdefault(block.text.rstrip(":").strip(), [])
        elif target == NAMES:
            bucket = names
        elif target == SIMILAR:
            bucket = similar
        elif target == SKIP:
            bucket = []
        else:
            bucket = sections.setdefault(target, [])

    def joined(parts: list[_Block]) -> str:
        return "\n".join(_format(part) for part in parts).strip()

    section_text = {name: joined(parts) for name, parts in sections.items() if joined(parts)}
    other_text = {name: joined(parts) for name, parts in other.items() if joined(parts)}
    return joined(preamble), joined(lead), joined(names), similar, section_text, other_text


def _format(block: _Block) -> str:
    return f"- {block.text}" if block.kind == "item" else block.text


# --- fields ------------------------------------------------------------------------------------


def _find_code(preamble: str, title: str, head_title: str, canonical: str, source: str) -> tuple[str, str]:
    """The page's own code and system: a labelled code near the title wins, then URL or file name."""
    for text in (preamble, title, head_title):
        for match in LABELLED_CODE.finditer(text):
            code = normalize_code(match.group("code"))
            shape = system_of(code)
            if shape:
                return code, system_from_label(match.group("label")) or shape
    for text in (preamble, title, head_title):
        text = _OTHER_VOCABULARY.sub("", text)
        codes = [code for code in find_codes(text) if not code.isdigit() or len(code) == 5]
        if len(set(codes)) == 1:
            return codes[0], system_from_label(text) or system_of(codes[0])
    for location in (urlparse(canonical).path if canonical else "", PurePosixPath(source).name):
        label = system_from_label(location.replace("-", " ").replace("_", " ").replace("/", " "))
        stem = re.sub(r"\.[a-z]{2,4}$", "", location.rstrip("/").rsplit("/", 1)[-1])
        last = re.split(r"[^A-Za-z0-9]+", stem)[-1]
        for part in reversed(re.split(r"[^A-Za-z0-9]+", location)):
            code = normalize_code(part)
            # A number in a URL is often an article id ("/health/17514-cystoscopy"): it is a
            # code only next to a code system's name or at the end of the name ("/colonoscopy-45378/").
            if code.isdigit() and not label and part != last:
                continue
            if system_of(code) and any(ch.isdigit() for ch in code):
                return code, label or system_of(code)
    return "", ""


_OTHER_VOCABULARY = re.compile(
    r"(?im)\b(?:MeSH|ICD-?9(?:-CM)?|ICD-?10(?:-CM)?(?!-?PCS)|ICD-?11|OPS-?301|SNOMED(?: CT)?|LOINC|MedlinePlus"
    r"|eMedicine|OMIM|DiseasesDB|UMLS|NCIt?)\b.*$"
)
"""A line naming an id of another vocabulary (an infobox's "MeSH - D001064"): not a procedure code."""


def _group(preamble: str) -> str:
    """A specialty or body system the page states near its title ("Category: Nervous system")."""
    match = _GROUP_LINE.search(preamble)
    return match.group(1).strip() if match else ""


def _fallback_id(canonical: str, source: str, title: str) -> str:
    """The id of a page with no code: its canonical URL's last path part, its file name, or its title."""
    for candidate in (urlparse(canonical).path if canonical else "", PurePosixPath(source).stem if source else ""):
        parts = [part for part in candidate.strip("/").split("/") if part]
        if parts:
            slug = re.sub(r"\.html?$", "", parts[-1])
            slug = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-")
            if slug and slug not in ("index", "default"):
                return slug
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80] or "untitled"


def _common_names(names_text: str, texts: list[str], title: str) -> tuple[str, ...]:
    """Names from the "Name of the Procedure" paragraph and any "Other names:" line in ``texts``."""
    found: list[str] = []
    for text in [names_text, *texts]:
        for line in text.splitlines():
            match = _NAMES_LINE.search(line)
            if match:
                found.extend(_split_names(match.group("names")))
    if names_text:
        full_name = _NAMES_LINE.split(names_text)[0] if _NAMES_LINE.search(names_text) else names_text
        full_name = re.split(r"(?i)\b(?:common|other) names?\b", full_name)[0].strip().rstrip(".").strip()
        if full_name and len(full_name) < 250:
            found.insert(0, full_name)
    seen = {title.casefold()}
    names: list[str] = []
    for name in found:
        name = name.strip(" .;:-\u2013\"'\u201c\u201d\u2018\u2019")
        if name and len(name) <= 120 and name.casefold() not in seen:
            seen.add(name.casefold())
            names.append(name)
    return tuple(names)


def _split_names(text: str) -> list[str]:
    """Split "A, B (C, D); E or F." on commas and semicolons outside parentheses."""
    text = text.strip().rstrip(".")
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(0, depth - 1)
        if char in ",;" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    names: list[str] = []
    for part in parts:
        part = re.sub(r"^\s*(?:and|or)\s+", "", part.strip())
        if names and ";" in text and re.fullmatch(r"[a-z]+", part):
            # "core biopsy, breast; fine-needle aspiration": in a list separated by semicolons,
            # a lone lower-case word after a comma qualifies the name before it.
            names[-1] = f"{names[-1]}, {part}"
            continue
        names.extend(p.strip() for p in re.split(r"\s+or\s+(?=[A-Z])", part) if p.strip())
    return names


def _similar_codes(blocks: list[_Block], *, exclude: str) -> tuple[SimilarCode, ...]:
    """Each code listed under Similar Codes, with the label text next to it."""
    result: list[SimilarCode] = []
    seen = {exclude}
    for block in blocks:
        codes = find_codes(block.text)
        if not codes and block.href:
            codes = find_codes(block.href.replace("/", " "))
        if not codes:
            continue
        code = codes[0]
        if code in seen:
            continue
        seen.add(code)
        label = re.sub(r"(?i)^\s*(?:cpt4?|hcpcs|icd-10-pcs)?\s*(?:code)?\s*" + re.escape(code), "", block.text, count=1)
        label = label.strip(" \t-\u2013\u2014:|,")
        result.append(SimilarCode(code, label))
    return tuple(result)


def _first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0] if text else ""
    return sentence[:120]


def _squash(text: str) -> str:
    """Collapse white space and drop over-long tokens."""
    text = _LONG_TOKEN.sub("", text)
    text = _SPACE.sub(" ", text.replace("\n", " ")).strip()
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
