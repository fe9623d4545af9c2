"""The limits of one search call, in a module of their own: the CLI takes its option ranges from
here without loading the engine."""

from __future__ import annotations

MAX_LIMIT = 1000
"""The most hits one call returns (``limit``)."""
