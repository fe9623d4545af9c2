"""Converting records to Whoosh documents and stored fields back to records."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..ingest.record import ProcedureDoc, SimilarCode
from ..ingest.sections import SECTION_NAMES
from ..words import SPELLING_WORD
from .schema import NAMES, SIMILAR, SPELL, TITLE


def to_fields(doc: ProcedureDoc, spelled: set[str] | None = None) -> dict[str, Any]:
    """The Whoosh document for a record (only non-empty fields).

    ``spelled``, when given, holds the words earlier documents of the same batch already put in
    the spelling vocabulary; only new words go in (and are added to it). Used for generated
    records (ICD-10-PCS), which repeat the same definitions thousands of times and are never
    removed one by one; pages always carry all their words, so deleting a page never takes a
    word from the vocabulary that another document still holds.
    """
    fields: dict[str, Any] = {
        "code": doc.code,
        "code_system": doc.code_system,
        "group": doc.group,
        "source": doc.source,
        "content_hash": doc.content_hash,
        TITLE: doc.title,
        NAMES: "\n".join(doc.common_names),
        "other": doc.other_text,
        # The similar codes themselves are searchable ("63655" finds the pages listing it); their
        # labels are shown, not searched: they describe other procedures.
        SIMILAR: " ".join(s.code for s in doc.similar_codes),
        "extra": json.dumps(
            {"other": dict(doc.other), "similar": [[s.code, s.label] for s in doc.similar_codes]},
            ensure_ascii=False,
        ),
    }
    fields.update(doc.sections)
    words = spelling_words(doc)
    if spelled is not None:
        words = [word for word in words if word not in spelled]
        spelled.update(words)
    fields[SPELL] = " ".join(words)
    return {name: value for name, value in fields.items() if value}


def from_fields(stored: Mapping[str, Any]) -> ProcedureDoc:
    """Rebuild the record from a document's stored fields."""
    extra = json.loads(stored.get("extra") or "{}")
    return ProcedureDoc(
        code=stored["code"],
        code_system=stored.get("code_system", ""),
        title=stored.get(TITLE, ""),
        common_names=tuple(n for n in stored.get(NAMES, "").split("\n") if n),
        sections={name: stored[name] for name in SECTION_NAMES if stored.get(name)},
        other=extra.get("other", {}),
        similar_codes=tuple(SimilarCode(code, label) for code, label in extra.get("similar", [])),
        group=stored.get("group", ""),
        source=stored.get("source", ""),
        content_hash=stored.get("content_hash", ""),
    )


def spelling_words(doc: ProcedureDoc) -> list[str]:
    """The distinct lower-case words of a record, for typo correction."""
    text = " ".join([doc.title, *doc.common_names, *doc.sections.values(), *doc.other.values()])
    return sorted({word.lower() for word in SPELLING_WORD.findall(text)})
