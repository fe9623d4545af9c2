"""The procsearch command line: a thin layer over the library.

Results go to stdout; progress and messages go to stderr. Exit codes:

  0  success
  1  error (bad query, unknown code, unreadable file, ...)
  2  usage error (unknown option, missing argument)
  3  success, but some pages were skipped (listed on stderr and in --json)
  4  the index is locked by another writer (see --lock-timeout)
  5  the index is missing, damaged, unsafe, or from another version: the message names the fix
  6  the disk holding the index is full (index, reindex): nothing was published
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from .output import json_object, json_text

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_LOCKED = 4
EXIT_INDEX = 5
EXIT_DISK_FULL = 6


class CliError(click.ClickException):
    """A one-line error with its own exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class


@dataclass
class Context:
    """Shared state for every command: which index, and whether it was named by the user."""

    index_path: Path
    index_named: bool
    engine: Any = None
    _closers: list[Callable[[], None]] = field(default_factory=list)


pass_context = click.make_pass_decorator(Context)


def cli_error(exc: Exception) -> CliError | None:
    """The one-line message and documented exit code for a library error; None for anything else (a bug)."""
    from .index.errors import IndexLockedError, IndexStoreError
    from .ingest.errors import IngestError
    from .search.errors import SearchError

    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, IndexLockedError):
        return CliError(str(exc), EXIT_LOCKED)
    if isinstance(exc, IndexStoreError):
        return CliError(str(exc), EXIT_INDEX)
    if isinstance(exc, (SearchError, IngestError, ValueError)):
        return CliError(str(exc))
    if isinstance(exc, OSError):
        return CliError(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    return None


def unexpected_message(exc: BaseException) -> str:
    return f"unexpected {type(exc).__name__}: {exc}. Please report this; run with PROCSEARCH_DEBUG=1 for the traceback."


@contextmanager
def library_errors() -> Iterator[None]:
    """Turn the library's errors into one clear line on stderr and the documented exit code."""
    try:
        yield
    except Exception as exc:
        error = cli_error(exc)
        if error is None or error is exc:
            raise
        raise error from exc


def _progress_bar() -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    """A progress callback drawing one bar per phase on stderr (only on a terminal)."""
    if not sys.stderr.isatty():
        return (lambda phase, done, total: None), (lambda: None)
    state: dict[str, Any] = {"phase": None, "bar": None, "done": 0}

    def finish() -> None:
        if state["bar"] is not None:
            state["bar"].render_finish()
            state["bar"] = None

    def update(phase: str, done: int, total: int) -> None:
        if phase != state["phase"]:
            finish()
            state["phase"] = phase
            state["done"] = 0
            state["bar"] = click.progressbar(length=total, file=sys.stderr, show_pos=True, **_bar_layout(phase, total))
            state["bar"].render_progress()
        state["bar"].update(done - state["done"])
        state["done"] = done

    return update, finish


def _terminal_columns() -> int:
    """The width of the terminal the progress goes to (stderr), or $COLUMNS when set."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        return 80


MIN_BAR = 10


def _bar_layout(phase: str, total: int) -> dict[str, Any]:
    """Label, bar width and whether to show the time left, so that the whole line (``LABEL  [BAR]
    POS/TOTAL  ETA``) stays one character short of the terminal's width and never wraps."""
    room = _terminal_columns() - 1
    label = phase.capitalize().ljust(18)
    position = 2 * len(str(total)) + 1
    eta = 2 + len("00:00:00")
    clutter = len("  [") + len("]  ") + position
    if room - len(label) - clutter - eta >= MIN_BAR:
        return {"label": label, "width": room - len(label) - clutter - eta, "show_eta": True}
    label = label.rstrip()[: max(0, room - clutter - MIN_BAR)]
    return {"label": label, "width": max(1, room - len(label) - clutter), "show_eta": False}


def _echo_json(data: dict[str, Any]) -> None:
    click.echo(json_text(json_object(data)))


def error_object(error: CliError, **context: Any) -> dict[str, Any]:
    """What --json prints for an error: the message and the exit code (and, in a batch, the line)."""
    return json_object({**context, "error": error.message, "exit_code": error.exit_code})


def _engine(ctx: Context) -> Any:
    """The search engine; with no index named, the default index over the bundled corpus, built on first use."""
    if ctx.engine is not None:
        return ctx.engine
    from .search.engine import SearchEngine

    with library_errors():
        from .index.store import index_is_current

        if not ctx.index_named and not index_is_current(ctx.index_path):
            from .corpus import bundled_corpus
            from .index.build import ensure_index
            from .index.errors import IndexMissingError
            from .index.store import current_generation

            try:
                current_generation(ctx.index_path)
                first = False
            except IndexMissingError:
                first = True
            if first:
                click.echo(
                    f"No index yet: building one from the bundled sample corpus at {ctx.index_path} ...", err=True
                )
            update, finish = _progress_bar()
            report = ensure_index(ctx.index_path, bundled_corpus(), progress=update)
            finish()
            if report is not None:
                click.echo(f"Indexed {report.indexed} pages in {report.seconds:.1f} s.", err=True)
        ctx.engine = SearchEngine(ctx.index_path)
    return ctx.engine


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
    from .index.store import default_index_path

    ctx = Context(index_path=index_path or default_index_path(), index_named=index_path is not None)
    click_ctx.obj = ctx
    click_ctx.call_on_close(lambda: ctx.engine.close() if ctx.engine is not None else None)


# --- index ---------------------------------------------------------------------------------------


def write_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options shared by the commands that write the index (index, reindex)."""
    options = [
        click.option("--strict", is_flag=True, help="Fail (exit 1, index unchanged) if any page is skipped."),
        click.option(
            "--max-bytes", type=click.IntRange(min=1), default=None, help="Skip pages larger than this (default 5 MB)."
        ),
        click.option(
            "--lock-timeout",
            type=click.FloatRange(min=0),
            default=0.0,
            show_default=True,
            help="Seconds to wait for another writer to finish.",
        ),
        click.option(
            "--max-delete",
            type=click.IntRange(min=0),
            default=None,
            help="Publish even if this many of the served documents go (default: at most half of them).",
        ),
        click.option(
            "--allow-empty", is_flag=True, help="Publish even if the new index is empty (every served document goes)."
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@contextmanager
def write_errors() -> Iterator[None]:
    """:func:`library_errors`, plus the advice for a run the library refused to publish or could
    not finish for lack of disk space."""
    from .index.errors import DeletionLimitError, DiskFullError, RollbackError

    with library_errors():
        try:
            yield
        except RollbackError as exc:
            raise CliError(str(exc)) from exc
        except DiskFullError as exc:
            raise CliError(
                f"{exc} Free some space there, or build the index on another disk with --index.", EXIT_DISK_FULL
            ) from exc
        except DeletionLimitError as exc:
            flag = "--allow-empty" if exc.remaining == 0 else f"--max-delete {exc.deleting}"
            every = " ".join(f"--source {name}" for name in ("pages", *exc.unbuilt))
            also = (
                f" To rebuild every source it holds: procsearch --index {exc.index_path} index {every}."
                if exc.unbuilt
                else ""
            )
            raise CliError(f"{exc} Check the folder; if this is what you want, run again with {flag}.{also}") from exc


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: object) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``): a file name printed in a
    log can never forge a line of it."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], str(text))


def _report_skips(skipped: Any) -> None:
    for skip in skipped:
        detail = f" ({printable(skip.detail)})" if skip.detail else ""
        click.echo(f"skipped {printable(skip.source)}: {skip.reason}{detail}", err=True)


@cli.command(
    "index",
    epilog="""\b
Examples:
  procsearch index                       # the bundled sample corpus
  procsearch index ./pages --index ./ix  # your own pages
  procsearch index --rebuild --json
  procsearch index --source pages --source icd10pcs   # plus all ICD-10-PCS codes
""",
)
@click.argument("corpus_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--source",
    "sources",
    multiple=True,
    type=click.Choice(["pages", "icd10pcs"]),
    help="What to index; repeat for both (icd10pcs needs procsearch[icd10pcs]). "
    "Default: pages, plus every other source the index holds.",
)
@click.option(
    "--rebuild", is_flag=True, help="Build from scratch (what 'index' always does; 'reindex' updates incrementally)."
)
@write_options
@pass_context
def index_command(
    ctx: Context,
    corpus_dir: Path | None,
    sources: tuple[str, ...],
    rebuild: bool,
    strict: bool,
    max_bytes: int | None,
    lock_timeout: float,
    max_delete: int | None,
    allow_empty: bool,
    as_json: bool,
) -> None:
    """Build the index from a folder of procedure pages (default: the bundled corpus).

    The new index is built next to the old one and swapped in only when it is complete, so
    searches keep working while it runs. Every skipped page is reported with its reason.
    """
    from .corpus import bundled_corpus
    from .index.build import build_index
    from .ingest.pages import DEFAULT_MAX_BYTES

    folder = corpus_dir or bundled_corpus()
    update, finish = _progress_bar()
    with write_errors():
        try:
            report = build_index(
                folder,
                ctx.index_path,
                sources=sources or None,
                max_bytes=max_bytes or DEFAULT_MAX_BYTES,
                lock_timeout=lock_timeout,
                progress=update,
                strict=strict,
                max_delete=max_delete,
                allow_empty=allow_empty,
            )
        finally:
            finish()
    if as_json:
        _echo_json(report.to_dict())
    else:
        _report_skips(report.skipped)
        _report_low_coverage(report.low_coverage)
        reasons = ", ".join(f"{count} {reason}" for reason, count in report.skipped_by_reason().items())
        origin = ", ".join(
            f"{count} from {name if name != 'pages' else printable(folder)}" for name, count in report.sources.items()
        )
        click.echo(
            f"Indexed {report.indexed} documents ({origin}) into {printable(ctx.index_path)} in {report.seconds:.1f} s"
            + (f"; skipped {len(report.skipped)} ({reasons})" if report.skipped else "")
            + "."
        )
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


def _report_low_coverage(pages: Any) -> None:
    """Warn (on stderr) about pages whose record holds little of their text, for no strong reason."""
    for page in pages:
        click.echo(
            f"warning: {printable(page.source)}: only {page.coverage.share:.0%} of its {page.coverage.words:,} words "
            f"reached the record (see: procsearch parse {shlex.quote(page.source)})",
            err=True,
        )


# --- search --------------------------------------------------------------------------------------


def search_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options shared by every command that runs searches (search, eval)."""
    options = [
        click.option("-s", "--section", help="Match only in this section (summary, purpose, risks, ...)."),
        click.option("--system", help="Only this code system (CPT, HCPCS, ICD-10-PCS)."),
        click.option("--group", help="Only this group (specialty or body system), as shown by 'stats'."),
        click.option("--weights", help="Override field weights: FIELD=NUMBER[,FIELD=NUMBER...]."),
        click.option("--no-expand", is_flag=True, help="Do not add synonyms and abbreviation expansions."),
        click.option("--no-correct", is_flag=True, help="Do not correct misspelled words."),
        click.option(
            "--vocabulary",
            "vocabulary_files",
            multiple=True,
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Extra vocabulary file (term<TAB>expansions<TAB>kind); repeatable.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _search_kwargs(
    ctx: Context,
    section: str | None,
    system: str | None,
    group: str | None,
    weights: str | None,
    no_expand: bool,
    no_correct: bool,
    vocabulary_files: tuple[Path, ...],
) -> dict[str, Any]:
    from .search.vocabulary import load_vocabulary
    from .search.weights import parse_weight_option

    engine = _engine(ctx)
    with library_errors():
        if vocabulary_files:
            engine.vocabulary = load_vocabulary(vocabulary_files)
        return {
            "section": section,
            "system": system,
            "group": group,
            "weights": parse_weight_option(weights) if weights else None,
            "expand": not no_expand,
            "correct": not no_correct,
        }


@cli.command(
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
""",
)
@click.argument("query", required=False)
@click.option("-n", "--limit", type=click.IntRange(1, 1000), default=10, show_default=True, help="How many results.")
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
@click.option("--json", "as_json", is_flag=True, help="Print results as JSON.")
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
    as_json: bool,
    flat: bool,
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
    kwargs = _search_kwargs(ctx, **options)
    engine = _engine(ctx)
    if batch is not None:
        _run_batch(engine, batch, limit=limit, offset=offset, facets=facets, as_json=as_json, **kwargs)
        return
    with library_errors():
        results = engine.search(query, limit=limit, offset=offset, facets=facets, **kwargs)
    if as_json:
        _echo_json(results.to_dict())
        return
    _print_results(results, facets=facets, flat=flat)


def _run_batch(engine: Any, lines: Any, *, as_json: bool, **kwargs: Any) -> None:
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
                results = engine.search(query, **kwargs)
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
            _print_results(results, facets=kwargs.get("facets", False))
    if failures:
        sys.exit(EXIT_ERROR)


def _print_results(results: Any, *, facets: bool, flat: bool = False) -> None:
    for notice in results.notices:
        click.echo(notice, err=True)
    if results.corrected_query:
        click.echo(
            f"Showing results for {results.corrected_query!r} (searched instead of {results.query!r}; "
            "--no-correct to turn this off).",
            err=True,
        )
    if not results.hits:
        # The notices above say why, when the engine knows; otherwise suggest what usually helps.
        advice = "" if results.notices else " Try fewer or more general words, or check the spelling."
        click.echo(f"No results for {results.query!r}.{advice}", err=True)
        return
    _print_hits(results, flat)
    if facets:
        for facet, counts in results.facets.items():
            click.echo(f"\n{facet}: " + ", ".join(f"{name} ({count})" for name, count in counts.items()))


def _print_hits(results: Any, flat: bool = False) -> None:
    from .hit_groups import folded

    code_width = max(len(hit.code) for hit in results.hits)
    system_width = max(len(hit.code_system) for hit in results.hits)
    indent = " " * (6 + code_width + system_width)
    for hit, variants in [(hit, "") for hit in results.hits] if flat else folded(results):
        head = f"{hit.rank:>2}. {click.style(hit.code.ljust(code_width), bold=True)}  {hit.code_system.ljust(system_width)}  {hit.title}"
        click.echo(head)
        if hit.snippet:
            click.echo(f"{indent}{click.style(hit.snippet.label + ':', dim=True)} {_highlight(hit.snippet)}")
        if variants:
            click.echo(f"{indent}{click.style('Family', dim=True)} {variants}")
    shown = len(results.hits)
    if results.total > shown:
        total = f"{results.total:,}+" if results.total_capped else f"{results.total:,}"
        first, last = results.offset + 1, results.offset + shown
        window = f"{shown}" if results.offset == 0 else f"{first}-{last}"
        more = "use --limit to see more" if results.offset == 0 else f"--offset {last} for the next ones"
        if last >= results.total:
            more = "the last ones"
        click.echo(click.style(f"({window} of {total} results; {more})", dim=True), err=True)


def _highlight(snippet: Any) -> str:
    out, position = [], 0
    for start, end in snippet.highlights:
        out.append(snippet.text[position:start])
        out.append(click.style(snippet.text[start:end], fg="yellow", bold=True))
        position = end
    out.append(snippet.text[position:])
    return "".join(out)


# --- show, stats -----------------------------------------------------------------------------------


@cli.command(
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
@click.option("--json", "as_json", is_flag=True, help="Print the whole record as JSON.")
@pass_context
def show_command(ctx: Context, code: str, section: str | None, as_json: bool) -> None:
    """Print one procedure document: every section, its common names and similar codes."""
    from .ingest.sections import SECTION_NAMES, SECTIONS, section_label
    from .search.query import section_field

    engine = _engine(ctx)
    with library_errors():
        doc = engine.get(code)
        wanted = section_field(section) if section else None
    if as_json:
        data = doc.to_dict()
        if wanted:
            data["sections"] = {wanted: doc.section_text(wanted)} if wanted in SECTION_NAMES else {}
        _echo_json(data)
        return
    if wanted:
        text = _field_text(doc, wanted)
        if not text:
            label = section_label(wanted) if wanted in SECTION_NAMES else _FIELD_LABELS[wanted]
            raise CliError(f"{doc.code} has no {label} section.")
        click.echo(text)
        return
    click.echo(click.style(f"{doc.code}  {doc.code_system}  {doc.title}", bold=True))
    if doc.common_names:
        click.echo(f"Common names: {'; '.join(doc.common_names)}")
    for item in SECTIONS:
        if item.name in doc.sections:
            click.echo(f"\n{click.style(item.label, bold=True)}\n{doc.sections[item.name]}")
    for heading, text in doc.other.items():
        click.echo(f"\n{click.style(heading, bold=True)}\n{text}")
    if doc.similar_codes:
        click.echo(f"\n{click.style('Similar Codes', bold=True)}\n{_field_text(doc, 'similar')}")
    click.echo(click.style(f"\nsource: {doc.source}", dim=True))


_FIELD_LABELS = {"title": "title", "names": "common names", "similar": "Similar Codes", "other": "other"}
"""What ``show --section`` calls the parts of a record that are not canonical sections."""


def _field_text(doc: Any, name: str) -> str:
    """The text of one searchable field of a record (a section, or title, names, similar, other)."""
    if name == "title":
        return str(doc.title)
    if name == "names":
        return "\n".join(doc.common_names)
    if name == "similar":
        return "\n".join(f"- {similar.code} {similar.label}".rstrip() for similar in doc.similar_codes)
    return str(doc.section_text(name))


@cli.command(
    "parse",
    epilog="""\b
Examples:
  procsearch parse pages/cpt-61885.html
  procsearch parse pages/cpt-61885.html --json
""",
)
@click.argument("page", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the account as JSON.")
def parse_command(page: Path, as_json: bool) -> None:
    """Show how one page is read: its id, code, title and names, each section with the heading
    it came from and how that heading was recognised, and every dropped block with its reason.

    Nothing is indexed. Site boilerplate is found across a whole folder, so a single page shows
    every block that would be counted towards it."""
    from .ingest.coverage import field_text
    from .ingest.errors import PageSkipped
    from .ingest.parse import parse_page_report

    with library_errors():
        try:
            report = parse_page_report(page.read_bytes(), source=page.name)
        except PageSkipped as skip:
            raise CliError(f"{printable(str(page))}: skipped: {skip.reason}" + (f" ({skip.detail})" if skip.detail else "")) from skip
    if as_json:
        _echo_json(report.to_dict())
        return
    doc = report.doc
    coverage = report.coverage
    click.echo(click.style(f"{doc.code}  {doc.code_system or '(no code)'}  {doc.title}", bold=True))
    if doc.common_names:
        click.echo(f"Common names: {'; '.join(doc.common_names)}")
    click.echo(
        f"Coverage: {coverage.share:.0%} of {coverage.words:,} visible words reached the record"
        + ("  (suspiciously low: check the dropped blocks)" if coverage.suspicious else "")
    )
    click.echo(click.style("\nSections", bold=True))
    for origin in report.origins:
        heading = f'"{origin.heading}"' if origin.heading else "(no heading)"
        words = len(field_text(doc, origin).split())
        click.echo(f"  {origin.field:<14} {heading}  [{origin.how or 'page title'}]  {words} words")
    if report.dropped:
        click.echo(click.style("\nDropped", bold=True))
        for block in report.dropped:
            click.echo(f"  {block.reason:<24} {block.words:>5} words  {block.text}")


@cli.command(
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
@click.argument("corpus_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@write_options
@pass_context
def reindex_command(
    ctx: Context,
    corpus_dir: Path | None,
    strict: bool,
    max_bytes: int | None,
    lock_timeout: float,
    max_delete: int | None,
    allow_empty: bool,
    as_json: bool,
) -> None:
    """Update the index from a folder of pages by content hash: add new pages, re-index changed
    ones, delete removed ones, all in one atomic step. Safe to run on a schedule."""
    from .corpus import bundled_corpus
    from .index.update import reindex
    from .ingest.pages import DEFAULT_MAX_BYTES

    folder = corpus_dir or bundled_corpus()
    update, finish = _progress_bar()
    with write_errors():
        try:
            report = reindex(
                folder,
                ctx.index_path,
                max_bytes=max_bytes or DEFAULT_MAX_BYTES,
                lock_timeout=lock_timeout,
                progress=update,
                strict=strict,
                max_delete=max_delete,
                allow_empty=allow_empty,
            )
        finally:
            finish()
    if as_json:
        _echo_json(report.to_dict())
    else:
        _report_skips(report.skipped)
        _report_low_coverage(report.low_coverage)
        what = "rebuilt" if report.rebuilt else "reindexed"
        click.echo(
            f"{what} {printable(ctx.index_path)}: {report.added} added, {report.updated} updated, "
            f"{report.deleted} deleted, {report.unchanged} unchanged, {len(report.skipped)} skipped; "
            f"{report.documents} documents; {report.seconds:.2f} s"
        )
    if report.skipped:
        sys.exit(EXIT_SKIPPED)


@cli.command(
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
@click.argument("corpus_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_context
def verify_command(ctx: Context, corpus_dir: Path | None, as_json: bool) -> None:
    """Check every index file against its checksum, read every stored document and posting,
    report damage, and (with CORPUS_DIR) report pages missing from, extra in, or stale in the
    index. Ends with a one-line verdict."""
    from .index.verify import verify_index

    if corpus_dir is None and not ctx.index_named:
        from .corpus import bundled_corpus

        _engine(ctx)  # builds the default index on first use
        corpus_dir = bundled_corpus()
    update, finish = _progress_bar()
    with library_errors():
        try:
            report = verify_index(ctx.index_path, corpus_dir, progress=update)
        finally:
            finish()
    if as_json:
        _echo_json(report.to_dict())
    else:
        click.echo(f"{ctx.index_path} ({report.generation}): {report.documents} documents, {report.terms} terms read")
        for problem in report.damage:
            click.echo(f"damaged: {problem}", err=True)
        for label, items in (("missing", report.missing), ("extra", report.extra), ("stale", report.stale)):
            for item in items:
                click.echo(f"{label}: {printable(item)}")
        if report.fix:
            click.echo(f"Fix: {report.fix}", err=True)
        click.echo(_verdict(report))
    if report.damaged:
        sys.exit(EXIT_INDEX)
    if report.drifted:
        sys.exit(EXIT_ERROR)


def _verdict(report: Any) -> str:
    """The one line that sums up a verify report."""
    if report.damaged:
        return f"Damaged: {len(report.damage)} problem(s) found; the index needs the fix above."
    if report.drifted:
        return (
            f"Drifted from the folder: {len(report.missing)} missing, {len(report.extra)} extra, "
            f"{len(report.stale)} stale."
        )
    sound = "Sound: every file matches its checksum, every document and posting reads"
    return f"{sound}, and the index matches the folder." if report.checked_corpus else f"{sound}."


@cli.command(
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
@click.option("--to", "target", metavar="GENERATION", help="Serve this generation (as listed by 'generations'; 'latest': the newest).")
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds to wait for another writer to finish.",
)
@pass_context
def rollback_command(ctx: Context, target: str | None, lock_timeout: float) -> None:
    """Serve the previous index generation again (after a damaged or unwanted update). The
    generation it replaces is kept: 'rollback --to' serves it again."""
    from .index.verify import rollback_index

    update, finish = _progress_bar()
    with write_errors():
        try:
            name = rollback_index(ctx.index_path, to=target, lock_timeout=lock_timeout, progress=update)
        finally:
            finish()
    click.echo(f"{printable(ctx.index_path)} now serves {name}.")


@cli.command(
    "generations",
    epilog="""\b
Examples:
  procsearch --index /srv/ix generations
  procsearch --index /srv/ix generations --json
""",
)
@click.option("--json", "as_json", is_flag=True, help="Print the generations as JSON.")
@pass_context
def generations_command(ctx: Context, as_json: bool) -> None:
    """List the index's generations, newest first: the one served, the previous one (what
    'rollback' serves) and any a rollback moved away from ('rollback --to' serves them)."""
    from .index.verify import list_generations

    with library_errors():
        found = list_generations(ctx.index_path)
    if as_json:
        _echo_json({"index": str(ctx.index_path), "generations": [g.to_dict() for g in found]})
        return
    if not found:
        raise CliError(f"No index at {printable(ctx.index_path)}.", EXIT_INDEX)
    for generation in found:
        click.echo(
            f"{generation.name}  {generation.state:<11}  {generation.built_at}  {generation.documents} documents"
        )


@cli.command(
    "similar",
    epilog="""\b
Examples:
  procsearch similar 63685
  procsearch similar 27447 --limit 5 --json
""",
)
@click.argument("code")
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="How many content-based neighbours.",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_context
def similar_command(ctx: Context, code: str, limit: int, as_json: bool) -> None:
    """Codes similar to CODE: the page's own Similar Codes list, then pages that read alike."""
    engine = _engine(ctx)
    with library_errors():
        result = engine.similar(code, limit=limit)
    if as_json:
        _echo_json(result.to_dict())
        return
    click.echo(click.style(f"{result.code}  {result.title}", bold=True))
    if result.listed:
        click.echo("\nListed on the page:")
        for entry in result.listed:
            mark = "" if entry.in_index else click.style("  (not in the index)", dim=True)
            click.echo(f"  {entry.code}  {entry.label or entry.title}{mark}")
    if result.neighbours:
        click.echo("\nSimilar content:")
        width = max(len(hit.code) for hit in result.neighbours)
        for hit in result.neighbours:
            click.echo(f"  {hit.code.ljust(width)}  {hit.code_system}  {hit.title}")


@cli.command(
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
def eval_command(ctx: Context, queries: Path, as_json: bool, **options: Any) -> None:
    """Score the ranking on QUERIES (TSV: query, acceptable codes, kind): success@1, success@3,
    MRR@10 and nDCG@10, overall and per kind, and list the misses."""
    kwargs = _search_kwargs(ctx, **options)
    engine = _engine(ctx)
    with library_errors():
        report = engine.evaluate(queries, **kwargs)
    if as_json:
        _echo_json(report.to_dict())
        return
    header = f"{'kind':<14}{'queries':>8}{'s@1':>8}{'s@3':>8}{'MRR@10':>8}{'nDCG@10':>9}"
    click.echo(header)
    rows = [("overall", report.overall), *report.by_kind.items()]
    for name, m in rows:
        click.echo(
            f"{name:<14}{m.count:>8}{m.success_at_1:>8.3f}{m.success_at_3:>8.3f}{m.mrr_at_10:>8.3f}{m.ndcg_at_10:>9.3f}"
        )
    if report.misses:
        click.echo(f"\nMisses (no acceptable code in the top 3): {len(report.misses)}")
        for miss in report.misses:
            got = ", ".join(miss.returned[:3]) or miss.error or "nothing"
            click.echo(f"  {miss.query.query!r} [{miss.query.kind}] wants {','.join(miss.query.acceptable)}; got {got}")


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@pass_context
def stats_command(ctx: Context, as_json: bool) -> None:
    """Show what the index holds: documents per code system and group, version, size."""
    engine = _engine(ctx)
    with library_errors():
        stats = engine.stats()
    if as_json:
        _echo_json(stats.to_dict())
        return
    click.echo(f"Index:      {stats.index_path} ({stats.generation})")
    click.echo(f"Documents:  {stats.document_count}")
    click.echo(
        f"Built:      {stats.built_at} by procsearch {stats.package_version} (schema {stats.schema_version}, whoosh {stats.whoosh_version})"
    )
    click.echo(f"Size:       {stats.size_bytes / 1e6:.1f} MB")
    for source, release in stats.releases.items():
        click.echo(f"Code set:   {release} ({stats.sources.get(source, 0):,} documents)")
    click.echo("Systems:    " + ", ".join(f"{name} {count}" for name, count in stats.by_system.items()))
    click.echo("Groups:     " + ", ".join(f"{name} {count}" for name, count in stats.by_group.items()))


# --- serve -----------------------------------------------------------------------------------------


@cli.command(
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
@click.option(
    "--vocabulary",
    "vocabulary_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Extra vocabulary file (term<TAB>expansions<TAB>kind); repeatable.",
)
@pass_context
def serve_command(ctx: Context, host: str, port: int, workers: int, vocabulary_files: tuple[Path, ...]) -> None:
    """Serve the JSON API and the search page over HTTP (read-only) until stopped."""
    try:
        from .server.app import create_app  # noqa: F401  (checks Starlette and Jinja2 are installed)
        from .server.errors import ServerError
        from .server.run import run_server
    except ImportError as exc:
        raise CliError(
            f"'serve' needs the serve extra ({exc.name} is not installed). Install it with: pip install 'procsearch[serve]'"
        ) from exc
    from .search.vocabulary import load_vocabulary

    if not ctx.index_named:
        _engine(ctx)  # builds the default index on first use
    with library_errors():
        load_vocabulary(vocabulary_files)  # a bad file fails here, not in every worker
    click.echo(f"Serving {ctx.index_path} on http://{host}:{port}/ with {workers} worker(s); Ctrl+C stops.", err=True)
    try:
        run_server(ctx.index_path, host=host, port=port, workers=workers, vocabulary_files=vocabulary_files)
    except ServerError as exc:
        raise CliError(str(exc)) from exc


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
