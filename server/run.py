"""Running the application on uvicorn: what ``procsearch serve`` calls."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

APP = "procsearch.server.app:create_app"
"""The factory each worker process imports (workers read the index path from the environment)."""


def run_server(
    index_path: Path, *, host: str, port: int, workers: int = 1, vocabulary_files: Sequence[Path] = ()
) -> None:
    """Serve ``index_path`` on ``host``:``port`` with ``workers`` processes until interrupted.

    Worker processes are started afresh, so the index and the extra vocabulary files travel in
    $PROCSEARCH_INDEX and $PROCSEARCH_VOCABULARY (set here, for this process and its workers).
    """
    os.environ["PROCSEARCH_INDEX"] = str(Path(index_path).resolve())
    extra = [os.environ.get("PROCSEARCH_VOCABULARY", ""), *(str(Path(p).resolve()) for p in vocabulary_files)]
    os.environ["PROCSEARCH_VOCABULARY"] = os.pathsep.join(part for part in extra if part)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, workers=workers)
    if workers == 1:
        uvicorn.Server(config).run()
        return
    Multiprocess(config, sockets=[tcp_socket(config.bind_socket())]).run()


def tcp_socket(sock: socket.socket) -> socket.socket:
    """The listening socket marked as TCP, so that asyncio turns Nagle's algorithm off on the
    connections it accepts. uvicorn binds the socket its workers share with protocol 0, and
    asyncio sets TCP_NODELAY only on sockets that say IPPROTO_TCP: without this, every
    keep-alive answer after the first waits ~40 ms for the client's delayed ACK (uvicorn issue
    3149, open in uvicorn 0.54)."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
        return sock
    marked = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    marked.set_inheritable(True)
    return marked
