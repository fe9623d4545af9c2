"""Explaining a ranking: ``procsearch explain QUERY CODE`` and ``search --explain``, with their text renderer.

The numbers come from :meth:`SearchEngine.explain`; this module only lays them out.
"""

from __future__ import annotations

from typing import Any

import click

from .context import Context, echo_json, open_engine, pass_context, printable
from .errors import library_errors, remedy_advice
from .options import json_option, search_kwargs, search_options
from .render import reading_line

TOP_TERMS = 8
"""Term lines shown per explanation in text (``--json`` has them all)."""
TOP_FIELDS = 6
"""Fields named in an explanation's one-line summary."""


@click.command(
    "explain",
    epilog="""\b
Examples:
  procsearch explain "spinal cord stimulator" 63685
  procsearch explain "back pain stimulator" 27447      # a code that is not on the first page
  procsearch explain stimulatr 63685 --json            # a correction, as JSON
  procsearch explain "63685 battery" 63685             # the exact-code rule
  procsearch search "knee replacement" --limit 3 --explain
""",
)
@click.argument("query")
@click.argument("code")
@click.option(
    "-n", "--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="The page it is compared to."
)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True, help="Where that page starts.")
@search_options
@json_option("the explanation")
@pass_context
def explain_command(
    ctx: Context,
    query: str,
    code: str,
    limit: int,
    offset: int,
    as_json: bool,
    vocabulary_files: tuple[Any, ...],
    **options: Any,
) -> None:
    """Explain why CODE is where it is in the results for QUERY: its rank and score, and what each
    word in each field added (with where the word came from: typed, corrected, expanded or a
    section prefix), or, for a code not on the page, what it lacks and how far behind it is.
    Takes the options of 'search', so the ranking explained is the one 'search --flat' shows
    (one hit per row: without --flat, 'search' folds an ICD-10-PCS family into one row)."""
    engine = open_engine(ctx, vocabulary_files)
    with library_errors():
        kwargs = search_kwargs(**options)
        explanation = engine.explain(query, code, limit=limit, offset=offset, **kwargs)
    if as_json:
        echo_json(explanation.to_dict())
        return
    print_explanation(explanation)


def print_explanation(explanation: Any) -> None:
    """One explanation as text: the headline, the share of each field, the top terms, the rules."""
    where = f"#{explanation.rank}" if explanation.rank is not None else "not ranked"
    score = f"score {explanation.score:.4f}" if explanation.score is not None else "no score"
    head = f"{where}  {explanation.code}  {printable(explanation.title)}  ({score})"
    click.echo(click.style(head, bold=True))
    if not explanation.on_page and explanation.placement:
        click.echo(f"  {explanation.placement}")
    if explanation.code_rule:
        click.echo(f"  {explanation.code_rule}")
    if explanation.fields:
        shares = ", ".join(
            f"{share.field}: {'/'.join(printable(w) for w in share.words[:3])} {share.share:.0%}"
            for share in explanation.fields[:TOP_FIELDS]
        )
        more = len(explanation.fields) - TOP_FIELDS
        click.echo(f"  {shares}" + (f", {more} more fields" if more > 0 else ""))
    for part in explanation.contributions[:TOP_TERMS]:
        click.echo("  " + _term_line(part, broken_down=explanation.broken_down))
    hidden = len(explanation.contributions) - TOP_TERMS
    if hidden > 0:
        click.echo(click.style(f"  ... {hidden} more terms (--json lists them all)", dim=True))
    if explanation.coordination:
        click.echo(f"  coordination bonus (more of the words matched): {explanation.coordination:.4f}")
    if explanation.broken_down and explanation.score is not None:
        click.echo(click.style(f"  parts add up to {explanation.total:.4f}", dim=True))
    if explanation.placing is not None:
        placing = explanation.placing
        axes = "".join(
            f" {'-' if points < 0 else '+'} {axis} {printable(value)} {abs(points):.2f}"
            for axis, value, points in placing.axes
        )
        click.echo(
            f"  placed among the ICD-10-PCS codes by {placing.total:.4f} = text {placing.text_points:.4f} "
            f"({placing.text_score:.4f} / best {placing.best_text_score:.4f}){axes}"
        )
    if explanation.relaxed:
        click.echo("  relaxed: no document held every word of an expansion; its words counted one by one")
    if explanation.lacking:
        click.echo("  lacks: " + ", ".join(printable(unit) for unit in explanation.lacking))
    in_force = explanation.options_in_force
    if in_force:
        click.echo(click.style("  options: " + ", ".join(f"{k}={v}" for k, v in in_force.items()), dim=True))
    if explanation.interpretation:
        click.echo("  " + reading_line(explanation.interpretation))
    for note in explanation.notes:
        click.echo(click.style(f"  note: {note}", dim=True))


def _term_line(part: Any, *, broken_down: bool) -> str:
    came = part.origin if not part.detail else f"{part.origin}: {part.detail}"
    word = f"{printable(part.word)} ({printable(came)})"
    if not broken_down:
        return f"{part.field:<12} {word}  field weight {part.field_weight:g}"
    return (
        f"{part.field:<12} {word}  {part.share:>4.0%}  = weight {part.weight:.3g} x bm25 {part.bm25:.3f}"
        f"  [tf {part.tf:g}, length {part.field_length:g} / avg {part.average_length:.1f}, idf {part.idf:.2f}]"
    )


def explain_page(engine: Any, query: str, *, as_json: bool, **options: Any) -> None:
    """``search QUERY --explain``: the page's hits, each explained (as JSON: the results with an
    ``explanations`` list)."""
    with library_errors():
        results, explanations = engine.explain_page(query, **options)
    if as_json:
        echo_json({**results.to_dict(), "explanations": [e.to_dict() for e in explanations]})
        return
    print_page_explanations(results, explanations)


def print_page_explanations(results: Any, explanations: Any) -> None:
    """Every hit of the page, explained, after the search's notices."""
    for notice in results.notices:
        click.echo(notice, err=True)
    if results.remedies:
        click.echo(remedy_advice(results.remedies), err=True)
    if not explanations:
        click.echo(f"No results for {results.query!r}.", err=True)
    for explanation in explanations:
        print_explanation(explanation)
