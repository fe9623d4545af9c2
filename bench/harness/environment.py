"""What a benchmark run reports about itself: the command, versions, CPU, cores, load and date."""

from __future__ import annotations

import os
import platform
import shlex
import sqlite3
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

PACKAGES = ("procsearch", "whoosh3", "tantivy")


def environment(argv: Sequence[str]) -> dict[str, Any]:
    """Command line (``argv``: the script and its arguments), versions, CPU model, core count, date
    and load average."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "not installed"
    versions["sqlite"] = sqlite3.sqlite_version
    return {
        "command": shlex.join([sys.executable, *argv]),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_average_at_start": load_average(),
        "versions": versions,
    }


def environment_lines(env: dict[str, Any]) -> list[str]:
    """The environment as the Markdown list items every benchmark ends its report with."""
    load = f"load average (1 min) {env['load_average_at_start']}"
    if "load_average_at_end" in env:
        load += f" at start, {env['load_average_at_end']} at end"
    return [
        f"- command: `{env['command']}`",
        f"- Python {env['python']}; CPU {env['cpu']}, {env['cores']} cores; {env['platform']}; {env['date']}; {load}",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in env["versions"].items()),
    ]


def environment_block(argv: Sequence[str] | None = None) -> str:
    """This run's environment lines, ready to print at the end of a report (``argv``: the script
    and its arguments, default ``sys.argv``)."""
    return "\n".join(environment_lines(environment(sys.argv if argv is None else argv)))


def cpu_model() -> str:
    """The CPU's model name (Linux), else "unknown"."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def load_average() -> float | None:
    """The 1-minute load average: other work on the machine makes every timing slower."""
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None


def note(message: str) -> None:
    """Progress goes to stderr; only the report goes to stdout."""
    print(message, file=sys.stderr, flush=True)
