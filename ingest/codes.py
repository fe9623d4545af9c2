"""Procedure code shapes: which code system a code belongs to, and finding codes in text."""

from __future__ import annotations

import re

CPT = "CPT"
HCPCS = "HCPCS"
ICD10PCS = "ICD-10-PCS"
CODE_SYSTEMS = (CPT, HCPCS, ICD10PCS)

# The shape of each code system's codes, in either case: the one definition ingest and query share.
CPT_SHAPE = r"\d{4}[\dFTUftu]"
"""CPT: five digits, or four digits and F/T/U (category II/III codes, PLA codes)."""
HCPCS_SHAPE = r"[A-Va-v]\d{4}"
"""HCPCS Level II: a letter A-V and four digits."""
ICD10PCS_SHAPE = r"[0-9B-DFGHXb-dfghx][0-9A-HJ-NP-Za-hj-np-z]{6}"
"""ICD-10-PCS: seven characters from digits and letters other than I and O (the first one of
the section characters)."""

_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (CPT, re.compile(CPT_SHAPE)),
    (HCPCS, re.compile(HCPCS_SHAPE)),
    (ICD10PCS, re.compile(ICD10PCS_SHAPE)),
)

CODE = rf"(?:{CPT_SHAPE}|{HCPCS_SHAPE}|{ICD10PCS_SHAPE})"
"""A regular expression for a code of any system, with no boundaries (the query syntax puts it
inside ranges and system prefixes: ``63650-63688``, ``cpt:63685``)."""

CODE_TOKEN = rf"(?<![\w-])(?:{CPT_SHAPE}|{HCPCS_SHAPE}|(?=[A-Za-z]*\d){ICD10PCS_SHAPE})(?![\w-])"
"""A regular expression for anything shaped like a code, as a standalone token.

In running text an ICD-10-PCS code must hold a digit, so seven-letter words ("bladder") are not codes.
"""

_CODE_TOKEN_RE = re.compile(CODE_TOKEN)

# Labels that name a code system on a page ("CPT4 code", "HCPCS Level II code", "CPT®").
_SYSTEM_LABELS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bICD[- ]?10[- ]?PCS\b", re.I), ICD10PCS),
    (re.compile(r"\bHCPCS\b", re.I), HCPCS),
    (re.compile(r"\bCPT\b|\bCPT\s*4\b|\bCPT4\b|\bCPT®", re.I), CPT),
)

LABELLED_CODE = re.compile(
    r"\b(?P<label>ICD[- ]?10[- ]?PCS|HCPCS(?:\s+Level\s+II)?|CPT(?:\s*4|®)?)\s*(?:code|procedure code)?"
    r"(?:\s*(?:number|no\.?|#))?\s*[:#\-\u2013]?\s*(?P<code>[0-9A-Za-z]{5,7})\b",
    re.I,
)
"""A code next to its label: "CPT4 code 63685", "HCPCS code: G0121", "CPT® 27447"."""


def system_of(code: str) -> str:
    """The code system a code's shape belongs to, or "" if it fits none."""
    code = code.strip().upper()
    for system, shape in _SHAPES:
        if shape.fullmatch(code):
            return system
    return ""


def system_from_label(label: str) -> str:
    """The code system a label names ("CPT4 code" -> "CPT"), or ""."""
    for pattern, system in _SYSTEM_LABELS:
        if pattern.search(label):
            return system
    return ""


def normalize_code(code: str) -> str:
    """Codes compare upper-case and without surrounding space."""
    return code.strip().upper()


def find_codes(text: str) -> list[str]:
    """Every code-shaped token in ``text``, upper-cased, in order."""
    return [normalize_code(match) for match in _CODE_TOKEN_RE.findall(text)]


# Public ranges of the CPT sections and subsections (AMA CPT code book structure), by code number.
_CPT_GROUPS: tuple[tuple[int, int, str], ...] = (
    (100, 1999, "Anesthesia"),
    (10004, 19499, "Integumentary"),
    (20100, 29999, "Musculoskeletal"),
    (30000, 32999, "Respiratory"),
    (33016, 37799, "Cardiovascular"),
    (38100, 38999, "Hemic and lymphatic"),
    (39000, 39599, "Mediastinum and diaphragm"),
    (40490, 49999, "Digestive"),
    (50010, 53899, "Urinary"),
    (54000, 55899, "Male genital"),
    (55920, 55980, "Reproductive"),
    (56405, 58999, "Female genital"),
    (59000, 59899, "Maternity care and delivery"),
    (60000, 60699, "Endocrine"),
    (61000, 64999, "Nervous system"),
    (65091, 68899, "Eye"),
    (69000, 69979, "Ear"),
    (69990, 69990, "Operating microscope"),
    (70010, 79999, "Radiology"),
    (80047, 89398, "Laboratory"),
    (90281, 99199, "Medicine"),
    (99202, 99499, "Evaluation and management"),
    (99500, 99607, "Medicine"),
)
_HCPCS_GROUPS = {
    "A": "Transportation, supplies and equipment",
    "B": "Enteral and parenteral therapy",
    "C": "Outpatient prospective payment",
    "E": "Durable medical equipment",
    "G": "Procedures and professional services",
    "H": "Behavioral health",
    "J": "Drugs administered other than oral",
    "K": "Durable medical equipment (temporary)",
    "L": "Orthotics and prosthetics",
    "M": "Medical services and quality measures",
    "P": "Pathology and laboratory",
    "Q": "Temporary codes",
    "R": "Diagnostic radiology",
    "S": "Temporary national codes (non-Medicare)",
    "T": "State Medicaid agency codes",
    "U": "Coronavirus laboratory tests",
    "V": "Vision and hearing",
}


def group_of(code: str, system: str) -> str:
    """The section a code belongs to by its number: CPT ranges, the HCPCS letter; "" if unknown."""
    code = normalize_code(code)
    if system == CPT and code[:4].isdigit():
        if not code.isdigit():
            return {
                "F": "Category II (performance measures)",
                "T": "Category III (emerging technology)",
                "U": "Proprietary laboratory analyses",
            }.get(code[-1], "")
        number = int(code)
        for low, high, name in _CPT_GROUPS:
            if low <= number <= high:
                return name
        return ""
    if system == HCPCS and code[:1] in _HCPCS_GROUPS:
        return "HCPCS " + code[0] + ": " + _HCPCS_GROUPS[code[0]]
    return ""
