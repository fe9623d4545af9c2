"""Stage 5 of parsing: the record's fields from the outline.

The page's code and code system, its title, common names, similar codes, group and id. Each rule
is written once here; :mod:`.parse` only strings the stages together.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from urllib.parse import unquote, urlparse

from .blocks import Block
from .codes import LABELLED_CODE, find_codes, group_of, normalize_code, system_from_label, system_of
from .record import SimilarCode
from .sections import match_heading

_TITLE_SEPARATOR = re.compile(r"\s+[|\u2013\u2014-]\s+|\s*::\s*")
_GROUP_LINE = re.compile(
    r"(?im)^(?:- )?(?:category|specialty|speciality|body system|code range|section)\s*[:\-\u2013]\s*([^\n]{2,80})$"
)
_NAMES_LINE = re.compile(
    r"\b(?:common names?|other names?|alternative names?|also (?:known as|called|referred to as)|abbreviations?"
    r"|synonyms?|lay names?|aka)(?: for [^:]{1,80})?\s*[:\-\u2013]\s*(?P<names>.+)",
    re.I,
)
_NAME_LIKE = re.compile(r"^[^.!?]{1,80}$")


def title_from_head(head_title: str, headings: list[str]) -> str:
    """The title from the head's ``<title>``: the part between its separators ("ACS :: Surgery",
    "Shingles - Symptoms & causes - Mayo Clinic") that the page repeats as a heading, else the
    first part (sites put their own name last), else the whole."""
    parts = [part.strip() for part in _TITLE_SEPARATOR.split(head_title) if part.strip()]
    if len(parts) <= 1:
        return head_title.strip()
    folded = {heading.casefold() for heading in headings}
    for part in parts:
        if part.casefold() in folded:
            return part
    if "::" in head_title:
        return parts[-1]
    return parts[0]


_CODE_PREFIX = re.compile(
    r"^\s*(?:(?:CPT|HCPCS(?: Level II)?|ICD-10-PCS)\s*®?\s*(?:code\s*)?)?(?P<code>[0-9A-Z]{5,7})\s*[-\u2013\u2014:|]\s+(?=\S)",
    re.I,
)
_TITLE_TOPICS = re.compile(r"\s*,\s*(?:and\s+|&\s+)?|\s+(?:and|&)\s+")


def strip_title(title: str, code: str) -> str:
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


def group_from(preamble: str) -> str:
    """A specialty or body system the page states near its title ("Category: Nervous system")."""
    match = _GROUP_LINE.search(preamble)
    return match.group(1).strip() if match else ""


def code_group(code: str, system: str, preamble: str) -> str:
    return (group_of(code, system) if code else "") or group_from(preamble)


def find_code(preamble: str, title: str, head_title: str, canonical: str, source: str) -> tuple[str, str]:
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


SILENT_PATH_PARTS = frozenset(("index", "default", "home", "pages", "page", "www", "en", "en-us", "html", "htm"))
"""Path parts left out of an id: they name a folder or a server's default page, not the page."""
GENERIC_PAGE_NAMES = frozenset(
    ("introduction", "intro", "overview", "summary", "about", "article", "content", "contents", "detail")
    + ("details", "view", "print", "topic", "info", "information", "definition", "care-at-mayo-clinic")
    + ("symptoms-causes", "diagnosis-treatment", "about-the-test", "results", "risks", "why-its-done")
)
"""Last path parts that name no page on their own (".../Labial-fusion/Pages/Introduction.aspx"):
an id that ends in one also names the part before it."""

_PAGE_SUFFIX = re.compile(r"\.(?:html?|aspx?|php\d?|jsp|cfm|shtml|xhtml|txt|md)$", re.I)
_ARTICLE_NUMBER = re.compile(r"[a-z]{0,4}-?\d{4,}")


def page_id(canonical: str, source: str, title: str, *, parts: int = 1) -> str:
    """The id of a page with no code, from its canonical URL, else its file path, else its title.

    The last ``parts`` meaningful parts of the path, with the generic ones between and after
    them: "labial-fusion-introduction" for ".../Labial-fusion/Pages/Introduction.aspx".
    """
    for candidate in (urlparse(canonical).path if canonical else "", source):
        slug = path_slug(candidate, parts=parts)
        if slug:
            return slug
    return _slug(title)[:80] or "untitled"


def path_slug(path: str, *, parts: int = 1) -> str:
    pieces = [_slug(_PAGE_SUFFIX.sub("", unquote(piece))) for piece in path.replace("\\", "/").split("/")]
    pieces = [piece for piece in pieces if piece and piece not in SILENT_PATH_PARTS]
    chosen: list[str] = []
    meaningful = 0
    for piece in reversed(pieces):
        chosen.append(piece)
        if piece not in GENERIC_PAGE_NAMES and not _ARTICLE_NUMBER.fullmatch(piece):
            meaningful += 1
            if meaningful >= parts:
                break
    return "-".join(reversed(chosen))[:160]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def common_names(names: list[str], texts: list[str], title: str) -> tuple[str, ...]:
    """The page's other names for the procedure.

    ``names`` are the blocks under a names heading ("Also known as", "Name of the Procedure"):
    several short ones are one name each (a list, or the items of a CMS field); one block is a
    comma list, or a sentence naming the procedure followed by "Common names: A, B". Any
    "Other names: ..." line in ``texts`` adds its names.
    """
    found: list[str] = []
    short = [text for text in names if _NAME_LIKE.match(text) and len(text.split()) <= 12]
    if len(names) >= 2 and len(short) == len(names):
        for text in names:
            found.extend(_split_names(text))
        names_text = ""
    else:
        names_text = "\n".join(names)
        if (
            len(names) == 1
            and _NAME_LIKE.match(names_text)
            and "," in names_text
            and not _NAMES_LINE.search(names_text)
        ):
            found.extend(_split_names(names_text))
            names_text = ""
    return _collect_names(found, names_text, texts, title)


def _collect_names(found: list[str], names_text: str, texts: list[str], title: str) -> tuple[str, ...]:
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


def similar_codes(blocks: list[Block], *, exclude: str) -> tuple[SimilarCode, ...]:
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


def first_sentence(text: str) -> str:
    sentence = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0] if text else ""
    return sentence[:120]
