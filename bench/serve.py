"""procsearch serve under load: a real server on loopback, driven by concurrent HTTP clients.

Starts `procsearch --index IX serve --workers W` (the console script, so what is measured is what
users run) on 127.0.0.1 and, for each worker count and client count, drives it with a fixed,
realistic mix of requests, first for a fixed count and then for a fixed time:

  per query of bench/queries/*.tsv (the same mix as bench/scale.py), what a person typing it
  sends: /api/suggest for three prefixes of it, /api/search for it, and the JSON record of a
  code (/api/codes/CODE) and its web page (/code/CODE)

and reports, per kind of request: requests per second, p50 / p95 / p99 latency (nearest rank),
errors (any status but 200 or a failed connection: must be 0), and each worker's resident memory
before and after (growth over the run). A sequential pass first gives the single-request latency,
from which the throughput the worker count allows is derived (workers / mean latency).

The clients are threads in this process (http.client, one keep-alive connection each), so on a
2-core machine they compete with the server for CPU: the figures are a floor.

    python bench/serve.py --index ~/pcs-index                       # 1 and 2 workers, 8 and 32 clients
    python bench/serve.py --index ~/pcs-index --workers 2 --clients 8 --seconds 10 --count 1000

With no --index, it builds the full index (pages + ICD-10-PCS) in a temporary folder first.
Every request goes to 127.0.0.1 only; every loop is bounded by --count or --seconds.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from harness import environment, environment_lines, percentile
from harness.queries import query_mix, read_query_files

HERE = Path(__file__).parent

PROCSEARCH = Path(sys.executable).parent / "procsearch"
DEFAULT_OUT = HERE / "results"
HOST = "127.0.0.1"
FALLBACK_CODE = "63685"
START_TRIES = 1200
"""Polls 0.1 s apart for the server to answer (it loads the completion table first)."""


@dataclass(frozen=True)
class Request:
    kind: str
    path: str


def request_mix(queries: int) -> list[Request]:
    """What people typing the mix's queries send, in order: prefixes, the search, a code."""
    requests: list[Request] = []
    for query in query_mix(queries, read_query_files()):
        text = query.text
        for share in (0.4, 0.7, 1.0):
            prefix = text[: max(2, round(len(text) * share))]
            requests.append(Request("suggest", f"/api/suggest?limit=8&q={quote(prefix)}"))
        requests.append(Request("search", f"/api/search?limit=10&q={quote(text)}"))
        code = next((a for a in query.acceptable if not a.endswith("*")), FALLBACK_CODE)
        requests.append(Request("code", f"/api/codes/{quote(code)}"))
        requests.append(Request("page", f"/code/{quote(code)}"))
    return requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    found: list[int] = []
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return found
    for child in map(int, children):
        found.append(child)
        found.extend(descendants(child))
    return found


class Server:
    """`procsearch serve` in a child process, stopped with SIGINT (as Ctrl+C would)."""

    def __init__(self, index: Path, workers: int) -> None:
        self.port = free_port()
        self.workers = workers
        argv = [str(PROCSEARCH), "--index", str(index), "serve", "--port", str(self.port), "--workers", str(workers)]
        self.log = tempfile.TemporaryFile()  # noqa: SIM115  (closed in stop())
        started = time.perf_counter()
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(START_TRIES):
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"the server exited: {self.log.read().decode(errors='replace')[-2000:]}")
            try:
                if fetch(connect(self.port), "/healthz")[0] == 200 and len(self.worker_pids()) >= workers:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("the server did not answer")
        self.start_seconds = time.perf_counter() - started

    def worker_pids(self) -> list[int]:
        """The processes serving requests: uvicorn's spawned workers, or the server itself."""
        if self.workers == 1:
            return [self.process.pid]
        return [pid for pid in descendants(self.process.pid) if "multiprocessing.spawn" in _cmdline(pid)]

    def memory(self) -> list[float]:
        return [round(rss_mb(pid), 1) for pid in self.worker_pids()]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def connect(port: int) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(HOST, port, timeout=60)


def fetch(connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


@dataclass
class Outcome:
    kind: str
    seconds: float
    ok: bool


def drive(
    port: int, requests: Sequence[Request], clients: int, *, count: int | None, seconds: float | None
) -> tuple[list[Outcome], float]:
    """Send the mix from ``clients`` threads until ``count`` requests were sent or ``seconds`` passed."""
    lock = threading.Lock()
    position = [0]
    deadline = time.perf_counter() + seconds if seconds is not None else None
    outcomes: list[Outcome] = []

    def next_request() -> Request | None:
        with lock:
            if count is not None and position[0] >= count:
                return None
            if deadline is not None and time.perf_counter() >= deadline:
                return None
            request = requests[position[0] % len(requests)]
            position[0] += 1
            return request

    def client() -> None:
        connection = connect(port)
        mine: list[Outcome] = []
        while (request := next_request()) is not None:
            started = time.perf_counter()
            try:
                status, _ = fetch(connection, request.path)
                ok = status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = connect(port)
            mine.append(Outcome(request.kind, time.perf_counter() - started, ok))
        connection.close()
        with lock:
            outcomes.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, time.perf_counter() - started


def summarise(outcomes: Sequence[Outcome], elapsed: float) -> dict[str, dict[str, float]]:
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
        by_kind["all"].append(outcome)
    summary = {}
    for kind, items in sorted(by_kind.items()):
        latencies = sorted(o.seconds * 1000 for o in items)
        summary[kind] = {
            "requests": len(items),
            "per_second": round(len(items) / elapsed, 1),
            "mean_ms": round(sum(latencies) / len(latencies), 2),
            "p50_ms": round(percentile(latencies, 0.50), 2),
            "p95_ms": round(percentile(latencies, 0.95), 2),
            "p99_ms": round(percentile(latencies, 0.99), 2),
            "errors": sum(not o.ok for o in items),
        }
    return summary


def ensure_index(index: Path | None) -> Path:
    if index is not None:
        return index
    target = Path(tempfile.mkdtemp(prefix="procsearch-serve-bench-")) / "index"
    print(f"building the full index at {target} ...", file=sys.stderr)
    subprocess.run(
        [str(PROCSEARCH), "--index", str(target), "index", "--source", "pages", "--source", "icd10pcs"], check=True
    )
    return target


def run(args: argparse.Namespace) -> dict[str, object]:
    index = ensure_index(args.index)
    requests = request_mix(args.queries)
    runs = []
    for workers in args.workers:
        server = Server(index, workers)
        print(f"{workers} worker(s) answering after {server.start_seconds:.1f} s", file=sys.stderr)
        try:
            drive(server.port, requests, args.clients[0], count=len(requests), seconds=None)  # warm-up, untimed
            single, single_elapsed = drive(server.port, requests, 1, count=min(len(requests), args.count), seconds=None)
            single_summary = summarise(single, single_elapsed)
            allowed = workers * 1000 / single_summary["all"]["mean_ms"]
            for clients in args.clients:
                for mode, count, seconds in (("count", args.count, None), ("time", None, args.seconds)):
                    before = server.memory()
                    outcomes, elapsed = drive(server.port, requests, clients, count=count, seconds=seconds)
                    after = server.memory()
                    summary = summarise(outcomes, elapsed)
                    runs.append(
                        {
                            "workers": workers,
                            "clients": clients,
                            "mode": f"{count} requests" if mode == "count" else f"{seconds:g} s",
                            "seconds": round(elapsed, 2),
                            "single_request_ms": single_summary["all"]["mean_ms"],
                            "allowed_per_second": round(allowed, 1),
                            "share_of_allowed": round(summary["all"]["per_second"] / allowed, 2),
                            "memory_before_mb": before,
                            "memory_after_mb": after,
                            "by_kind": summary,
                            "start_seconds": round(server.start_seconds, 1),
                        }
                    )
                    print(
                        f"  {clients} clients, {runs[-1]['mode']}: {summary['all']['per_second']} req/s, "
                        f"search p95 {summary.get('search', {}).get('p95_ms')} ms, "
                        f"suggest p95 {summary.get('suggest', {}).get('p95_ms')} ms, errors {summary['all']['errors']}",
                        file=sys.stderr,
                    )
        finally:
            server.stop()
    return {
        "environment": environment(sys.argv),
        "index": str(index),
        "mix": f"{len(requests)} requests from {args.queries} queries",
        "runs": runs,
    }


def markdown(result: dict[str, object]) -> Iterator[str]:
    yield "| workers | clients | run | req/s | of allowed | search p50 / p95 / p99 ms | suggest p50 / p95 / p99 ms | code p95 ms | page p95 ms | errors | memory per worker MB (before -> after) |"
    yield "|---|---|---|---|---|---|---|---|---|---|---|"
    for run_ in result["runs"]:  # type: ignore[attr-defined]
        kinds = run_["by_kind"]

        def three(kind: str, kinds: dict[str, dict[str, float]] = kinds) -> str:
            k = kinds.get(kind, {})
            return f"{k.get('p50_ms')} / {k.get('p95_ms')} / {k.get('p99_ms')}"

        pairs = zip(run_["memory_before_mb"], run_["memory_after_mb"], strict=False)
        memory = ", ".join(f"{a:.0f} -> {b:.0f}" for a, b in pairs)
        yield (
            f"| {run_['workers']} | {run_['clients']} | {run_['mode']} | {kinds['all']['per_second']} | "
            f"{run_['share_of_allowed']:.0%} | {three('search')} | {three('suggest')} | {kinds['code']['p95_ms']} | "
            f"{kinds['page']['p95_ms']} | {kinds['all']['errors']} | {memory} |"
        )
    yield ""
    yield from environment_lines(result["environment"])  # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="Index to serve (default: build the full index first).")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="Worker counts to run (default 1 2).")
    parser.add_argument("--clients", type=int, nargs="+", default=[8, 32], help="Concurrent clients (default 8 32).")
    parser.add_argument("--count", type=int, default=2000, help="Requests of the fixed-count run (default 2000).")
    parser.add_argument("--seconds", type=float, default=20.0, help="Length of the fixed-time run (default 20).")
    parser.add_argument("--queries", type=int, default=300, help="Queries the mix is made of (default 300).")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Folder for serve.json and serve.md.")
    args = parser.parse_args(argv)
    result = run(args)
    table = "\n".join(markdown(result))
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serve.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    (args.out / "serve.md").write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
