"""``parse``: how one page is read, without indexing it."""

from __future__ import annotations

from pathlib import Path

import click

from .context import echo_json, printable
from .errors import CliError, library_errors
from .options import json_option
from .render import print_parse_report


@click.command(
    "parse",
    epilog="""\b
Examples:
  procsearch parse pages/cpt-61885.html
  procsearch parse pages/cpt-61885.html --json
""",
)
@click.argument("page", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option("the account")
def parse_command(page: Path, as_json: bool) -> None:
    """Show how one page is read: its id, code, title and names, each section with the heading
    it came from and how that heading was recognised, and every dropped block with its reason.

    Nothing is indexed. Site boilerplate is found across a whole folder, so a single page shows
    every block that would be counted towards it."""
    from ..ingest.errors import PageSkipped
    from ..ingest.parse import parse_page_report

    with library_errors():
        try:
            report = parse_page_report(page.read_bytes(), source=page.name)
        except PageSkipped as skip:
            raise CliError(
                f"{printable(str(page))}: skipped: {skip.reason}" + (f" ({skip.detail})" if skip.detail else "")
            ) from skip
    if as_json:
        echo_json(report.to_dict())
        return
    print_parse_report(report)
