"""procsearch serve as a command: without the extra it says how to install it; with it, a real
uvicorn server with two workers answers, and serves a reindexed generation without a restart."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from procsearch.index.build import build_index
from procsearch.index.update import reindex

from procsearch.cli import cli

SEED = Path(__file__).parent / "fixtures" / "seed-63685.html"
STARTUP_TRIES = 600
"""Polls (0.1 s apart) for the server to answer before the test gives up (a bound, not a speed target)."""


def test_serve_without_the_extra_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # "import uvicorn" now raises ImportError
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "ix"), "serve"])
    assert result.exit_code == 1, result.output
    assert "pip install 'procsearch[serve]'" in result.output and "uvicorn" in result.output


def test_serve_rejects_a_bad_port() -> None:
    result = CliRunner().invoke(cli, ["serve", "--port", "70000"])
    assert result.exit_code == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(port: int, path: str) -> tuple[int, dict[str, object]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, Path, Path]]:
    pytest.importorskip("uvicorn", reason="needs the serve extra: pip install '.[serve]'")
    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(SEED, pages / "seed.html")
    build_index(pages, tmp_path / "ix")
    port = free_port()
    argv = [sys.executable, "-m", "procsearch.cli", "--index", str(tmp_path / "ix"), "serve", "--port", str(port)]
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [*argv, "--workers", "2"], stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    try:
        for _ in range(STARTUP_TRIES):
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            time.sleep(0.1)
        yield port, pages, tmp_path / "ix"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.slow
def test_a_real_server_serves_a_reindexed_page_without_a_restart(served: tuple[int, Path, Path]) -> None:
    port, pages, index = served
    status, body = get(port, "/api/search?q=" + quote("spinal cord stimulation"))
    assert status == 200 and [hit["code"] for hit in body["hits"]] == ["63685"]  # type: ignore[index]
    (pages / "new.html").write_text(
        "<h1>Zebracorn Knee Scope</h1><p>CPT code 29881</p><h2>Summary</h2><p>A zebracorn camera looks in.</p>"
    )
    assert reindex(pages, index).added == 1
    # Each of the two workers follows the new generation on its next request.
    answers = [get(port, "/api/search?q=zebracorn") for _ in range(8)]
    assert all(status == 200 and body["hits"][0]["code"] == "29881" for status, body in answers)  # type: ignore[index]
    for _ in range(STARTUP_TRIES):
        status, body = get(port, "/api/suggest?q=zebrac")
        if body["suggestions"]:
            break
        time.sleep(0.1)
    assert [s["code"] for s in body["suggestions"]] == ["29881"]  # type: ignore[union-attr]
    status, body = get(port, "/api/codes/00000")
    assert status == 404 and body["error"]["kind"] == "not_found"  # type: ignore[index]


def test_the_listening_socket_is_tcp_so_connections_get_no_delay() -> None:
    """asyncio sets TCP_NODELAY only on connections accepted from an IPPROTO_TCP socket."""
    pytest.importorskip("uvicorn", reason="needs the serve extra: pip install '.[serve]'")
    from procsearch.server.run import listening_socket

    sock = listening_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
        sock.listen()
        with socket.create_connection(sock.getsockname()):
            accepted, _ = sock.accept()
            with accepted:
                assert accepted.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_serve_on_a_taken_port_says_so(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn", reason="needs the serve extra: pip install '.[serve]'")
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["--index", str(tmp_path / "ix"), "serve", "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert f"Cannot listen on 127.0.0.1:{port}" in result.output and "--port" in result.output


def test_serve_checks_vocabulary_files_before_starting(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn", reason="needs the serve extra: pip install '.[serve]'")
    bad = tmp_path / "bad.tsv"
    bad.write_text("no header here\n")
    result = CliRunner().invoke(cli, ["--index", str(tmp_path / "ix"), "serve", "--vocabulary", str(bad)])
    assert result.exit_code == 1 and str(bad) in result.output and "header" in result.output
