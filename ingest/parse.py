"""Parse one scraped procedure page into a :class:`ProcedureDoc`, and account for every word.

:func:`parse_page` is a pure function of the page: it reads no files. It is a short pipeline of
stages, each its own module, none tuned to one site's template:

1. :mod:`.decode`: bytes to markup (rendered-text pages get markup here);
2. :mod:`.furniture`: which elements are furniture, and why (navigation, landmarks, forms, ...);
3. :mod:`.blocks`: the page as blocks in reading order, furniture marked with its reason
   (:mod:`.heading_marks` says what markup makes a heading);
4. :mod:`.outline`: headings recognised by what they do, blocks grouped under them;
5. :mod:`.extract`: the record's fields (code, title, names, similar codes, id).

:func:`parse_page_report` returns the record with its account: where each field came from, each
dropped block with its reason, and the page's coverage (``procsearch parse`` prints it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ..words import word_count, words
from . import extract
from .blocks import Block, PageBlocks, read_blocks
from .boilerplate import fingerprint, site_of
from .codes import LABELLED_CODE, system_from_label
from .coverage import Coverage, DroppedBlock, ParseReport, SectionOrigin
from .decode import page_markup, text_to_html
from .errors import PageSkipped
from .furniture import phrase_reason
from .outline import LEAD, PREAMBLE, Part, outline, resolve_headings
from .record import ProcedureDoc
from .sections import NAMES, OTHER, SECTION_NAMES, SECTIONS, SIMILAR, SKIP, drop_reason, is_alias

__all__ = ["assemble", "parse_page", "parse_page_report", "read_page_blocks", "text_to_html"]

BOILERPLATE = "site boilerplate"
DETAILS = "Details"
"""The ``other`` heading of label lines before the first heading that gave no field."""
_STEM = 4
"""Words alike in their first letters are one word when a heading is weighed ("tested", "tests")."""
_FUNCTION_WORDS_TEXT = (
    "what when where which while does will should would could have from with your about that this these those"
    " there their they them after before during into more other than then also each only some such being been were"
)
_FUNCTION_WORDS = frozenset(word[:_STEM] for word in _FUNCTION_WORDS_TEXT.split())
_ALIAS_WORDS = frozenset(
    word.casefold()[:_STEM] for section in SECTIONS for alias in section.aliases for word in words(alias)
)
_KEEPS_SITE_BLOCKS = frozenset((*SECTION_NAMES, NAMES, SIMILAR))
"""Parts whose blocks are never site boilerplate: text under a canonical heading is the page's own."""


def parse_page(html: str | bytes, *, source: str = "", boilerplate: Iterable[str] = ()) -> ProcedureDoc:
    """Parse the HTML (or rendered text) of one procedure page into a record.

    ``source`` names the page (a path or URL); it is stored in the record and gives the id of a
    page that carries no code. ``boilerplate`` holds fingerprints of site furniture found across
    a corpus (:mod:`.boilerplate`). Raises :class:`PageSkipped` for a page with no title and no
    recognisable content, or one too complex to parse.
    """
    return parse_page_report(html, source=source, boilerplate=boilerplate).doc


def parse_page_report(html: str | bytes, *, source: str = "", boilerplate: Iterable[str] = ()) -> ParseReport:
    """:func:`parse_page`, with the account of how the page was read."""
    return assemble(read_page_blocks(html, source=source), source=source, boilerplate=boilerplate)


def read_page_blocks(html: str | bytes, *, source: str = "") -> PageBlocks:
    """The costly half of a parse (decoding and the tree): the page as blocks."""
    markup, content_hash = page_markup(html, source=source)
    return read_blocks(markup, content_hash=content_hash)


def assemble(page: PageBlocks, *, source: str = "", boilerplate: Iterable[str] = ()) -> ParseReport:
    """The record and its account from a page's blocks (cheap: no HTML is read here)."""
    furniture_prints = frozenset(boilerplate)
    blocks = [_mark_phrase(block) for block in page.blocks]
    title, title_how, blocks = _take_title(blocks, page.head_title)
    title_words = word_count(title) if title_how else 0  # all of it was on the page, shortened or not
    parts = outline(resolve_headings(blocks))
    site = site_of(page.canonical, source)
    prints = frozenset(
        print_
        for part in parts
        if part.target not in _KEEPS_SITE_BLOCKS
        for block in part.blocks
        if not block.dropped and block.kind != "heading" and (print_ := fingerprint(block.text))
    )
    if furniture_prints & prints:
        parts = [_drop_site_blocks(part, furniture_prints) for part in parts]

    preamble = _joined(p for p in parts if p.target == PREAMBLE)
    code, system = extract.find_code(preamble, title, page.head_title, page.canonical, source)
    title = extract.strip_title(title, code)

    sections: dict[str, list[str]] = {}
    other: dict[str, list[str]] = {}
    origins: list[SectionOrigin] = []
    names: list[str] = []
    similar: list[Block] = []
    lead = _joined(p for p in parts if p.target == LEAD)
    for part in parts:
        text = _joined([part])
        if part.target in SECTION_NAMES and _heading_adds_words(part.heading, text, title):
            # A heading that says more than its section's name and its text ("What are the risks
            # from anthrax vaccine?") is text the page shows: it opens its part of the section.
            text = f"{part.heading}\n{text}".strip()
        if part.target in SECTION_NAMES and text:
            sections.setdefault(part.target, []).append(text)
            origins.append(SectionOrigin(part.target, part.heading, part.how))
        elif part.target == OTHER and text:
            other.setdefault(part.heading, []).append(text)
            origins.append(SectionOrigin(OTHER, part.heading, part.how))
        elif part.target == NAMES:
            names.extend(b.text for b in part.blocks if not b.dropped)
            origins.append(SectionOrigin("common_names", part.heading, part.how))
        elif part.target == SIMILAR:
            similar.extend(b for b in part.blocks if not b.dropped)
            origins.append(SectionOrigin("similar_codes", part.heading, part.how))
    if lead:
        # The text between the title and the first heading (a lede, a wiki article's opening
        # paragraphs) introduces the procedure: it opens the summary.
        sections["summary"] = [lead, *sections.get("summary", [])]
        origins.insert(0, SectionOrigin("summary", "", "text before the first heading"))
    details = _details(parts, code)
    if details:
        other[DETAILS] = [details, *other.get(DETAILS, [])]
        origins.append(SectionOrigin(OTHER, DETAILS, "label lines before the first heading"))
    section_text = {name: "\n".join(texts) for name in SECTION_NAMES if (texts := sections.get(name))}
    other_text = {heading: "\n".join(texts) for heading, texts in other.items()}
    name_texts = [preamble, *section_text.values(), *other_text.values()]

    unrendered = _unrendered(page)
    if not title and not section_text and not other_text:
        raise PageSkipped("no title and no recognisable content", source, unrendered)
    if not section_text and not other_text and not names and not preamble:
        raise PageSkipped("no recognisable content", source, unrendered)
    if not title:
        title = names[0].split(".")[0].strip() if names else ""
    if not title:
        title = extract.first_sentence(next(iter(section_text.values()), "") or next(iter(other_text.values()), ""))

    doc = ProcedureDoc(
        code=code or extract.page_id(page.canonical, source, title),
        code_system=system if code else "",
        title=title,
        common_names=extract.common_names(names, name_texts, title),
        sections=section_text,
        other=other_text,
        similar_codes=extract.similar_codes(similar, exclude=code),
        group=extract.code_group(code, system, preamble),
        source=source,
        content_hash=page.content_hash,
    )
    origins.insert(0, SectionOrigin("title", title, title_how))
    return ParseReport(
        doc=doc,
        origins=tuple(origins),
        dropped=tuple(_dropped_blocks(parts)),
        coverage=_coverage(parts, title_words=title_words),
        site=site,
        canonical_url=page.canonical,
        fingerprints=prints,
    )


def _heading_adds_words(heading: str, text: str, title: str) -> bool:
    """Whether a canonical section's heading holds a word that neither its text, the title nor a
    name of the section holds: "What is a laparoscopy?" over a text about laparoscopy adds nothing."""
    if not heading or is_alias(heading):
        return False
    known = {word.casefold()[:_STEM] for word in words(f"{title} {text}")} | _FUNCTION_WORDS | _ALIAS_WORDS
    return any(len(word) >= _STEM and word.casefold()[:_STEM] not in known for word in words(heading))


UNRENDERED_DATA = 200
"""Characters of script data above which a page that shows no text was saved unrendered."""


def _unrendered(page: PageBlocks) -> str:
    """Why a page shows nothing, when its text is data for scripts that never ran."""
    if page.script_data < UNRENDERED_DATA:
        return ""
    return (
        f"its text is script data, {page.script_data:,} characters, for a browser to render: "
        "save the page once it has rendered, from a browser or a headless one"
    )


def _mark_phrase(block: Block) -> Block:
    """A block of furniture that carries no markup to know it by ("Advertisement", a byline)."""
    if block.dropped or block.kind == "heading":
        return block
    reason = phrase_reason(block.text)
    return replace(block, dropped=reason) if reason else block


def _take_title(blocks: list[Block], head_title: str) -> tuple[str, str, list[Block]]:
    """The page title and how it was found: the first h1, else the head's title (the part of it
    the page repeats as a heading, which is then the title and not a section)."""
    for index, block in enumerate(blocks):
        if block.kind == "heading" and block.level == 1 and not block.dropped:
            return block.text, block.how, blocks[:index] + blocks[index + 1 :]
    headings = [block.text for block in blocks if not block.dropped and (block.kind == "heading" or block.style)]
    title = extract.title_from_head(head_title, headings)
    for index, block in enumerate(blocks):
        if not block.dropped and title and block.text.casefold() == title.casefold() and len(title) <= 120:
            return block.text, "page title repeated on the page", blocks[:index] + blocks[index + 1 :]
    return title, "", blocks


def _drop_site_blocks(part: Part, furniture_prints: frozenset[str]) -> Part:
    if part.target in _KEEPS_SITE_BLOCKS:
        return part
    blocks = [
        replace(block, dropped=BOILERPLATE)
        if not block.dropped and block.kind != "heading" and fingerprint(block.text) in furniture_prints
        else block
        for block in part.blocks
    ]
    return Part(part.target, part.heading, part.how, blocks)


def _joined(parts: Iterable[Part]) -> str:
    return "\n".join(_format(block) for part in parts for block in part.blocks if not block.dropped).strip()


def _format(block: Block) -> str:
    return f"- {block.text}" if block.kind == "item" else block.text


def _details(parts: list[Part], code: str) -> str:
    """Label lines before the first heading that neither carry the page's code nor name it."""
    lines = []
    for part in parts:
        if part.target != PREAMBLE:
            continue
        for block in part.blocks:
            if block.dropped:
                continue
            if code and (code in block.text.replace(" ", "") or LABELLED_CODE.search(block.text)):
                continue  # it gave the record its code
            if code and system_from_label(block.text) or extract.group_from(block.text):
                continue  # it named the code's system, or the page's group
            lines.append(_format(block))
    return "\n".join(lines)


def _dropped_blocks(parts: list[Part]) -> list[DroppedBlock]:
    dropped = []
    for part in parts:
        if part.target == SKIP and part.heading:
            dropped.append(DroppedBlock(_skip_reason(part), word_count(part.heading), _first_words(part.heading)))
        elif part.heading and part.blocks and all(block.dropped for block in part.blocks):
            dropped.append(DroppedBlock(part.blocks[0].dropped, word_count(part.heading), _first_words(part.heading)))
        dropped.extend(
            DroppedBlock(block.dropped, word_count(block.text), _first_words(block.text))
            for block in part.blocks
            if block.dropped
        )
    return dropped


def _skip_reason(part: Part) -> str:
    return drop_reason(part.heading) or next((b.dropped for b in part.blocks if b.dropped), "") or "page furniture"


def _coverage(parts: list[Part], *, title_words: int) -> Coverage:
    kept = title_words
    dropped: dict[str, int] = {}
    for block in _dropped_blocks(parts):
        dropped[block.reason] = dropped.get(block.reason, 0) + block.words
    for part in parts:
        if part.heading and part.target != SKIP and not (part.blocks and all(b.dropped for b in part.blocks)):
            kept += word_count(part.heading)
        kept += sum(word_count(block.text) for block in part.blocks if not block.dropped)
    return Coverage(words=kept + sum(dropped.values()), kept=kept, dropped=dropped)


def _first_words(text: str, limit: int = 12) -> str:
    words = text.split()
    return " ".join(words[:limit]) + (" ..." if len(words) > limit else "")
