"""Progress bars on a real terminal (a pseudo-terminal of a given width): one line each, never
wider than the terminal, so redraws do not wrap and stack."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_on_terminal(args: list[str], columns: int) -> tuple[int, str]:
    """Run procsearch with stderr on a terminal ``columns`` wide; (exit code, what the terminal got)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    process = subprocess.Popen(
        [sys.executable, "-m", "procsearch", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    received = bytearray()
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    return process.wait(), received.decode("utf-8", "replace")


@pytest.mark.slow
@pytest.mark.parametrize("columns", [80, 50, 40])
def test_progress_bars_fit_the_terminal(tmp_path: Path, columns: int) -> None:
    code, screen = run_on_terminal(["--index", str(tmp_path / "ix"), "index"], columns)
    assert code == 0, screen
    drawn = [ANSI.sub("", line) for line in re.split(r"[\r\n]", screen) if line.strip()]
    assert any("[" in line and "]" in line for line in drawn), screen  # bars were drawn
    widest = max(drawn, key=len)
    assert len(widest) < columns, widest
