"""Turning the bytes of a scraped file into text, whatever encoding the site used."""

from __future__ import annotations

import codecs
import re

from bs4 import UnicodeDammit

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w:.-]+)""", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def decode_html(data: bytes) -> str:
    """Decode a page: a BOM wins, then valid UTF-8, then the page's meta charset, then detection.

    Files that mix UTF-8 and Windows-1252 (a common result of copy-and-paste into templates) are
    repaired with ``UnicodeDammit.detwingle`` so the text never holds mojibake like "Ã©".
    """
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return clean_text(data[len(bom):].decode(encoding, errors="replace"))
    try:
        return clean_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii", "ignore").lower()
        if name in ("utf-8", "utf8"):
            # Declared UTF-8 but not valid UTF-8: most often Windows-1252 pasted into a UTF-8 page.
            return clean_text(UnicodeDammit.detwingle(data).decode("utf-8", errors="replace"))
        if name in ("iso-8859-1", "latin-1", "latin1", "us-ascii", "ascii"):
            name = "windows-1252"  # what browsers do, per the WHATWG encoding standard
        try:
            return clean_text(data.decode(name))
        except (LookupError, UnicodeDecodeError):
            pass
    detwingled = UnicodeDammit.detwingle(data)
    try:
        return clean_text(detwingled.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    dammit = UnicodeDammit(data, ["utf-8", "windows-1252"])
    text = dammit.unicode_markup if dammit.unicode_markup is not None else data.decode("windows-1252", "replace")
    return clean_text(text)


def clean_text(text: str) -> str:
    """Remove control characters (other than tab and newlines) and lone surrogates."""
    return _CONTROL.sub("", text)
