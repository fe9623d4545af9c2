"""Worker processes that end with the process that forked them."""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Ask the kernel to kill this (forked) process when ``parent`` dies.

    A forked worker holds copies of its parent's open files, the index's writer lock included: a
    worker that outlived a killed build would keep the lock, and the next build would find the
    index busy. Linux only; elsewhere workers end when their work does.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
