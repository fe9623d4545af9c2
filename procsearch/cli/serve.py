"""``serve``: the JSON API and the search page over HTTP."""

from __future__ import annotations

from pathlib import Path

import click

from .context import Context, ensure_default_index, pass_context
from .errors import CliError, library_errors
from .options import vocabulary_option


@click.command(
    "serve",
    epilog="""\b
Examples:
  procsearch serve                                   # http://127.0.0.1:8000/
  procsearch --index /srv/ix serve --workers 2 --port 8080
  curl 'http://127.0.0.1:8000/api/search?q=knee+replacement&limit=3'

\b
Needs the serve extra: pip install 'procsearch[serve]'. The API is described at /api/openapi.json.
A generation published by 'index' or 'reindex' is served within seconds, without a restart.
""",
)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0 for every interface)."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Worker processes (one engine each)."
)
@vocabulary_option
@pass_context
def serve_command(ctx: Context, host: str, port: int, workers: int, vocabulary_files: tuple[Path, ...]) -> None:
    """Serve the JSON API and the search page over HTTP (read-only) until stopped."""
    try:
        from ..server.app import create_app  # noqa: F401  (checks Starlette and Jinja2 are installed)
        from ..server.errors import ServerError
        from ..server.run import run_server
    except ImportError as exc:
        raise CliError(
            f"'serve' needs the serve extra ({exc.name} is not installed). Install it with: pip install 'procsearch[serve]'"
        ) from exc
    from ..search.vocabulary import load_vocabulary

    if not ctx.index_named:
        ensure_default_index(ctx)
    with library_errors():
        load_vocabulary(vocabulary_files)  # a bad file fails here, not in every worker
    click.echo(f"Serving {ctx.index_path} on http://{host}:{port}/ with {workers} worker(s); Ctrl+C stops.", err=True)
    try:
        run_server(ctx.index_path, host=host, port=port, workers=workers, vocabulary_files=vocabulary_files)
    except ServerError as exc:  # the address: the library says so in words, the options are the CLI's
        raise CliError(f"{exc} (--port, --host)") from exc
