"""The JSON procsearch prints (``--json``) and serves (``procsearch serve``): one shape for both.

``procsearch/output.schema.json`` describes it.
"""

from __future__ import annotations

import json
import re
from typing import Any

JSON_SCHEMA_VERSION = 1
"""The version of the JSON objects: bumped when a field is renamed or removed, not when one is added."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_object(data: dict[str, Any]) -> dict[str, Any]:
    """A JSON object as procsearch writes it: its ``schema_version`` first."""
    return {"schema_version": JSON_SCHEMA_VERSION, **data}


def json_text(data: object, *, indent: int | None = 2) -> str:
    """``data`` as JSON that is always valid UTF-8: a byte that is not UTF-8 (which Python carries
    as a lone surrogate, from an argument or a file name) is written as U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", json.dumps(data, ensure_ascii=False, indent=indent))
