"""Turning the bytes of a scraped file into text, whatever encoding the site used."""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)""", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_UTF8_NAMES = ("utf-8", "utf8")


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes UTF-8 rejects as Windows-1252 (what copy-and-paste into a page leaves)."""
    assert isinstance(error, UnicodeDecodeError)
    chunk = error.object[error.start : error.end]
    return bytes(chunk).decode("windows-1252", errors="replace"), error.end


codecs.register_error("procsearch-cp1252", _cp1252_fallback)


def decode_html(data: bytes) -> str:
    """Decode a page: a BOM wins, then valid UTF-8, then the page's declared (non-UTF-8) charset,
    then UTF-8 with every invalid byte read as Windows-1252.

    The last step also repairs files that mix UTF-8 and Windows-1252, so the text never holds
    mojibake like "Ã©" or replacement characters where a real character was meant.
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            return clean_text(data[len(bom) :].decode(encoding, errors="replace"))
    try:
        return clean_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:4096])
    name = declared.group(1).decode("ascii", "ignore").lower() if declared else ""
    if name and name not in _UTF8_NAMES:
        if name in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
            name = "windows-1252"  # what browsers do, per the WHATWG encoding standard
        try:
            return clean_text(data.decode(name))
        except (LookupError, UnicodeDecodeError):
            pass
    return clean_text(data.decode("utf-8", errors="procsearch-cp1252"))


def clean_text(text: str) -> str:
    """Remove control characters (other than tab and newlines) and lone surrogates."""
    return _CONTROL.sub("", text)
