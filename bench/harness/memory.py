"""Memory of a benchmarked process: its peak resident set, and the summed PSS of its process tree."""

from __future__ import annotations

import threading
from pathlib import Path


def rss_mb(children: bool = False) -> float:
    """This process's peak resident set in MB (or the largest of its waited-for children's)."""
    import resource

    return resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF).ru_maxrss / 1024


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (Linux /proc), or [pid] where that cannot be read."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def pss_kb(pid: int) -> int:
    """Proportional set size of one process in kB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeMemorySampler(threading.Thread):
    """Samples the summed PSS of a process and its descendants in the background, keeping the peak."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kb = 0
        self.available = Path("/proc/self/smaps_rollup").exists()
        self._stop_event = threading.Event()

    def run(self) -> None:
        while self.available and not self._stop_event.wait(self.interval):
            self.peak_kb = max(self.peak_kb, sum(pss_kb(pid) for pid in descendants(self.pid)))

    def stop(self) -> float | None:
        """Stop sampling; the peak in MB (None where PSS cannot be read)."""
        self._stop_event.set()
        self.join()
        return self.peak_kb / 1024 if self.available and self.peak_kb else None
