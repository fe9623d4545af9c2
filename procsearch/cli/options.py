"""The options several commands share, defined once so the flags read the same everywhere; their
ranges, choices and defaults come from the library."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..ingest.pages import DEFAULT_MAX_BYTES
from ..ingest.sources import SOURCE_NAMES
from ..search.limits import MAX_LIMIT


def _apply(options: list[Callable[..., Any]], function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(options):
        function = option(function)
    return function


def lock_timeout_option() -> Callable[..., Any]:
    return click.option(
        "--lock-timeout",
        type=click.FloatRange(min=0),
        default=0.0,
        show_default=True,
        help="Seconds to wait for another writer to finish.",
    )


def json_option(what: str) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON.")


def write_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options shared by the commands that write the index (index, reindex)."""
    options = [
        click.option("--strict", is_flag=True, help="Fail (exit 1, index unchanged) if any page is skipped."),
        click.option(
            "--max-bytes",
            type=click.IntRange(min=1),
            default=None,
            help=f"Skip pages larger than this many bytes (default {DEFAULT_MAX_BYTES:,}).",
        ),
        lock_timeout_option(),
        click.option(
            "--max-delete",
            type=click.IntRange(min=0),
            default=None,
            help="Publish even if this many of the served documents go (default: at most half of them).",
        ),
        click.option(
            "--allow-empty", is_flag=True, help="Publish even if the new index is empty (every served document goes)."
        ),
        json_option("the report"),
    ]
    return _apply(options, function)


def source_option(function: Callable[..., Any]) -> Callable[..., Any]:
    """``--source``: what to index, one of the library's sources."""
    return click.option(
        "--source",
        "sources",
        multiple=True,
        type=click.Choice(SOURCE_NAMES),
        help="What to index; repeat for both (icd10pcs needs procsearch[icd10pcs]). "
        "Default: pages, plus every other source the index holds.",
    )(function)


def limit_option(default: int, *, most: int = MAX_LIMIT, help: str = "How many results.") -> Callable[..., Any]:
    return click.option("-n", "--limit", type=click.IntRange(1, most), default=default, show_default=True, help=help)


def vocabulary_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--vocabulary",
        "vocabulary_files",
        multiple=True,
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        help="Extra vocabulary file (term<TAB>expansions<TAB>kind); repeatable.",
    )(function)


def search_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options shared by every command that runs searches (search, eval); see :func:`search_kwargs`."""
    options = [
        click.option("-s", "--section", help="Match only in this section (summary, purpose, risks, ...)."),
        click.option("--system", help="Only this code system (CPT, HCPCS, ICD-10-PCS)."),
        click.option("--group", help="Only this group (specialty or body system), as shown by 'stats'."),
        click.option("--weights", help="Override field weights: FIELD=NUMBER[,FIELD=NUMBER...]."),
        click.option("--no-expand", is_flag=True, help="Do not add synonyms and abbreviation expansions."),
        click.option("--no-correct", is_flag=True, help="Do not correct misspelled words."),
        vocabulary_option,
    ]
    return _apply(options, function)


def search_kwargs(
    section: str | None, system: str | None, group: str | None, weights: str | None, no_expand: bool, no_correct: bool
) -> dict[str, Any]:
    """The keyword arguments of ``SearchEngine.search`` for the :func:`search_options`
    (``--vocabulary`` goes to the engine itself: see ``open_engine``)."""
    from ..search.weights import parse_weight_option

    return {
        "section": section,
        "system": system,
        "group": group,
        "weights": parse_weight_option(weights) if weights else None,
        "expand": not no_expand,
        "correct": not no_correct,
    }
