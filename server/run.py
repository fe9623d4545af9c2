"""Running the application on uvicorn: what ``procsearch serve`` calls."""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

from .errors import ServerError

APP = "procsearch.server.app:create_app"
"""The factory each worker process imports (workers read the index path from the environment)."""


def run_server(
    index_path: Path, *, host: str, port: int, workers: int = 1, vocabulary_files: Sequence[Path] = ()
) -> None:
    """Serve ``index_path`` on ``host``:``port`` with ``workers`` processes until interrupted;
    raises ServerError if the address cannot be listened on.

    Worker processes are started afresh, so the index and the extra vocabulary files travel in
    $PROCSEARCH_INDEX and $PROCSEARCH_VOCABULARY (set here, for this process and its workers).
    """
    sock = listening_socket(host, port)
    os.environ["PROCSEARCH_INDEX"] = str(Path(index_path).resolve())
    extra = [os.environ.get("PROCSEARCH_VOCABULARY", ""), *(str(Path(p).resolve()) for p in vocabulary_files)]
    os.environ["PROCSEARCH_VOCABULARY"] = os.pathsep.join(part for part in extra if part)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, workers=workers)
    if workers == 1:
        uvicorn.Server(config).run(sockets=[sock])
    else:
        Multiprocess(config, sockets=[sock]).run()


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket the server (and every worker) accepts on, bound here so that a taken port is
    one clear error, and created as IPPROTO_TCP: asyncio turns Nagle's algorithm off only on
    connections from such a socket, and uvicorn's own bind leaves the protocol 0, so with
    ``--workers`` every keep-alive answer after the first would wait ~40 ms for the client's
    delayed ACK (uvicorn issue 3149, open in uvicorn 0.54)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServerError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Choose another port or host, "
            "or stop the server already using it."
        ) from exc
    sock.set_inheritable(True)
    return sock
