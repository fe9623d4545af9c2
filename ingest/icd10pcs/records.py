"""Building one :class:`ProcedureDoc` per billable code from the tables."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from ..codes import ICD10PCS
from ..record import ProcedureDoc, SimilarCode
from .alphabetic_index import _names_for
from .axes import _APPROACH, _ROOT_OP, _SECTION, _part_key
from .tables import PcsTables, read_tables, select_codes
from .wording import _procedure, _purpose, _summary

SOURCE_PREFIX = "icd10pcs:"


def iter_icd10pcs_docs(
    db_path: Path | None = None,
    *,
    codes: Iterable[str] | None = None,
    prefixes: Iterable[str] | None = None,
    tables: PcsTables | None = None,
) -> Iterator[ProcedureDoc]:
    """One :class:`ProcedureDoc` per billable ICD-10-PCS code, in code order.

    ``codes`` and ``prefixes`` restrict the output as in :func:`select_codes`; similar codes and
    common names are still taken from the whole code set. Pass ``tables`` (from
    :func:`read_tables`) to reuse tables already read; otherwise the database (``db_path``, or
    the installed one) is read now, so a missing or malformed source raises here, before the
    first document.
    """
    tables = tables if tables is not None else read_tables(db_path)
    selected = select_codes(tables, codes=codes, prefixes=prefixes)
    return (_build(tables, code) for code in selected)


def build_icd10pcs_doc(tables: PcsTables, code: str) -> ProcedureDoc:
    """The document of one billable code; ``KeyError`` if it is not one."""
    code = code.strip().upper()
    if code not in tables.titles:
        raise KeyError(code)
    return _build(tables, code)


def _build(tables: PcsTables, code: str) -> ProcedureDoc:
    section = code[_SECTION]
    axes = tables.axes.get(code)
    body_system, body_part = tables.body_parts.get(_part_key(code), ("", ""))
    if axes is not None:
        body_system = axes.body_system or body_system
    root = tables.root_operations.get((section, code[_ROOT_OP]))
    approach, approach_definition = tables.approaches.get((section, code[_APPROACH]), ("", ""))
    device = axes.device if axes is not None else ""
    qualifier = axes.qualifier if axes is not None else ""

    sections: dict[str, str] = {}
    summary = _summary(root, body_part, code, approach, device, qualifier)
    if summary:
        sections["summary"] = summary
    if root is not None:
        sections["purpose"] = _purpose(root)
    procedure = _procedure(approach, approach_definition, device, qualifier, body_part, body_system)
    if procedure:
        sections["procedure"] = procedure

    title = tables.titles[code]
    common_names = _names_for(tables, code, axes, title)
    similar = tuple(SimilarCode(other, tables.titles[other]) for other in tables.neighbours.similar(code))
    group = " / ".join(part for part in (axes.section if axes else "", body_system) if part)
    content_hash = _content_hash(code, title, group, common_names, sections, similar)
    return ProcedureDoc(
        code=code,
        code_system=ICD10PCS,
        title=title,
        common_names=common_names,
        sections=sections,
        similar_codes=similar,
        group=group,
        source=SOURCE_PREFIX + code,
        content_hash=content_hash,
    )


def _content_hash(
    code: str,
    title: str,
    group: str,
    common_names: Sequence[str],
    sections: Mapping[str, str],
    similar: Sequence[SimilarCode],
) -> str:
    """SHA-256 of everything a document says, in a fixed order with separator characters that
    never occur in the data: equal content gives an equal hash on every run."""
    fields = [
        code,
        ICD10PCS,
        title,
        group,
        "\x1e".join(common_names),
        "\x1e".join(f"{name}\x1f{text}" for name, text in sections.items()),
        "\x1e".join(f"{s.code}\x1f{s.label}" for s in similar),
    ]
    return hashlib.sha256("\x1d".join(fields).encode("utf-8")).hexdigest()
