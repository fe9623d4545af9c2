"""The heading rules of the canonical sections: which page headings map to which section, to
the common names, to the similar codes, to page furniture, or to no section (``other``).

The sections themselves (their names, labels and default weights) are fields of the field table,
:mod:`procsearch.fields`; :data:`SECTIONS` pairs each with its heading aliases and patterns.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from ..fields import BY_NAME, NAMES, OTHER, SECTION_NAMES, SIMILAR, label

__all__ = [
    "NAMES",
    "OTHER",
    "SECTIONS",
    "SECTION_NAMES",
    "SIMILAR",
    "SKIP",
    "Section",
    "drop_reason",
    "is_alias",
    "match_heading",
    "normalize_heading",
    "section_label",
]


@dataclass(frozen=True)
class Section:
    """One canonical section: its field name and heading aliases (its label and default weight
    are the field table's)."""

    name: str
    aliases: tuple[str, ...]
    # Regular expressions tried (in SECTIONS order) on a normalised heading that is no exact alias:
    # they catch question-style headings such as "What happens during a laparoscopy?".
    patterns: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return label(self.name)

    @property
    def weight(self) -> float:
        return BY_NAME[self.name].weight


SECTIONS: tuple[Section, ...] = (
    Section(
        "summary",
        (
            "summary",
            "overview",
            "description",
            "about the procedure",
            "about this procedure",
            "what it is",
            "definition",
            "introduction",
            "the basics",
        ),
        (
            r"^what (is|are)\b(?!.*\b(used for|results?|risks?)\b)",
            r"^overview",
            r"^summary",
            r"\bdescription\b",
        ),
    ),
    Section(
        "purpose",
        (
            "purpose",
            "why its done",
            "why it is done",
            "why is it done",
            "reasons",
            "reason for the procedure",
            "what is it used for",
            "what are they used for",
            "uses",
            "goals",
            "purpose of the procedure",
            "why it is performed",
        ),
        (
            r"\bused for\b",
            r"^why (it s|it is|is it|is this|is the) (done|performed|used|ordered)",
            r"^why (get|be|have|do) (tested|it|this|the test|a test)\b",
            r"^purpose",
        ),
    ),
    Section(
        "indications",
        (
            "indications",
            "who needs it",
            "who needs this procedure",
            "when it is recommended",
            "when is it recommended",
            "candidates",
            "who is a candidate",
            "who should have it",
        ),
        (
            r"^why (do|does|would|might) (i|you|my|a|someone)\b.*\bneed",
            r"^who (needs|should|is a (good )?candidate)",
            r"^when (is|are|should)\b.*\b(recommended|needed|done|ordered|tested)",
            r"^when to (get|be|have) (tested|it|this|the test|screened)\b",
            r"\bindications?\b",
        ),
    ),
    Section(
        "preparation",
        (
            "preparation",
            "how to prepare",
            "before the procedure",
            "before the test",
            "getting ready",
            "preparing for the procedure",
            "pre procedure instructions",
        ),
        (r"\bprepar", r"^before (the|your)\b", r"\bget ready\b", r"^what happens before\b"),
    ),
    Section(
        "procedure",
        (
            "procedure description",
            "procedure",
            "how its done",
            "how it is done",
            "how is it done",
            "what happens during the procedure",
            "during the procedure",
            "what happens",
            "the procedure",
            "steps",
            "technique",
            "what happens during the test",
            "how it works",
            "how the test is done",
            "how the test is performed",
            "procedure details",
            "the operation",
            "the surgery",
            "the test",
            "the exam",
            "the examination",
        ),
        (
            r"^what happens (during|in|on|at)\b",
            r"^how (is|are) (it|they|the|a|an)\b.*\b(done|performed)",
            r"^during (the|a|your)\b",
            r"^how (it s|it is) (done|performed)",
            r"\bprocedure description\b",
            r"\bdescription of the (procedure|operation|surgery|test)\b",
        ),
    ),
    Section(
        "duration",
        ("duration", "how long it takes", "how long does it take", "time required", "length", "how long will it take"),
        (r"^how long\b", r"\bduration\b"),
    ),
    Section(
        "setting",
        (
            "setting",
            "where its done",
            "where it is done",
            "where is it done",
            "location",
            "where it is performed",
            "place of service",
        ),
        (r"^where (is|are|it|will|does)\b", r"\bsetting\b"),
    ),
    Section(
        "personnel",
        ("personnel", "who performs it", "who does it", "care team", "who is involved", "healthcare team", "staff"),
        (r"^who (performs|does|will do|is involved|carries out)\b", r"\bpersonnel\b", r"\bcare team\b"),
    ),
    Section(
        "risks",
        (
            "risks and complications",
            "risks",
            "complications",
            "risks and side effects",
            "side effects",
            "possible complications",
            "safety",
            "dangers",
            "possible problems",
            "what can go wrong",
        ),
        (r"\brisks?\b", r"\bcomplications?\b", r"\bside effects?\b", r"\bsafe\b", r"^(possible|potential) problems\b"),
    ),
    Section(
        "benefits",
        ("benefits", "advantages", "expected benefits", "outcomes", "results and benefits"),
        (r"\bbenefits?\b", r"\badvantages?\b"),
    ),
    Section(
        "recovery",
        (
            "recovery",
            "aftercare",
            "after care",
            "after the procedure",
            "after the test",
            "after surgery",
            "post procedure care",
            "follow up",
            "recovering",
            "afterwards",
            "afterward",
        ),
        (
            r"\brecover",
            r"\baftercare\b",
            r"^after (the|your|a)\b",
            r"\bpost (procedure|operative)\b",
            r"^what happens (after|afterwards|next)\b",
        ),
    ),
    Section(
        "alternatives",
        (
            "alternatives",
            "other options",
            "other treatment options",
            "alternative treatments",
            "alternative tests",
            "other tests",
        ),
        (
            r"\balternatives?\b",
            r"^other (options|treatments|tests)\b",
            r"^are there other (options|treatments|tests)\b",
        ),
    ),
    Section(
        "experience",
        (
            "patient experience",
            "what to expect",
            "what it feels like",
            "what will i feel",
            "how it feels",
            "what you will feel",
            "the patient experience",
        ),
        (
            r"\bfeel\b",
            r"^what (should i|to|can i|will i|you can|you will|you ll) expect\b",
            r"\bexperience\b",
            r"\bhurt\b|\bpainful\b",
        ),
    ),
)
"""The canonical sections in page order."""

"""The canonical sections in page order: the section fields of :mod:`procsearch.fields`, in the
same order (a test checks they agree)."""

# Headings that are not sections but structure the page: the names paragraph and the list of
# similar codes. They live here so every heading rule stays in one file.
NAMES_ALIASES = (
    "name of the procedure",
    "names",
    "other names",
    "also known as",
    "also called",
    "also referred to as",
    "aka",
    "synonyms",
    "alternative names",
    "alternate names",
    "common names",
    "procedure name",
    "name",
)
SIMILAR_ALIASES = (
    "similar codes",
    "related codes",
    "see also",
    "similar procedures",
    "related procedure codes",
    "similar procedure codes",
)

# Headings of page furniture that sometimes sit inside the content area; everything under them
# up to the next heading is dropped, with the reason given here (a parse report shows it).
NOT_CONTENT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^(external links)\b", "navigation"),
    (r"^related (health topics|medical tests|links|articles|content)\b", "navigation"),
    (r"^(contents|table of contents|in this article|on this page|jump to)$", "navigation"),
    (r"^(read|see) (this|these) next\b", "navigation"),
    (r"^learn more\b", "navigation"),
    (r"^(quick links|useful links|related pages|more on this topic)\b", "navigation"),
    (r"^(you may also like|popular searches|recently viewed)\b", "navigation"),
    (r"^(advertisement|sponsored)\b", "advertisement"),
    (r"^(share|print|email) this\b", "page furniture"),
    (r"^was this (page|article|information) helpful\b", "page furniture"),
    (r"^how we reviewed\b", "byline or review date"),
)

# Common headings of real sections that are none of the canonical ones: they go to "other" under
# their own heading, like any unknown heading, but are known to be headings (a bold "Results"
# paragraph starts a section; a bold "Do not drive for 24 hours" does not).
OTHER_HEADING_PATTERNS = (
    r"\bresults?\b",
    r"\b(outlook|prognosis)\b",
    r"\b(costs?|price|insurance|coverage|billing|coding|documentation)\b",
    r"^when (to|should (i|you)) (call|see|contact|get)\b",
    r"^(questions|faqs?|frequently asked questions|takeaways?|key points|living with|contact us)\b",
    # References stay in the record (ranked low): a plain full-text index would keep them too.
    r"^(references?|sources|bibliography|citations|works cited|notes|footnotes|further reading)\b",
    r"^(causes?|symptoms?|diagnosis|treatments?|types?|history|background)\b",
    r"^(how (does|do|can|will|should)|what (do|does|if|about|should|can)|can (i|you)|is (it|there)|are there|do (i|you))\b.*\?$",
)

SKIP = "skip"

_ALIASES: dict[str, str] = {alias: section.name for section in SECTIONS for alias in section.aliases}
_ALIASES.update({alias: NAMES for alias in NAMES_ALIASES})
_ALIASES.update({alias: SIMILAR for alias in SIMILAR_ALIASES})


@functools.cache
def _patterns() -> tuple[tuple[re.Pattern[str], ...], tuple[tuple[re.Pattern[str], str], ...]]:
    """The compiled furniture patterns, and every pattern with what it maps to. Compiled on first
    use: a search process needs them only for ``--section``, and compiling them all costs more than
    the rest of its start."""
    not_content = tuple(re.compile(pattern) for pattern, _reason in NOT_CONTENT_PATTERNS)
    patterns = (
        tuple((pattern, SKIP) for pattern in not_content)
        + (
            (
                re.compile(
                    r"^(other|common|alternative) names\b|^also (known as|called|referred to as)\b|^synonyms?\b"
                ),
                NAMES,
            ),
            (re.compile(r"^(similar|related) (procedure )?codes\b"), SIMILAR),
        )
        # Summary patterns ("what is a ...") are the loosest of the sections', so they are tried
        # last, and then the headings known to belong to no canonical section.
        + tuple((re.compile(p), s.name) for s in SECTIONS[1:] + SECTIONS[:1] for p in s.patterns)
        + tuple((re.compile(p), OTHER) for p in OTHER_HEADING_PATTERNS)
    )
    return not_content, patterns


_ENUMERATION = re.compile(r"^\s*(?:\d{1,2}(?:\.\d{1,2})*|[a-z]|[ivx]{1,4})[.)]\s+", re.I)
"""The number of a numbered heading ("1. What is it?", "2) Risks", "iv. After the test")."""


def normalize_heading(text: str) -> str:
    """Lower-case a heading, drop its number and reduce punctuation to single spaces
    ("2. Why it's done?" -> "why it s done")."""
    text = _ENUMERATION.sub("", text)
    text = text.replace("\u2019", "'").replace("'", " ").replace("&", " and ")
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def match_heading(text: str) -> str | None:
    """Map a heading to a section name, ``names``, ``similar``, ``skip``, ``other`` (a known
    non-canonical heading such as "Results"), or None if it is unknown.

    Exact aliases win; then the question-style patterns, in the order of :data:`SECTIONS`.
    Text ending in a colon is usually a sub-label inside a section ("How long the procedure
    typically takes:"), so it only counts as a heading when it is an exact alias or furniture
    ("Sources:"). A heading's number is ignored ("3. How do I prepare?").
    """
    key = normalize_heading(text)
    if not key:
        return None
    if key in _ALIASES:
        return _ALIASES[key]
    not_content, patterns = _patterns()
    if text.rstrip().endswith(":"):
        return SKIP if any(pattern.search(key) for pattern in not_content) else None
    for pattern, name in patterns:
        if pattern.search(key):
            return name
    return None


def is_alias(text: str) -> bool:
    """Whether ``text`` is exactly a known heading ("Risks", "Why it's done", "Also known as"),
    not only a phrase that matches one of the patterns ("Risks of not resting")."""
    return normalize_heading(text.rstrip(" :")) in _ALIASES


def drop_reason(text: str) -> str:
    """Why the blocks under a furniture heading are dropped ("references", "navigation", ...);
    "" when the heading is no furniture heading."""
    key = normalize_heading(text)
    for pattern, reason in NOT_CONTENT_PATTERNS:
        if re.search(pattern, key):
            return reason
    return ""


section_label = label
"""The display label of a section name ("risks" -> "Risks and Complications")."""
