"""Every example in every --help, and the README's transcripts of search and show, run as written."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from procsearch.corpus import bundled_corpus
from procsearch.index.build import build_index

from procsearch.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
QUERIES = Path(__file__).resolve().parent.parent / "bench" / "queries"


def help_examples() -> list[str]:
    """The example command lines of the top-level help and of every command's help."""
    runner = CliRunner()
    texts = [runner.invoke(cli, ["--help"]).output]
    texts += [runner.invoke(cli, [name, "--help"]).output for name in cli.commands]
    examples: list[str] = []
    for text in texts:
        block = text.partition("Examples:")[2]
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command.startswith("procsearch ") and command not in examples:
                examples.append(command)
    return examples


def readme_transcripts() -> list[tuple[str, list[str]]]:
    """The README's ``$ procsearch search`` and ``$ procsearch show`` commands and their output."""
    transcripts: list[tuple[str, list[str]]] = []
    command: str | None = None
    output: list[str] = []
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("$ ") or line.startswith("```"):
            if command is not None:
                transcripts.append((command, [o for o in output if o]))
            command = line[2:] if re.match(r"\$ procsearch (search|show) ", line) else None
            output = []
        elif command is not None:
            output.append(line)
    return transcripts


def _args(command: str, root: Path) -> list[str]:
    command = command.split(" > ")[0].split(" | ")[0]
    return [word.replace("/srv/", f"{root}/srv/") for word in shlex.split(command)[1:]]


@pytest.fixture()
def workdir(tmp_path: Path, corpus_index: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding what the examples name: pages folders, a query file, the query sets, a
    default index (a copy of the session's, over the bundled corpus) and /srv/ix (of /srv/pages)."""
    pages = sorted(bundled_corpus().glob("cpt-6*.html"))[:6]
    for folder in ("pages", "my-pages", "srv/pages"):
        (tmp_path / folder).mkdir(parents=True)
        for page in pages:
            shutil.copy(page, tmp_path / folder / page.name)
    (tmp_path / "queries.txt").write_text("knee replacement\n63685\n", encoding="utf-8")
    shutil.copytree(QUERIES, tmp_path / "bench" / "queries")
    shutil.copytree(corpus_index, tmp_path / "default-index")
    build_index(tmp_path / "srv" / "pages", tmp_path / "srv" / "ix")
    (tmp_path / "srv" / "pages" / pages[0].name).unlink()  # a second generation, for rollback
    build_index(tmp_path / "srv" / "pages", tmp_path / "srv" / "ix")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROCSEARCH_INDEX", str(tmp_path / "default-index"))
    return tmp_path


SERVER_START_TIMEOUT = 120.0


@pytest.mark.slow
@pytest.mark.parametrize("example", help_examples())
def test_every_help_example_runs_as_written(workdir: Path, example: str) -> None:
    args = _args(example, workdir)
    if "serve" in args:
        run_server_example(args, workdir)
        return
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, f"{example}\n{result.output}"
    assert "unexpected" not in result.output


def run_server_example(args: list[str], workdir: Path) -> None:
    """A server runs until stopped: the example runs as written when the server it starts answers
    /healthz; then it is stopped. (Skipped without the serve extra.)"""
    pytest.importorskip("uvicorn", reason="procsearch serve needs the serve extra: pip install '.[serve]'")
    port = int(args[args.index("--port") + 1]) if "--port" in args else 8000
    log = workdir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "procsearch", *args], cwd=workdir, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            assert process.poll() is None, log.read_text(errors="replace")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    assert response.status == 200
                    return
            except OSError:
                assert time.monotonic() < deadline, "the server never answered /healthz"
                time.sleep(0.2)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize(("command", "output"), readme_transcripts(), ids=[c for c, _ in readme_transcripts()])
def test_readme_transcripts_of_search_and_show_print_what_they_show(
    corpus_index: Path, command: str, output: list[str]
) -> None:
    result = CliRunner().invoke(cli, ["--index", str(corpus_index), *_args(command, corpus_index)])
    assert result.exit_code == 0, result.output
    printed = result.stdout.splitlines() + result.stderr.splitlines()
    for line in output:
        if line.startswith(("No index yet", "Indexed ")):
            continue  # the first run builds the default index, which the test index already is
        assert line in printed, f"{command}: {line!r} not in\n{result.output}"
