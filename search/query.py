"""Turning what a user types into Whoosh queries: codes, section-scoped terms, free text."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from whoosh import qparser
from whoosh.fields import Schema
from whoosh.query import And, Not, NullQuery, Or, Prefix, Query, Term, TermRange

from ..index.schema import TEXT_FIELDS
from ..ingest.codes import CODE as _CODE
from ..ingest.codes import CODE_SYSTEMS, normalize_code
from ..ingest.sections import SECTION_NAMES, match_heading
from ..words import PLAIN_WORD
from .errors import QueryError

OPERATORS = ("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "REQUIRE")
"""The operator words of the query syntax (Whoosh's, upper-case only): the one table the parser's
helpers read."""
_OPERATOR = "|".join(OPERATORS)

MAX_QUERY_CHARS = 1000
"""Longer queries are cut to this length before parsing (and the result says so)."""

COORD_BONUS = 0.9
"""Whoosh OrGroup factor: a document matching more of the words scores higher."""

_SYSTEM_PREFIXES = {
    "cpt": "CPT",
    "cpt4": "CPT",
    "hcpcs": "HCPCS",
    "icd10pcs": "ICD-10-PCS",
    "icd-10-pcs": "ICD-10-PCS",
    "pcs": "ICD-10-PCS",
    "icd": "ICD-10-PCS",
}
_CODE_PART = re.compile(
    rf"(?<![\w:*-])(?:(?P<system>{'|'.join(map(re.escape, _SYSTEM_PREFIXES))}):)?"
    rf"(?:(?P<lo>{_CODE})-(?P<hi>{_CODE})|(?P<prefix>[0-9A-Za-z]{{2,6}})\*|(?P<code>{_CODE}))(?![\w*-])",
    re.I,
)

# Query-side names for fields: every section's name, plus the words users write before a colon.
FIELD_ALIASES: dict[str, list[str]] = {
    "risks": ["risk", "complications", "complication"],
    "procedure": ["description", "steps", "how"],
    "experience": ["feel", "feelings"],
    "names": ["name", "aka"],
    "recovery": ["aftercare"],
    "preparation": ["prep", "prepare"],
    "alternatives": ["alternative", "options"],
    "similar": ["related"],
}


@dataclass(frozen=True)
class CodePart:
    """A code, code prefix or code range typed in the query."""

    kind: str  # "exact", "prefix" or "range"
    value: str
    high: str = ""
    system: str = ""

    @property
    def label(self) -> str:
        """The part as a user would type it again."""
        text = (
            f"{self.value}-{self.high}" if self.kind == "range" else self.value + ("*" if self.kind == "prefix" else "")
        )
        return f"{self.system.lower()}:{text}" if self.system else text

    def to_query(self) -> Query:
        if self.kind == "exact":
            query: Query = Term("code", self.value)
        elif self.kind == "prefix":
            query = Prefix("code", self.value)
        else:
            query = TermRange("code", self.value, self.high)
        return And([query, Term("code_system", self.system)]) if self.system else query


@dataclass(frozen=True)
class ParsedQuery:
    """A query split into its codes and its free text."""

    raw: str
    text: str
    codes: tuple[CodePart, ...] = ()
    truncated: bool = False
    notices: tuple[str, ...] = field(default_factory=tuple)

    @property
    def exact_codes(self) -> tuple[CodePart, ...]:
        return tuple(part for part in self.codes if part.kind == "exact")


def split_query(raw: str) -> ParsedQuery:
    """Pull codes, code prefixes (``636*``), ranges (``63650-63688``) and ``cpt:`` qualifiers out of a query."""
    notices: list[str] = []
    text = raw.replace("\x00", " ")
    truncated = len(text) > MAX_QUERY_CHARS
    if truncated:
        text = text[:MAX_QUERY_CHARS]
        notices.append(f"The query was cut to its first {MAX_QUERY_CHARS} characters.")
    codes: list[CodePart] = []

    def take(match: re.Match[str]) -> str:
        system = _SYSTEM_PREFIXES.get((match.group("system") or "").lower(), "")
        if match.group("lo"):
            lo, hi = sorted((normalize_code(match.group("lo")), normalize_code(match.group("hi"))))
            codes.append(CodePart("range", lo, hi, system))
        elif match.group("prefix"):
            prefix = match.group("prefix")
            if not any(ch.isdigit() for ch in prefix):
                return match.group(0)  # "cardi*" is a word prefix, not a code prefix
            codes.append(CodePart("prefix", normalize_code(prefix), system=system))
        else:
            code = normalize_code(match.group("code"))
            if not system and not any(ch.isdigit() for ch in code):
                return match.group(0)  # seven letters: a word, unless qualified with a system
            codes.append(CodePart("exact", code, system=system or ""))
        return " "

    text = _CODE_PART.sub(take, text)
    return ParsedQuery(
        raw=raw, text=" ".join(text.split()), codes=tuple(codes), truncated=truncated, notices=tuple(notices)
    )


def make_parser(
    schema: Schema, weights: Mapping[str, float], fields: Sequence[str] = TEXT_FIELDS, *, conjunctive: bool = False
) -> qparser.QueryParser:
    """A parser over ``fields`` with per-field boosts: OR with a reward for matching more words,
    or AND (every word somewhere in the document) when ``conjunctive``."""
    searched = [name for name in fields if weights.get(name, 0) > 0]
    parser = qparser.MultifieldParser(
        searched,
        schema,
        fieldboosts={name: weights[name] for name in searched},
        group=qparser.AndGroup if conjunctive else qparser.OrGroup.factory(COORD_BONUS),
    )
    aliases = {name: list(words) for name, words in FIELD_ALIASES.items()}
    parser.add_plugin(qparser.FieldAliasPlugin(aliases))
    # Open ranges over words ("[a TO z]") and match-everything ("*:*") cost seconds and mean nothing here.
    parser.remove_plugin_class(qparser.RangePlugin)
    parser.remove_plugin_class(qparser.EveryPlugin)
    return parser


class FieldParser:
    """Parses query text over fields with per-field boosts, as :func:`make_parser`'s parser does.

    Text of plain words (the usual query) is turned into the parser's query tree directly: the
    Whoosh parser spends a millisecond or more a word tagging, grouping and copying boosts, and
    a test checks the two trees agree on every query of the query sets. Anything with query
    syntax goes to the Whoosh parser, made on first use.
    """

    def __init__(
        self,
        schema: Schema,
        weights: Mapping[str, float],
        fields: Sequence[str] = TEXT_FIELDS,
        *,
        conjunctive: bool = False,
    ) -> None:
        self.schema = schema
        self.conjunctive = conjunctive
        self.boosts = {name: float(weights[name]) for name in fields if weights.get(name, 0) > 0}
        self._weights = dict(weights)
        self._fields = tuple(fields)
        self._parser: qparser.QueryParser | None = None
        self._terms: dict[tuple[str, str], list[str]] = {}

    def parse(self, text: str) -> Query:
        """The query for ``text`` (Whoosh's parser errors propagate, as from ``parser.parse``)."""
        words = text.split()
        if all(PLAIN_WORD.fullmatch(word) and word not in OPERATORS for word in words):
            return self._plain(words)
        if self._parser is None:
            self._parser = make_parser(self.schema, self._weights, self._fields, conjunctive=self.conjunctive)
        return exclusions(self._parser.parse(_MINUS.sub("NOT ", text)))

    def _plain(self, words: list[str]) -> Query:
        groups: list[Query] = []
        for word in words:
            terms = [
                Term(name, text, boost=boost)
                for name, boost in self.boosts.items()
                for text in self._analyse(name, word)
            ]
            if not terms:
                continue  # a stop word
            if self.conjunctive:
                group = terms[0] if len(terms) == 1 else Or(terms)
                if group not in groups:
                    groups.append(group)
            else:
                groups.extend(term for term in terms if term not in groups)
        if not groups:
            return NullQuery
        if len(groups) == 1:
            return groups[0]
        return And(groups) if self.conjunctive else Or(groups, scale=COORD_BONUS)

    def _analyse(self, name: str, word: str) -> list[str]:
        key = (name, word)
        texts = self._terms.get(key)
        if texts is None:
            if len(self._terms) >= MAX_ANALYSED:
                self._terms.clear()
            texts = self._terms[key] = list(self.schema[name].process_text(word, mode="query"))
        return texts


_MINUS = re.compile(r"(?<![^\s(])-(?=[^\W_]|\"|\()")
"""A minus sign starting a word, phrase or group (``-replacement``): the word is excluded, as ``NOT``."""


_EXCLUDED = re.compile(r"(?:\bNOT\s+|(?<![^\s(])-)(?:\"[^\"]*\"|\([^)]*\)|\S+)")


def included_text(text: str) -> str:
    """The query text without what ``NOT`` or a leading ``-`` excludes (for vocabulary expansion)."""
    return _EXCLUDED.sub(" ", text)


def _has_not(query: Query) -> bool:
    return isinstance(query, Not) or any(_has_not(sub) for sub in query.children())


def exclusions(query: Query) -> Query:
    """Make ``NOT`` exclude wherever it stands: Whoosh reads ``knee NOT replacement`` as "knee, or
    anything without replacement" (only ``AND NOT`` excludes); here the NOT parts of an OR group
    are taken out of everything the group matches (``knee AND NOT replacement``). ``NOT NOT x``
    is ``x``."""
    if not _has_not(query):
        return query
    if isinstance(query, Not):
        inner = exclusions(query.query)
        return inner.query if isinstance(inner, Not) else Not(inner, boost=query.boost)
    if hasattr(query, "subqueries"):
        query = copy.copy(query)
        query.subqueries = [exclusions(sub) for sub in query.subqueries]
    else:
        query = query.apply(exclusions)
    if type(query) is not Or:
        return query
    excluded = [sub.query for sub in query.subqueries if isinstance(sub, Not)]
    kept = [sub for sub in query.subqueries if not isinstance(sub, Not)]
    if not excluded or not kept:
        return query
    positive = kept[0] if len(kept) == 1 else Or(kept, boost=query.boost, minmatch=query.minmatch, scale=query.scale)
    # And with Not, not Whoosh's AndNot: its matcher lets an excluded document through at times.
    return And([positive, Not(excluded[0] if len(excluded) == 1 else Or(excluded))])


MAX_ANALYSED = 50_000
"""(field, word) analyses a :class:`FieldParser` keeps."""

MAX_NESTING = 16
MIN_PREFIX = 3
_WILDCARD = re.compile(r"[^\s()\"]*\*[^\s()\"]*")
_ALLOWED_WILDCARD = re.compile(rf"(?:\w+:)?[^\W_]{{{MIN_PREFIX},}}\*")
_SYNTAX = re.compile(rf"[()\"'^:~\[\]{{}}*]|\b(?:{_OPERATOR})\b")


def check_text(text: str) -> str:
    """Reject what would be slow or meaningless before Whoosh sees it; return the text to parse.

    Question marks are punctuation ("what is a colonoscopy?"), not wildcards. A ``*`` is
    accepted only at the end of a word of at least three letters (``arthro*``).
    """
    text = text.replace("?", " ")
    for match in _WILDCARD.finditer(text):
        if not _ALLOWED_WILDCARD.fullmatch(match.group(0)):
            raise QueryError(
                f"Cannot search for {match.group(0)!r}: a * works only at the end of a word of at least "
                f"{MIN_PREFIX} letters (for example arthro*), or after a code (636*)."
            )
    depth = deepest = 0
    for char in text:
        depth = depth + 1 if char == "(" else max(0, depth - 1) if char == ")" else depth
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise QueryError(f"The query nests parentheses {deepest} deep; at most {MAX_NESTING} levels are allowed.")
    return text


def plain_text(text: str) -> str:
    """The words of a query with every bit of query syntax removed: the fallback when parsing fails."""
    return " ".join(_SYNTAX.sub(" ", text).split())


_SCOPED = re.compile(r"\b\w+:(\"[^\"]*\"|\S+)")


def unscoped_text(text: str) -> str:
    """The query text without its field-scoped terms ("risks:infection"), for vocabulary expansion."""
    return _SCOPED.sub(" ", text)


def section_field(name: str) -> str:
    """The field for a --section value: a section name or any heading alias ("complications")."""
    key = name.strip().lower()
    if key in TEXT_FIELDS:
        return key
    for field_name, words in FIELD_ALIASES.items():
        if key in words:
            return field_name
    matched = match_heading(name)
    if matched in SECTION_NAMES:
        return matched
    raise QueryError(
        f"Unknown section {name!r}. Sections are: {', '.join(SECTION_NAMES)} (or title, names, other, similar)."
    )


def system_name(name: str) -> str:
    """Normalise a --system value ("cpt", "icd10pcs") to the stored code system."""
    key = name.strip().lower()
    if key in _SYSTEM_PREFIXES:
        return _SYSTEM_PREFIXES[key]
    for system in CODE_SYSTEMS:
        if key == system.lower():
            return system
    raise QueryError(f"Unknown code system {name!r}. Choose from: {', '.join(CODE_SYSTEMS)}.")


_PARTIAL_CODE = re.compile(r"(?<![\w:*-])(\d[0-9A-Za-z]{2,5})(?![\w:*-])")


def implicit_prefixes(parsed: ParsedQuery, reader: Any) -> ParsedQuery:
    """Read a partial code typed without its ``*`` ("0DTJ", "636") as a code prefix, when the
    index holds codes that start with it; otherwise leave it as a word."""
    found: list[CodePart] = []

    def take(match: re.Match[str]) -> str:
        prefix = match.group(1).upper()
        if next(iter(reader.expand_prefix("code", prefix)), None) is None:
            return match.group(0)
        found.append(CodePart("prefix", prefix))
        return " "

    text = _PARTIAL_CODE.sub(take, parsed.text)
    if not found:
        return parsed
    return replace(parsed, text=" ".join(text.split()), codes=(*parsed.codes, *found))


_FIELD_NAMES = {*TEXT_FIELDS, *(alias for aliases in FIELD_ALIASES.values() for alias in aliases)}
_SCOPE = re.compile(rf"\b(\w+):(?![\"(])(\S+(?:\s+(?!\w+:|(?:{_OPERATOR})\b)[^\s():\"]+)*)")


def scope_following_words(text: str) -> str:
    """Let a section prefix cover the words after it, up to the next prefix:
    ``risks:retinal detachment`` means both words in Risks (``risks:(retinal detachment)``)."""

    def group(match: re.Match[str]) -> str:
        field, words = match.group(1), match.group(2)
        if field.lower() not in _FIELD_NAMES or " " not in words:
            return match.group(0)
        return f"{field}:({words})"

    return _SCOPE.sub(group, text)
