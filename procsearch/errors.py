"""The root of every error procsearch raises, and the remedy an error can carry.

Each layer's ``errors.py`` (``ingest``, ``index``, ``search``, ``server``) subclasses
:class:`ProcsearchError`. The library says what is wrong and, as data, what fixes it (a
:class:`Remedy`: rebuild, roll back, reindex, retry later, ...); it never writes a command line.
The CLI renders a remedy as the command to run, and maps error classes to exit codes in one table
(``procsearch/cli/errors.py``); the server names the same command in its answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

BUILD = "build"
"""There is no index yet: build one from a folder of pages."""
REBUILD = "rebuild"
"""Build the index anew (``sources`` and ``corpus_dir``: what to build it from, when it matters)."""
ROLLBACK = "rollback"
"""Serve an earlier generation (``generation``: which one; None: the previous one that reads cleanly)."""
REINDEX = "reindex"
"""Update the index from its folder (``corpus_dir``)."""
RETRY = "retry"
"""Try again later, or wait longer: another process holds the index's writer lock."""
LIST_GENERATIONS = "generations"
"""List the index's generations, to choose one."""
SEARCH = "search"
"""Search for what was asked for by name (``query``)."""

ACTIONS = (BUILD, REBUILD, ROLLBACK, REINDEX, RETRY, LIST_GENERATIONS, SEARCH)


@dataclass(frozen=True)
class Remedy:
    """What fixes an error, as data: an action and what it applies to."""

    action: str
    index_path: Path | None = None
    corpus_dir: Path | None = None
    sources: tuple[str, ...] = ()
    generation: str | None = None
    query: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown remedy action {self.action!r}; choose from {', '.join(ACTIONS)}")

    def describe(self) -> str:
        """The remedy in plain words, for readers of the library's messages (no command syntax)."""
        if self.action == BUILD:
            return "build it from a folder of pages"
        if self.action == REBUILD:
            sources = f" with its {' and '.join(self.sources)} documents" if self.sources else ""
            folder = f" from {self.corpus_dir}" if self.corpus_dir else ""
            return f"rebuild the index{sources}{folder}"
        if self.action == ROLLBACK:
            return f"serve {self.generation} again" if self.generation else "roll back to the previous generation"
        if self.action == REINDEX:
            return f"reindex it from {self.corpus_dir}" if self.corpus_dir else "reindex it from its folder"
        if self.action == RETRY:
            return "try again later, or wait longer for the writer lock"
        if self.action == SEARCH:
            return f"search for {self.query!r}"
        return "list its generations to choose one"

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "index": None if self.index_path is None else str(self.index_path),
            "corpus_dir": None if self.corpus_dir is None else str(self.corpus_dir),
            "sources": list(self.sources),
            "generation": self.generation,
            "query": self.query,
        }


def describe_remedies(remedies: Sequence[Remedy]) -> str:
    """``remedies`` as one plain sentence ("To fix: roll back ...; or rebuild ..."), or ""."""
    if not remedies:
        return ""
    return "To fix: " + "; or ".join(remedy.describe() for remedy in remedies) + "."


class ProcsearchError(Exception):
    """Base class of every error procsearch raises on purpose (anything else is a bug).

    ``message`` says what is wrong; ``remedies`` what fixes it, first the one to try first;
    ``index_path`` the index it concerns, when there is one. ``str()`` adds the remedies in
    plain words.
    """

    def __init__(self, message: str, *, remedies: Sequence[Remedy] = (), index_path: Path | str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedies = tuple(remedies)
        if index_path is None:
            index_path = next((r.index_path for r in self.remedies if r.index_path is not None), None)
        self.index_path = None if index_path is None else Path(index_path)

    def __str__(self) -> str:
        advice = describe_remedies(self.remedies)
        return f"{self.message} {advice}" if advice else self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Errors cross process boundaries (parse workers): keep the remedies when pickled.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[ProcsearchError], args: tuple[object, ...], state: dict[str, object]) -> ProcsearchError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class UsageError(ProcsearchError, ValueError):
    """An argument the caller gave cannot be used as given (an unknown source, field or weight):
    the caller's mistake, not a bug. Also a ValueError, as such arguments raised before."""
