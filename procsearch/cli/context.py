"""What every command shares: the context (which index, and its engine), the progress bar on
stderr, and printing JSON and file names safely."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..output import json_object, json_text
from .errors import library_errors


@dataclass
class Context:
    """Shared state for every command: which index, and whether it was named by the user."""

    index_path: Path
    index_named: bool
    engine: Any = None


pass_context = click.make_pass_decorator(Context)


def open_engine(ctx: Context, vocabulary_files: Sequence[Path] = ()) -> Any:
    """The search engine (with the user's extra vocabulary files); with no index named, the
    default index over the bundled corpus, built on first use."""
    if ctx.engine is not None:
        return ctx.engine
    from ..search.engine import SearchEngine
    from ..search.vocabulary import load_vocabulary

    with library_errors():
        if not ctx.index_named:
            ensure_default_index(ctx)
        ctx.engine = SearchEngine(ctx.index_path, vocabulary=load_vocabulary(vocabulary_files))
    return ctx.engine


def ensure_default_index(ctx: Context) -> None:
    """Build the default index over the bundled corpus if it is missing or outdated, saying why on stderr."""
    from ..index.store import index_is_current

    if index_is_current(ctx.index_path):
        return  # the usual case: the builder (and the HTML parser it imports) is not loaded at all
    from ..corpus import bundled_corpus
    from ..index.build import MISSING, ensure_index

    def building(reason: str) -> None:
        if reason == MISSING:
            click.echo(f"No index yet: building one from the bundled sample corpus at {ctx.index_path} ...", err=True)

    update, finish = progress_bar()
    with library_errors():
        try:
            report = ensure_index(ctx.index_path, bundled_corpus(), progress=update, building=building)
        finally:
            finish()
    if report is not None:
        click.echo(f"Indexed {report.indexed} pages in {report.seconds:.1f} s.", err=True)


def progress_bar() -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
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


def echo_json(data: dict[str, Any]) -> None:
    click.echo(json_text(json_object(data)))


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: object) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``): a file name printed in a
    log can never forge a line of it."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], str(text))
