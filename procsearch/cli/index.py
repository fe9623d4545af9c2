"""Writing and keeping the index: ``index`` (a full build), ``reindex`` (an update by content
hash), ``verify``, ``rollback`` and ``generations``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .context import Context, echo_json, ensure_default_index, pass_context, printable, progress_bar
from .errors import EXIT_ERROR, EXIT_INDEX, EXIT_SKIPPED, CliError, library_errors, remedy_advice
from .options import json_option, lock_timeout_option, source_option, write_options
from .render import print_generations, print_index_report, print_reindex_report, print_verify_report

corpus_argument = click.argument(
    "corpus_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)


def _write(
    write: Callable[..., Any],
    print_report: Callable[[Any, Path, Path], None],
    ctx: Context,
    corpus_dir: Path | None,
    *,
    as_json: bool,
    max_bytes: int | None,
    **options: Any,
) -> None:
    """Run ``build_index`` or ``reindex`` over ``corpus_dir`` (default: the bundled corpus) with a
    progress bar and the write advice for its errors, passing ``--max-bytes`` only when given (else
    the library's default holds); print the report; exit 3 if pages were skipped."""
    from ..corpus import bundled_corpus

    folder = corpus_dir or bundled_corpus()
    update, finish = progress_bar()
    with library_errors():
        try:
            limit = {} if max_bytes is None else {"max_bytes": max_bytes}
            report = write(folder, ctx.index_path, progress=update, **limit, **options)
        finally:
            finish()
    if as_json:
        echo_json(report.to_dict())
    else:
        print_report(report, folder, ctx.index_path)
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


@click.command(
    "index",
    epilog="""\b
Examples:
  procsearch index                       # the bundled sample corpus
  procsearch index ./pages --index ./ix  # your own pages
  procsearch index --rebuild --json
  procsearch index --source pages --source icd10pcs   # plus all ICD-10-PCS codes
""",
)
@corpus_argument
@source_option
@click.option(
    "--rebuild", is_flag=True, help="Build from scratch (what 'index' always does; 'reindex' updates incrementally)."
)
@write_options
@pass_context
def index_command(
    ctx: Context, corpus_dir: Path | None, sources: tuple[str, ...], rebuild: bool, **options: Any
) -> None:
    """Build the index from a folder of procedure pages (default: the bundled corpus).

    The new index is built next to the old one and swapped in only when it is complete, so
    searches keep working while it runs. Every skipped page is reported with its reason.
    """
    from ..index.build import build_index

    _write(build_index, print_index_report, ctx, corpus_dir, sources=sources or None, **options)


@click.command(
    "reindex",
    epilog="""\b
Examples:
  procsearch reindex                          # the bundled sample corpus
  procsearch --index /srv/ix reindex /srv/pages --lock-timeout 600 --json

\b
Exit codes: 0 done; 3 done, some pages skipped; 1 error (a skip with --strict, or more
documents would go than --max-delete allows); 2 usage error; 4 another writer held the lock
past --lock-timeout; 5 index damaged; 6 the disk is full (nothing published).
""",
)
@corpus_argument
@write_options
@pass_context
def reindex_command(ctx: Context, corpus_dir: Path | None, **options: Any) -> None:
    """Update the index from a folder of pages by content hash: add new pages, re-index changed
    ones, delete removed ones, all in one atomic step. Safe to run on a schedule."""
    from ..index.update import reindex

    _write(reindex, print_reindex_report, ctx, corpus_dir, **options)


@click.command(
    "verify",
    epilog="""\b
Examples:
  procsearch verify
  procsearch --index /srv/ix verify /srv/pages --json

\b
Exit codes: 0 the index is sound (and matches the folder, if given); 1 it drifted from the
folder (run reindex); 5 it is damaged (the message names the fix).
""",
)
@corpus_argument
@json_option("the report")
@pass_context
def verify_command(ctx: Context, corpus_dir: Path | None, as_json: bool) -> None:
    """Check every index file against its checksum, read every stored document and posting,
    report damage, and (with CORPUS_DIR) report pages missing from, extra in, or stale in the
    index. Ends with a one-line verdict."""
    from ..index.verify import verify_index

    if corpus_dir is None and not ctx.index_named:
        from ..corpus import bundled_corpus

        ensure_default_index(ctx)
        corpus_dir = bundled_corpus()
    update, finish = progress_bar()
    with library_errors():
        try:
            report = verify_index(ctx.index_path, corpus_dir, progress=update)
        finally:
            finish()
    advice = remedy_advice(report.remedies)
    fix = advice[:1].lower() + advice[1:]
    if as_json:
        echo_json({**report.to_dict(), "fix": fix})
    else:
        print_verify_report(report, ctx.index_path, fix)
    if report.damaged:
        sys.exit(EXIT_INDEX)
    if report.drifted:
        sys.exit(EXIT_ERROR)


@click.command(
    "rollback",
    epilog="""\b
Examples:
  procsearch --index /srv/ix rollback                     # serve the previous generation
  procsearch --index /srv/ix generations                  # what there is to serve
  procsearch --index /srv/ix rollback --to latest          # undo rollbacks: serve the newest

\b
Exit codes: 0 done; 1 nothing to roll back to (or no such generation); 4 another writer held
the lock; 5 no generation reads cleanly (the message names the rebuild).
""",
)
@click.option(
    "--to",
    "target",
    metavar="GENERATION",
    help="Serve this generation (as listed by 'generations'; 'latest': the newest).",
)
@lock_timeout_option()
@pass_context
def rollback_command(ctx: Context, target: str | None, lock_timeout: float) -> None:
    """Serve the previous index generation again (after a damaged or unwanted update). The
    generation it replaces is kept: 'rollback --to' serves it again."""
    from ..index.verify import rollback_index

    update, finish = progress_bar()
    with library_errors():
        try:
            name = rollback_index(ctx.index_path, to=target, lock_timeout=lock_timeout, progress=update)
        finally:
            finish()
    click.echo(f"{printable(ctx.index_path)} now serves {name}.")


@click.command(
    "generations",
    epilog="""\b
Examples:
  procsearch --index /srv/ix generations
  procsearch --index /srv/ix generations --json
""",
)
@json_option("the generations")
@pass_context
def generations_command(ctx: Context, as_json: bool) -> None:
    """List the index's generations, newest first: the one served, the previous one (what
    'rollback' serves) and any a rollback moved away from ('rollback --to' serves them)."""
    from ..index.verify import list_generations

    with library_errors():
        found = list_generations(ctx.index_path)
    if as_json:
        echo_json({"index": str(ctx.index_path), "generations": [g.to_dict() for g in found]})
        return
    if not found:
        raise CliError(f"No index at {printable(ctx.index_path)}.", EXIT_INDEX)
    print_generations(found)
