"""What the index holds and how well it ranks: ``stats`` and ``eval``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .context import Context, echo_json, open_engine, pass_context
from .errors import library_errors
from .options import json_option, search_kwargs, search_options
from .render import print_eval_report, print_stats


@click.command(
    "eval",
    epilog="""\b
Examples:
  procsearch eval bench/queries/pages.tsv
  procsearch eval bench/queries/pages.tsv --json > run.json
  procsearch eval bench/queries/pages.tsv --no-expand --no-correct   # what the vocabulary buys
""",
)
@click.argument("queries", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@search_options
@click.option("--json", "as_json", is_flag=True, help="Print metrics and every query's top 10 codes as JSON.")
@pass_context
def eval_command(
    ctx: Context, queries: Path, as_json: bool, vocabulary_files: tuple[Path, ...], **options: Any
) -> None:
    """Score the ranking on QUERIES (TSV: query, acceptable codes, kind): success@1, success@3,
    MRR@10 and nDCG@10, overall and per kind, and list the misses."""
    engine = open_engine(ctx, vocabulary_files)
    with library_errors():
        report = engine.evaluate(queries, **search_kwargs(**options))
    if as_json:
        echo_json(report.to_dict())
        return
    print_eval_report(report)


@click.command("stats")
@json_option("the statistics")
@pass_context
def stats_command(ctx: Context, as_json: bool) -> None:
    """Show what the index holds: documents per code system and group, version, size."""
    engine = open_engine(ctx)
    with library_errors():
        stats = engine.stats()
    if as_json:
        echo_json(stats.to_dict())
        return
    print_stats(stats)
