"""The one shape of a progress callback: the library reports long work through it and never
prints; the CLI draws it as a progress bar on stderr."""

from __future__ import annotations

from collections.abc import Callable

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)``; phases are "reading pages", "reading icd10pcs",
"indexing", for a re-index "hashing pages", and for verify and rollback "checking files" and the
like."""
