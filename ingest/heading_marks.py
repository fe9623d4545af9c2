"""Stage 3 of parsing, with :mod:`.blocks`: what markup says about a heading (its level and how it
was recognised, label classes) and the style signature of a short line.

A tag is a heading by what it does (``h1``-``h6``, ``role=heading``, ``<summary>``, a class naming
it a label or heading); a short line's style (tag, classes, inline style, bold) lets
:mod:`.outline` find the headings of pages with no heading markup.
"""

from __future__ import annotations

import re

from bs4 import NavigableString, Tag

from . import furniture
from .codes import LABELLED_CODE
from .sections import SECTION_NAMES, is_alias, match_heading

MAX_CANDIDATE_WORDS = 14
"""A line longer than this is never taken for a heading by its style alone."""

HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")
_LABEL_WORDS = frozenset(("label", "title", "heading", "headline", "subheading", "subtitle", "header", "hdr", "head"))
_CLASS_WORD = re.compile(r"[a-z0-9]+")


def names_a_section(text: str) -> bool:
    """Exactly a known heading of a canonical section ("Risks"; not "Other names", an infobox row)."""
    return is_alias(text) and match_heading(text) in SECTION_NAMES


def heading_level(tag: Tag) -> tuple[int, str]:
    """A heading's level (1-6) and how it was recognised, or (0, "") for anything else."""
    name = tag.name
    if name in HEADING_TAGS:
        return int(name[1]), str(tag.get("data-how") or name)
    if tag.get("role") == "heading":
        level = str(tag.get("aria-level") or "")
        return (int(level) if level.isdigit() and 1 <= int(level) <= 6 else 3), "role=heading"
    if name == "summary":
        return 4, "summary"
    label = label_class(tag)
    if label:
        text = tag.get_text(" ", strip=True)
        # "CPT code 29881" in a code-label element labels the page, not the text after it.
        if 0 < len(text) <= 120 and len(text.split()) <= MAX_CANDIDATE_WORDS and not LABELLED_CODE.search(text):
            return 6, f"label class {label}"  # the deepest level: inside a section, an unknown label is text
    return 0, ""


def label_class(tag: Tag) -> str:
    """The class that names ``tag`` a label, title or heading (``field__label``,
    ``wp-block-heading``, ``accordion-header``), or ""; a word of a class counts, a part of a word
    does not ("subtitle" does, "entitled" does not)."""
    if tag.name not in ("div", "span", "p", "dt", "legend", "strong", "b", "label"):
        return ""
    if (
        tag.name in ("span", "strong", "b", "label")
        and tag.parent is not None
        and tag.parent.name in ("p", "a", "li", "td")
    ):
        return ""  # inline inside running text
    for name in furniture.class_names(tag):
        if _LABEL_WORDS.intersection(_CLASS_WORD.findall(name.lower())):
            return name
    return ""


def style_of(tag: Tag, *, bold: bool = False) -> str:
    """The signature of a block's markup: tag, classes, inline style, and whether it is bold."""
    classes = furniture.class_names(tag)
    parts = [tag.name, ".".join(sorted(c.lower() for c in classes)), str(tag.get("style") or "").replace(" ", "")]
    font = next((child for child in tag.children if isinstance(child, Tag) and child.name == "font"), None)
    if font is not None:
        parts.append("font" + str(font.get("size") or "") + str(font.get("face") or ""))
    if bold:
        parts.append("b")
    return "|".join(parts)


def bold_part(tag: Tag) -> Tag | None:
    """The bold element a paragraph opens with (its first non-blank child), or None."""
    for child in tag.children:
        if isinstance(child, NavigableString):
            if child.strip():
                return None
            continue
        if isinstance(child, Tag) and child.name in ("strong", "b"):
            return child
        if isinstance(child, Tag) and child.name in ("span", "font") and "bold" in str(child.get("style") or ""):
            return child
        return None
    return None
