"""The seven axes of an ICD-10-PCS code: their positions in the code."""

from __future__ import annotations

# Axis positions in a seven-character code.
_SECTION, _BODY_SYSTEM, _ROOT_OP, _BODY_PART, _APPROACH, _DEVICE, _QUALIFIER = range(7)


def _part_key(code: str) -> str:
    """The body part key of a code or prefix: its section, body system and body part characters."""
    return code[_SECTION] + code[_BODY_SYSTEM] + code[_BODY_PART]
