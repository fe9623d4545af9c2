"""The bundled sample corpus: one scraped procedure page per code, as HTML files in this folder."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def bundled_corpus() -> Path:
    """The folder holding the sample pages, wherever the package is installed."""
    return Path(str(files(__name__)))
