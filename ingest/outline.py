"""Stage 4 of parsing: the blocks become an outline, each heading with the text under it.

Two jobs: deciding which short lines are headings on pages whose markup does not say so
(:func:`resolve_headings`), and grouping the blocks under their headings, mapped onto the
canonical sections (:func:`outline`). Blocks under a furniture heading ("References") are
marked dropped with that heading's reason; nothing is left out without one.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

from .blocks import Block
from .heading_marks import MAX_CANDIDATE_WORDS
from .sections import NAMES, OTHER, SIMILAR, SKIP, drop_reason, is_alias, match_heading

_SENTENCE_END = re.compile(r"[.;,]$")
_SENTENCE_ENDING = re.compile(r"[.!?][\"')\u201d\u2019]*(?:\s*\[?\d{1,3}\]?)*$")
_LETTER = re.compile(r"[^\W\d_]")
_LABEL_LINE = re.compile(r"^[^.:!?]{1,40}:\s*\S[^.]{0,80}$")
"""A short "Label: value" line, not a sentence."""

STRUCTURAL_HEADINGS = 2
"""A page with at least this many marked-up headings (h2-h6, roles, label classes) is trusted to
mark all of them; only pages with fewer get headings found by style alone."""

LEAD = "lead"
PREAMBLE = "preamble"


@dataclass
class Part:
    """One heading of the outline and the blocks under it.

    ``target`` is a canonical section name, ``other``, ``names``, ``similar``, ``skip`` (furniture),
    ``lead`` (prose before the first heading) or ``preamble`` (label lines before it).
    """

    target: str
    heading: str = ""
    how: str = ""
    blocks: list[Block] = field(default_factory=list)


def resolve_headings(blocks: list[Block]) -> list[Block]:
    """Short lines that act as headings become headings.

    A bold line that names a known heading is one. On a page with (almost) no heading markup, a
    style of short line is a heading style when it recurs, its lines are mostly followed by longer
    text, and no long paragraph shares it (the styled ``<p class="t7">`` headings of a site with no
    ``h2``): every line of that style is then a heading.
    """
    kept = [block for block in blocks if not block.dropped]
    marked = sum(1 for block in kept if block.kind == "heading" and block.level > 1)
    candidates = [i for i, block in enumerate(blocks) if _is_candidate(block)]
    styles: set[str] = set()
    if marked < STRUCTURAL_HEADINGS:
        prose_styles = {block.style for block in kept if block.kind == "text" and len(block.text.split()) > 25}
        followed: Counter[str] = Counter()
        count: Counter[str] = Counter()
        for i in candidates:
            style = blocks[i].style
            count[style] += 1
            after = next((b for b in blocks[i + 1 :] if not b.dropped), None)
            if after is not None and not _is_candidate(after) and len(after.text) > len(blocks[i].text):
                followed[style] += 1
        styles = {
            style
            for style, n in count.items()
            if n >= 2 and followed[style] * 2 >= n and style not in prose_styles and style.split("|")[0] != "li"
        }
    result = list(blocks)
    for i in candidates:
        block = blocks[i]
        if block.style in styles and not block.style.endswith("|b"):
            result[i] = replace(block, kind="heading", level=3, how=f"styled line ({_describe(block.style)})")
        elif block.style.endswith("|b") and _names_a_heading(block.text):
            result[i] = replace(block, kind="heading", level=5, how="bold line")
    for i, block in enumerate(blocks):
        if result[i].kind == "text" and _names_a_section_alone(blocks, i):
            result[i] = replace(block, kind="heading", level=5, how="line naming a section")
    return result


def _names_a_section_alone(blocks: list[Block], i: int) -> bool:
    """A line that is exactly a known heading ("RISKS AND COMPLICATIONS", "Recovery") and heads
    longer text is a heading whatever its markup (a span styled bold, a line between ``<br>``s)."""
    block = blocks[i]
    if block.kind != "text" or block.dropped or block.href or not is_alias(block.text):
        return False
    after = next((b for b in blocks[i + 1 :] if not b.dropped), None)
    return (
        after is not None and after.kind != "heading" and len(after.text) > len(block.text) and not is_alias(after.text)
    )


MAX_BOLD_HEADING_WORDS = 5


def _names_a_heading(text: str) -> bool:
    """A bold line is a heading when it is a known heading, or short (or a question) and matches
    one: "Recovery", "What are the risks?", not "Recovery of function may be slow"."""
    if is_alias(text):
        return True
    short = len(text.split()) <= MAX_BOLD_HEADING_WORDS or text.rstrip().endswith("?")
    return short and match_heading(text) is not None


def _is_candidate(block: Block) -> bool:
    return (
        block.kind == "text"
        and bool(block.style)
        and not block.dropped
        and len(block.text.split()) <= MAX_CANDIDATE_WORDS
        and not _SENTENCE_END.search(block.text)
        and (block.style.endswith("|b") or block.style.split("|")[1] != "" or block.style.split("|")[2] != "")
    )


def _describe(style: str) -> str:
    tag, classes, inline, *rest = style.split("|")
    # Bold lines are emphasis as often as headings: only a bold line naming a known heading is one.
    described = tag + (f".{classes}" if classes else "") + (f"[style={inline}]" if inline else "")
    return described + ("".join(f" {part}" for part in rest) if rest else "")


def outline(blocks: list[Block]) -> list[Part]:
    """Group kept blocks under their headings. Dropped blocks stay where they are, marked."""
    parts: list[Part] = [Part(PREAMBLE)]
    lead: Part | None = None
    level = 0
    current = parts[0]
    content = parts[0]
    for block in blocks:
        if block.dropped:
            current.blocks.append(block)
            continue
        if block.kind == "heading" and not _LETTER.search(block.text):
            block = replace(block, kind="text")  # a "heading" of numbers or marks labels nothing
        if current.target == SKIP and block.kind != "heading" and is_sentence(block.text):
            # A paragraph of prose ends a list of links under "On this page" or "Contents": it
            # is the page's text again, and goes back to the part before that heading.
            current = content
            level = 0
        if block.kind != "heading":
            if current.target == PREAMBLE and (lead is not None or (block.kind == "text" and is_sentence(block.text))):
                # Label lines ("CPT code: 45378", "Category: Digestive") stay in the preamble,
                # where the code and group are looked for, even after the lead has begun.
                if lead is None:
                    lead = Part(LEAD, how="text before the first heading")
                    parts.append(lead)
                (current if _LABEL_LINE.match(block.text) else lead).blocks.append(block)
            else:
                (current if current.target != PREAMBLE or lead is None else lead).blocks.append(block)
            continue
        target = match_heading(block.text)
        if (
            target in (None, OTHER)
            and level
            and block.level > level
            and current.target not in (SKIP, PREAMBLE, NAMES, SIMILAR)
        ):
            # An unknown (or non-canonical) sub-heading inside a section stays in that section, as text.
            current.blocks.append(replace(block, kind="text"))
            continue
        if target == SKIP and level and block.level > level and current.target == SKIP:
            current.blocks.append(replace(block, kind="text"))
            continue
        level = block.level
        if current.target != SKIP:
            content = current if current.target != PREAMBLE or lead is None else lead
        current = Part(target or OTHER, block.text.rstrip(":").strip(), block.how)
        parts.append(current)
    for part in parts:
        if part.target == SKIP:
            reason = drop_reason(part.heading) or "page furniture"
            part.blocks = [b if b.dropped else replace(b, dropped=reason) for b in part.blocks]
    return parts


def is_sentence(text: str) -> bool:
    """A sentence or more: at least eight words, ending like a sentence (a footnote number may
    follow). Only the end is matched by pattern, so a long text costs no more than its length."""
    return len(text.split(None, 7)) == 8 and bool(_SENTENCE_ENDING.search(text[-40:]))


__all__ = ["LEAD", "NAMES", "PREAMBLE", "SIMILAR", "SKIP", "Part", "is_sentence", "outline", "resolve_headings"]
