"""The ``procsearch`` command group: the global ``--index`` option, the commands it holds, and
the entry point that turns anything unexpected into one line instead of a traceback."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..output import json_text
from .context import Context
from .errors import EXIT_ERROR, CliError, error_object, unexpected_message
from .explain import explain_command
from .index import generations_command, index_command, reindex_command, rollback_command, verify_command
from .parse import parse_command
from .search import search_command, show_command, similar_command
from .serve import serve_command
from .stats import eval_command, stats_command

EPILOG = """\b
Examples:
  procsearch search "spinal cord stimulator"
  procsearch search "battery for my back pain stimulator" --limit 5
  procsearch search 63685 --json
  procsearch show 63685 --section risks
  procsearch index ./my-pages --index ./my-index
  procsearch similar 63685
  procsearch eval bench/queries/pages.tsv
  procsearch stats --json

With no --index, procsearch uses a per-user index over the bundled sample corpus and builds it
on first use. Exit codes: 0 ok, 1 error, 2 usage, 3 pages skipped, 4 locked, 5 index problem,
6 disk full.
"""


@click.group(epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--index",
    "index_path",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PROCSEARCH_INDEX",
    show_envvar=True,
    help="Index directory. Default: a per-user cache folder over the bundled corpus.",
)
@click.version_option(package_name="procsearch")
@click.pass_context
def cli(click_ctx: click.Context, index_path: Path | None) -> None:
    """Search medical procedure pages by words, abbreviations or codes."""
    from ..index.store import default_index_path

    ctx = Context(index_path=index_path or default_index_path(), index_named=index_path is not None)
    click_ctx.obj = ctx
    click_ctx.call_on_close(lambda: ctx.engine.close() if ctx.engine is not None else None)


for _command in (
    index_command,
    search_command,
    show_command,
    parse_command,
    reindex_command,
    verify_command,
    rollback_command,
    generations_command,
    similar_command,
    eval_command,
    stats_command,
    serve_command,
    explain_command,
):
    cli.add_command(_command)


def _index_after_command(click_ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx = click_ctx.find_object(Context)
        assert ctx is not None
        ctx.index_path, ctx.index_named = value, True


def _json_errors(callback: Callable[..., Any]) -> Callable[..., Any]:
    """With --json, an error is also printed as a JSON object on stdout (for scripts), then exits
    with its code as it would without."""

    @functools.wraps(callback)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except CliError as exc:
            if kwargs.get("as_json"):
                click.echo(json_text(error_object(exc)))
            raise

    return wrapper


for _command in cli.commands.values():
    if _command.callback is not None and any(param.name == "as_json" for param in _command.params):
        _command.callback = _json_errors(_command.callback)
    # --index is accepted after the command too (procsearch search knee --index ./ix), as the examples write it.
    _command.params.append(
        click.Option(
            ["--index"],
            type=click.Path(file_okay=False, path_type=Path),
            expose_value=False,
            callback=_index_after_command,
            help="Index directory (as before the command).",
        )
    )


def main() -> None:
    """Entry point: click handles usage errors (exit 2); anything unexpected is one line, not a traceback."""
    try:
        cli(prog_name="procsearch")
    except Exception as exc:  # a bug: say so in one line, with a way to see more
        click.echo(f"Error: {unexpected_message(exc)}", err=True)
        if os.environ.get("PROCSEARCH_DEBUG"):
            raise
        sys.exit(EXIT_ERROR)


if __name__ == "__main__":
    main()
