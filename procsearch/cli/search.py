"""Reading the index: ``search`` (one query or a batch), ``show`` (one record) and ``similar``."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..fields import prose_label
from ..output import json_object, json_text
from .context import Context, echo_json, open_engine, pass_context
from .errors import EXIT_ERROR, CliError, cli_error, error_object, library_errors, unexpected_message
from .options import json_option, limit_option, search_kwargs, search_options
from .render import field_text, print_doc, print_results, print_similar


@click.command(
    "search",
    epilog="""\b
Examples:
  procsearch search "spinal cord stimulator"
  procsearch search "knee replacement" --limit 3 --json
  procsearch search infection --section risks      # or: procsearch search risks:infection
  procsearch search TKA                            # abbreviations are expanded
  procsearch search colonscopy                     # misspellings are corrected
  procsearch search "636*"                         # a code prefix
  procsearch search "63650-63688"                  # a code range
  procsearch search "cpt:63685 battery"            # a code with words
  procsearch search "knee NOT replacement"         # or: knee -replacement
  procsearch search knee --system CPT --facets
  procsearch search --weights title=10,alternatives=0 "physical therapy"
  procsearch search --batch queries.txt --json     # one query per line, JSON lines out
  procsearch search "tubes tied" --limit 3 --explain   # why each hit scores what it does
""",
)
@click.argument("query", required=False)
@limit_option(10)
@click.option(
    "--offset", type=click.IntRange(min=0), default=0, show_default=True, help="Skip this many results first (paging)."
)
@search_options
@click.option("--facets", is_flag=True, help="Also count all results per code system and group.")
@click.option(
    "--batch",
    type=click.File("rb"),
    help="Read one query per line from this file ('-' for stdin; # starts a comment line); with --json, "
    "print one JSON object per line, each with its line number. A line that fails gives its error "
    "record and the rest still run; exit 1 if any line failed.",
)
@click.option("--explain", is_flag=True, help="Explain every hit's score (see 'procsearch explain').")
@json_option("results")
@click.option(
    "--flat", is_flag=True, help="List every hit on its own line (by default an ICD-10-PCS code family is shown once)."
)
@pass_context
def search_command(
    ctx: Context,
    query: str | None,
    limit: int,
    offset: int,
    facets: bool,
    batch: Any,
    explain: bool,
    as_json: bool,
    flat: bool,
    vocabulary_files: tuple[Any, ...],
    **options: Any,
) -> None:
    """Search the index. QUERY may hold words, "phrases", section:word terms, codes, code
    prefixes (636*) and ranges (63650-63688). NOT word (or -word, -"a phrase") leaves out every
    document holding it; AND, OR and parentheses group words (words alone are OR-ed, documents
    matching more of them first).

    Each hit's score is its relevance to the words: Whoosh's BM25F with the section weights, higher
    is better, comparable only within one search. A hit found by its code (an exact code, or a
    code prefix or range typed without words) scores one more than the best word match, so scores
    fall with the rank; the limit never changes a hit's score."""
    if (query is None) == (batch is None):
        raise click.UsageError("Give either a QUERY or --batch FILE.")
    if explain and batch is not None:
        raise click.UsageError("--explain explains one QUERY's page; for a batch, run 'procsearch explain' per query.")
    if explain and facets:
        raise click.UsageError("--explain shows each hit's score, not counts: run the search with --facets alone.")
    engine = open_engine(ctx, vocabulary_files)
    with library_errors():
        kwargs = search_kwargs(**options)
    if batch is not None:
        _run_batch(engine, batch, limit=limit, offset=offset, facets=facets, as_json=as_json, flat=flat, **kwargs)
        return
    assert query is not None
    if explain:
        from .explain import explain_page

        explain_page(engine, query, limit=limit, offset=offset, as_json=as_json, **kwargs)
        return
    with library_errors():
        search = engine.search if flat or as_json else engine.search_families
        results = search(query, limit=limit, offset=offset, facets=facets, **kwargs)
    if as_json:
        echo_json(results.to_dict())
        return
    print_results(results, facets=facets, flat=flat)


def _run_batch(engine: Any, lines: Any, *, as_json: bool, flat: bool = False, **kwargs: Any) -> None:
    """One search per line (blank lines and lines starting with # are skipped). A line that fails,
    for any reason, gives that line's error record, with its line number, and the rest still run;
    the exit code is 1 if any line failed."""
    failures = 0
    for number, raw in enumerate(lines, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark
        try:
            query = raw.decode("utf-8").strip()
            error = None
        except UnicodeDecodeError as exc:
            query = raw.decode("utf-8", "replace").strip()
            error = CliError(
                f"line {number} is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
            )
        if not query or query.startswith("#"):
            continue
        if error is None:
            try:
                results = (engine.search if flat or as_json else engine.search_families)(query, **kwargs)
            except Exception as exc:  # one bad line never ends the batch
                error = cli_error(exc) or CliError(unexpected_message(exc))
        if error is not None:
            failures += 1
            if as_json:
                click.echo(json_text(error_object(error, line=number, query=query), indent=None))
            else:
                click.echo(f"Error in line {number} ({query!r}): {error.message}", err=True)
            continue
        if as_json:
            click.echo(json_text(json_object({"line": number, **results.to_dict()}), indent=None))
        else:
            click.echo(click.style(f"# {query}", bold=True))
            # The reading would reach standard error apart from its query: --json has it per line.
            print_results(results, facets=kwargs.get("facets", False), flat=flat, reading=False)
    if failures:
        sys.exit(EXIT_ERROR)


@click.command(
    "show",
    epilog="""\b
Examples:
  procsearch show 63685
  procsearch show 63685 --section risks
  procsearch show g0121 --json
""",
)
@click.argument("code")
@click.option("-s", "--section", help="Print only this section.")
@json_option("the whole record")
@pass_context
def show_command(ctx: Context, code: str, section: str | None, as_json: bool) -> None:
    """Print one procedure document: every section, its common names and similar codes."""
    from ..ingest.sections import SECTION_NAMES
    from ..search.query import section_field

    engine = open_engine(ctx)
    with library_errors():
        doc = engine.get(code)
        wanted = section_field(section) if section else None
    if as_json:
        data = doc.to_dict()
        if wanted:
            data["sections"] = {wanted: doc.section_text(wanted)} if wanted in SECTION_NAMES else {}
        echo_json(data)
        return
    if wanted:
        text = field_text(doc, wanted)
        if not text:
            raise CliError(f"{doc.code} has no {prose_label(wanted)} section.")
        click.echo(text)
        return
    print_doc(doc)


@click.command(
    "similar",
    epilog="""\b
Examples:
  procsearch similar 63685
  procsearch similar 27447 --limit 5 --json
""",
)
@click.argument("code")
@limit_option(10, most=100, help="How many content-based neighbours.")
@json_option("the codes")
@pass_context
def similar_command(ctx: Context, code: str, limit: int, as_json: bool) -> None:
    """Codes similar to CODE: the page's own Similar Codes list, then pages that read alike."""
    engine = open_engine(ctx)
    with library_errors():
        result = engine.similar(code, limit=limit)
    if as_json:
        echo_json(result.to_dict())
        return
    print_similar(result)
