"""Stage 2 of parsing: which elements of a page are furniture, and why.

Decisions rest on structure: landmark elements and roles (``nav``, ``header``, ``footer``,
``role=navigation|banner|contentinfo|search``), forms and their controls, link density, and
whether an element lies outside the page's main landmark. A class or id name only *supports* a
decision (a "nav" class on a block that is mostly links), and is matched as a whole token, so a
wrapper called ``paragraph--view-mode--section-nav-test`` is not navigation.

Nothing here removes text silently: an element gets a reason, and the text under it is reported
as dropped for that reason. Only what a browser does not render (scripts, styles, templates,
hidden elements, comments) is passed over without a word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from urllib.parse import urlparse

from bs4 import NavigableString, PageElement, Tag

INVISIBLE_TAGS = frozenset(
    ("script", "style", "noscript", "template", "head", "svg", "canvas", "iframe", "object", "embed", "video")
    + ("audio", "map", "meta", "link", "base", "param", "source", "track", "img", "picture")
)
"""Elements whose text a browser does not show as text."""

BLOCK_TAGS = frozenset(
    ("p", "li", "dd", "dt", "blockquote", "pre", "address", "figcaption", "caption", "td", "th", "tr", "table")
    + ("ul", "ol", "dl", "div", "section", "article", "main", "header", "footer", "aside", "nav", "form")
    + ("h1", "h2", "h3", "h4", "h5", "h6", "br", "hr", "details", "summary", "figure", "fieldset", "center")
)
"""Elements that start a new block of text."""

CONTROL_TAGS = frozenset(("button", "input", "select", "textarea", "option", "optgroup", "datalist", "output"))

# Drop reasons: stable phrases, counted in reports and compared in tests.
NAVIGATION = "navigation"
HEADER = "header landmark"
FOOTER = "footer landmark"
FORM = "form or search box"
COOKIES = "cookie banner"
ADVERTISEMENT = "advertisement"
SHARING = "sharing links"
PROMOTION = "promotion"
OUTSIDE_MAIN = "outside the main content"
CITATION_MARK = "citation mark"
EDIT_LINK = "edit link"

_NAV_TOKENS = frozenset(
    ("nav", "navbar", "navigation", "menu", "menubar", "mainmenu", "breadcrumb", "breadcrumbs", "toc", "navbox")
    + ("catlinks", "pagination", "pager", "skip-link", "skiplink", "skip-links", "subnav", "megamenu", "sitemap")
    + ("site-nav", "main-nav", "nav-menu", "footer-nav", "quick-links", "quicklinks", "tabs", "toclimit-3")
)
_COOKIE_TOKENS = frozenset(
    ("cookie", "cookies", "cookie-banner", "cookie-consent", "cookie-notice", "cookiebanner", "consent", "gdpr")
    + ("onetrust-banner-sdk", "cc-banner", "cookie-bar")
)
_AD_TOKENS = frozenset(
    ("ad", "ads", "advert", "adverts", "advertisement", "advertising", "ad-slot", "adslot", "ad-container")
    + ("ad-wrapper", "adsense", "sponsored", "sponsor", "dfp", "ad-unit", "ad-banner", "promo-ad")
)
_PROMO_TOKENS = frozenset(
    ("promo", "promotion", "paywall", "upsell", "upgrade-box", "newsletter", "newsletter-signup", "signup")
    + ("subscribe", "subscription", "cta", "call-to-action")
)
_HEADER_TOKENS = frozenset(("header", "site-header", "page-header", "masthead", "banner", "topbar", "top-bar"))
_FOOTER_TOKENS = frozenset(("footer", "site-footer", "page-footer", "printfooter", "colophon"))
_NOTE_TOKENS = frozenset(("hatnote", "dablink", "rellink"))
_SHARE_TOKENS = frozenset(("share", "sharing", "social", "social-share", "share-buttons", "social-links", "addthis"))
_EDIT_TOKENS = frozenset(("mw-editsection", "editsection", "edit-link"))
_COOKIE_TEXT = re.compile(r"(?i)\b(cookies?|consent|privacy (policy|settings))\b")
_COOKIE_NOTICE = re.compile(
    r"(?i)\b(?:(?:uses?|use of|accept(?: all)?|we use|store) cookies|cookies? (?:policy|settings|preferences|notice))\b"
)
_CITATION_TEXT = re.compile(r"^\[\s*(\d{1,3}|[a-z]|note \d+|citation needed)\s*\]$", re.I)
_CODE_LIKE = re.compile(r"\b(?:\d{5}|[A-V]\d{4}|\d{4}[FTU]|(?=[0-9A-Z]{0,6}\d)[0-9B-HX][0-9A-Z]{6})\b")
"""A CPT, HCPCS or ICD-10-PCS code shape in a list of links."""

MAX_FORM_CHARS = 480
"""A form with more text than this wraps the page's content (ASP.NET sites put the whole page
in one ``<form>``): it is not furniture."""


@dataclass(frozen=True)
class Measure:
    """The amount of text under an element, and how much of it is link text."""

    chars: int = 0
    link_chars: int = 0
    links: int = 0
    has_blocks: bool = False
    """Whether any element below is a block (a paragraph, list, table, heading or division)."""
    has_form: bool = False
    """Whether a form or a text-entry control (a search or e-mail box) lies below; a button does not count."""

    @property
    def link_share(self) -> float:
        return self.link_chars / self.chars if self.chars else 0.0


def class_names(tag: Tag) -> list[str]:
    """The element's class names, as the page wrote them."""
    classes: object = tag.get("class") or []
    if isinstance(classes, str):
        return classes.split()
    return [str(name) for name in classes] if isinstance(classes, list) else []


def class_tokens(tag: Tag) -> frozenset[str]:
    """The element's class names and id, lower-cased, each a whole token."""
    ident = tag.get("id")
    return frozenset([*(c.lower() for c in class_names(tag)), *([str(ident).lower()] if ident else [])])


def is_hidden(tag: Tag) -> bool:
    """Hidden by the page itself: the ``hidden`` attribute or an inline style. ``aria-hidden``
    hides nothing from the eye (only from screen readers): its text is what the page shows."""
    if tag.get("hidden") is not None:
        return True
    style = str(tag.get("style") or "").replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


_PANEL_TOKENS = frozenset(
    ("collapse", "accordion-collapse", "panel-collapse", "tab-pane", "accordion-panel", "accordion-content")
)


def disclosure_panels(tags: list[Tag]) -> set[int]:
    """Collapsed accordion and tab panels: hidden until opened, but text the page shows. They are
    the elements a control names (``aria-controls``, or ``data-target``/``data-bs-target`` of a
    Bootstrap toggle), the hidden element right after a control that names none (a question
    ``<button aria-expanded>`` and its answer), elements with role region or tabpanel, and hidden
    elements whose class makes them a collapsible panel."""
    controlled: set[str] = set()
    candidates: list[Tag] = []
    following: set[int] = set()
    for tag in tags:
        if tag.get("aria-expanded") is not None:
            controlled.update(str(tag.get("aria-controls") or "").split())
            panel = disclosed_by(tag)
            if panel is not None:
                following.add(id(panel))
        for attribute in ("data-target", "data-bs-target"):
            target = str(tag.get(attribute) or "")
            if target.startswith("#"):
                controlled.add(target[1:])
        candidates.append(tag)
    return {
        id(tag)
        for tag in candidates
        if tag.get("role") in ("region", "tabpanel")
        or id(tag) in following
        or (tag.get("id") and str(tag["id"]) in controlled)
        or class_tokens(tag) & _PANEL_TOKENS
    }


def is_logo(heading: Tag) -> bool:
    """A heading that is only a link to the site's home page (a site header's ``<h1><a href="/">``):
    the site's name, not the page's title."""
    links = [node for node in heading.descendants if isinstance(node, Tag) and node.name == "a"]
    if len(links) != 1 or links[0].get_text(" ", strip=True) != heading.get_text(" ", strip=True):
        return False
    path = urlparse(str(links[0].get("href") or "")).path
    return path.strip("/") in ("", "index.html", "index.htm", "index.php", "home")


def disclosed_by(control: Tag) -> Tag | None:
    """The hidden element a disclosure control without ``aria-controls`` opens: the next element
    after it (or after the heading that holds it), when that element is hidden."""
    if control.get("aria-controls"):
        return None
    trigger = control.parent if control.parent is not None and control.parent.name in _HEADINGS else control
    panel = trigger.find_next_sibling()
    return panel if isinstance(panel, Tag) and is_hidden(panel) else None


_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))


def measure(root: Tag) -> dict[int, Measure]:
    """Text and link-text length of every element under ``root``, in one pass (no recursion, so
    arbitrarily deep nesting is fine)."""
    totals: dict[int, list[int]] = {}
    order: list[Tag] = []
    stack: list[Tag] = [root]
    while stack:
        tag = stack.pop()
        order.append(tag)
        totals[id(tag)] = [0, 0, 1 if tag.name == "a" and tag.get("href") is not None else 0, 0, 0]
        for child in tag.children:
            if isinstance(child, Tag):
                if child.name not in INVISIBLE_TAGS:
                    stack.append(child)
            elif isinstance(child, NavigableString):
                totals[id(tag)][0] += len(child.strip())
    for tag in reversed(order):  # children before parents
        mine = totals[id(tag)]
        if tag.name == "a":
            mine[1] = mine[0]
        parent = tag.parent
        if parent is not None and tag is not root and id(parent) in totals:
            theirs = totals[id(parent)]
            theirs[0] += mine[0]
            theirs[1] += mine[1]
            theirs[2] += mine[2]
            if mine[3] or tag.name in BLOCK_TAGS:
                theirs[3] = 1
            if mine[4] or tag.name == "form" or _is_text_entry(tag):
                theirs[4] = 1
    return {key: Measure(v[0], v[1], v[2], bool(v[3]), bool(v[4])) for key, v in totals.items()}


_TEXT_ENTRY_TYPES = frozenset(("", "text", "search", "email", "tel", "password"))


def _is_text_entry(tag: Tag) -> bool:
    return tag.name == "textarea" or (tag.name == "input" and str(tag.get("type") or "").lower() in _TEXT_ENTRY_TYPES)


def furniture_reason(tag: Tag, size: Measure, *, in_article: bool, holds_title: bool) -> str:
    """Why ``tag`` (with everything under it) is page furniture, or "" when it is not."""
    name = tag.name
    role = str(tag.get("role") or "").lower()
    tokens = class_tokens(tag)
    if name == "nav" or role == "navigation":
        return NAVIGATION
    if role == "search" or name in CONTROL_TAGS:
        return FORM
    if name == "form" and not holds_title and size.chars <= MAX_FORM_CHARS:
        return FORM  # a small form; one that holds the page's title wraps the page (ASP.NET)
    if (name == "header" or role == "banner") and not in_article and not holds_title:
        return HEADER
    if (name == "footer" or role == "contentinfo") and not in_article:
        return FOOTER
    if tokens & _EDIT_TOKENS:
        return EDIT_LINK
    if size.chars <= 600 and size.has_form and name in ("div", "section", "aside", "p", "span", "td"):
        return FORM  # a sign-up or search box: a few words around a form
    if size.chars <= 500 and _COOKIE_NOTICE.search(visible_text(tag)[:600]):
        return COOKIES
    if tokens & _HEADER_TOKENS and size.chars <= 200 and not holds_title and not in_article:
        return HEADER
    if tokens & _FOOTER_TOKENS and size.chars <= 400 and not holds_title:
        return FOOTER
    if tokens & _NOTE_TOKENS and role == "note":
        return NAVIGATION
    if tokens & _NAV_TOKENS and size.link_share >= 0.5:
        return NAVIGATION
    if tokens & _COOKIE_TOKENS and _COOKIE_TEXT.search(tag.get_text(" ")[:2000]):
        return COOKIES
    if tokens & _AD_TOKENS and size.chars <= 600:
        return ADVERTISEMENT
    if tokens & _SHARE_TOKENS and (size.link_share >= 0.5 or size.chars <= 120):
        return SHARING
    if tokens & _PROMO_TOKENS and size.chars <= 400:
        return PROMOTION
    if (name == "aside" or role == "complementary") and size.links >= 3 and size.link_share >= 0.6:
        return NAVIGATION
    return ""


def is_link_list(tag: Tag, size: Measure, *, in_main: bool) -> bool:
    """A block that is all links of a few words each: a menu, a breadcrumb trail, a toolbar.
    Inside the main content only very short links count (a list of related pages has longer ones)."""
    if tag.name not in ("ul", "ol", "div", "td", "p", "section") or size.links < 3 or size.link_share < 0.9:
        return False
    if size.chars / size.links > (20 if in_main else 40):
        return False
    return not _CODE_LIKE.search(visible_text(tag)[:4000])  # a list of codes ("Similar codes") is content


def is_citation_mark(tag: Tag) -> bool:
    """A footnote marker such as ``<sup>[3]</sup>`` or ``<sup><a>[3]</a></sup>`` (at most a few
    elements deep: looking no further keeps deeply nested markup linear)."""
    if tag.name != "sup" or len(list(islice(tag.descendants, 6))) > 5:
        return False
    return bool(_CITATION_TEXT.match(tag.get_text(strip=True)))


MIN_MAIN_CHARS = 200


def main_region(
    candidates: tuple[Tag | None, ...], body: Tag, sizes: dict[int, Measure], title_path: set[int]
) -> Tag | None:
    """The page's main landmark (the first ``main``, ``role=main`` or ``article`` element, in that
    order of preference) when it holds the title (the elements on ``title_path``, if there is an
    h1) and real text; None when the page marks none (then nothing is "outside" it)."""
    for candidate in candidates:
        if candidate is None or candidate is body or sizes.get(id(candidate), Measure()).chars < MIN_MAIN_CHARS:
            continue
        if not title_path or id(candidate) in title_path:
            return candidate
    return None


_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(r"(?i)^(?:" + pattern + r")$"), reason)
    for pattern, reason in (
        (r"advertisement\b.{0,40}|sponsored(?: content)?", ADVERTISEMENT),
        (
            r"(?:back to|return to) top\b.*|skip (?:directly )?to\b.{0,120}|jump to (?:navigation|search)\b.*",
            NAVIGATION,
        ),
        (r"(?:share|print|email) this (?:page|article|code|leaflet)\b.*", SHARING),
        (
            r"(?:page |article |content )?last (?:medically )?(?:reviewed|updated|modified|edited)\b.*"
            # A byline names a person or a date ("Reviewed by Dr. Lee", "Updated on 3 May 2024"),
            # not "reviewed by a pathologist"; a wiki's "Retrieved from" line gives an address.
            r"|(?:medically reviewed|reviewed|written|fact[- ]checked|updated)(?: by| on)\s+(?-i:[A-Z0-9]).*"
            r"|medically reviewed\..*"
            r"|this (?:page|leaflet|article|information|content) was (?:last )?(?:reviewed|updated|published|edited)\b.*"
            r"|(?:next )?review (?:date|due)\b.*|(?:date )?published\s*:.*|by [^.]{1,60} staff"
            r"|retrieved from\s+(?:\"?https?://|(?-i:[A-Z])).*|from \S+(?: \S+)?, the free encyclopedia",
            "byline or review date",
        ),
    )
)
MAX_PHRASE_LENGTH = 250


def phrase_reason(text: str) -> str:
    """Why a whole block is furniture that carries no markup to know it by (an "Advertisement"
    label, a review date, a byline, a "Back to top" link), or ""."""
    if len(text) > MAX_PHRASE_LENGTH:
        return ""
    for pattern, reason in _PHRASES:
        if pattern.match(text):
            return reason
    return ""


def visible_text(tag: Tag, panels: set[int] | frozenset[int] = frozenset()) -> str:
    """The text of ``tag`` a browser shows: without scripts, styles, hidden elements (collapsed
    disclosure panels in ``panels`` excepted) and the like. Inline markup joins its text as the
    browser does ("Hys<b>ter</b>ectomy" is one word); blocks and line breaks separate words.
    No recursion, however deep the markup."""
    parts: list[str] = []
    stack: list[PageElement | str] = [tag]
    while stack:
        node = stack.pop()
        if isinstance(node, Tag):
            if node is not tag and (node.name in INVISIBLE_TAGS or (is_hidden(node) and id(node) not in panels)):
                continue
            separate = node.name in BLOCK_TAGS or node.name in ("td", "th", "li", "img")
            if separate:
                parts.append(" ")
                stack.append(" ")
            stack.extend(reversed(list(node.children)))
        elif isinstance(node, NavigableString):
            parts.append(str(node))
        elif isinstance(node, str):
            parts.append(node)
    return "".join(parts)
