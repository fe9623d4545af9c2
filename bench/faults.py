"""Fault injection: damage each file of an index at several offsets and see who notices.

For every file of the current generation and every offset (start, middle, end) and fault
(one flipped byte, 16 zeroed bytes), a fresh copy of the index is damaged in place (same size)
and then checked three ways:

- ``verify``: does ``verify_index`` report the damage?
- ``search``: do a few searches and a ``get`` either answer as on the pristine copy or fail with
  IndexDamagedError? A different answer is a *silent* wrong answer; any other error is a *crash*.
- ``reindex``: does a re-index refuse (IndexDamagedError) instead of carrying the damage forward?

    python bench/faults.py                    # an index of the bundled sample corpus, built here
    python bench/faults.py --index IX         # a copy of an existing index (never IX itself)
    python bench/faults.py --open-check-bytes 0   # hash only the TOC at open: what searching notices
    python bench/faults.py --index IX --only .pst --checks search,reindex   # the full index's postings
    python bench/faults.py --json
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

from harness import environment_block
from procsearch.corpus import bundled_corpus
from procsearch.index.build import build_index
from procsearch.index.errors import IndexDamagedError
from procsearch.index.manifest import MANIFEST
from procsearch.index.store import current_generation
from procsearch.index.update import reindex
from procsearch.index.verify import verify_index
from procsearch.search.engine import SearchEngine

QUERIES = ("spinal cord stimulator", '"knee replacement"', "colonscopy", "636*", "63650-63688", "risks:infection")
CODE = "63685"
FAULTS = ("flip", "zero16")
CHECKS = ("verify", "search", "reindex")


def damage(path: Path, offset: int, fault: str) -> bool:
    """Damage ``path`` in place at ``offset``; its size does not change. False if the bytes were
    already what the fault writes (zeros over zeros): no damage, no trial."""
    size = path.stat().st_size
    before = path.read_bytes()
    with open(path, "r+b") as handle:
        handle.seek(offset)
        if fault == "flip":
            byte = handle.read(1)
            handle.seek(offset)
            handle.write(bytes([byte[0] ^ 0xFF]))
        else:
            handle.write(bytes(min(16, size - offset)))
    return path.read_bytes() != before


def answers(index: Path, queries: tuple[str, ...] = QUERIES) -> object:
    """What the index answers: the codes and scores of each query, and one stored document."""
    with SearchEngine(index) as engine:
        found = [[(h.code, round(h.score, 6)) for h in engine.search(q, limit=20).hits] for q in queries]
        return found, engine.get(CODE)


def answerable(index: Path) -> tuple[str, ...]:
    """The queries the undamaged index answers (a bug it shows too, such as a phrase on several
    segments before that is fixed, would otherwise be counted against the damage)."""
    with SearchEngine(index) as engine:
        kept = []
        for query in QUERIES:
            try:
                engine.search(query, limit=20)
            except Exception:
                continue
            kept.append(query)
        return tuple(kept)


def search_outcome(index: Path, expected: object, queries: tuple[str, ...]) -> str:
    try:
        got = answers(index, queries)
    except IndexDamagedError:
        return "damage error"
    except Exception as exc:  # the point is to see what escapes
        return f"crash: {type(exc).__name__}"
    return "same answer" if got == expected else "silent wrong answer"


def reindex_outcome(index: Path, corpus: Path) -> str:
    try:
        reindex(corpus, index)
    except IndexDamagedError:
        return "refused"
    except Exception as exc:
        return f"crash: {type(exc).__name__}"
    report = verify_index(index)
    return "damage carried forward" if report.damaged else "clean"


def offsets(size: int) -> list[int]:
    return sorted({0, size // 2, max(0, size - 1)})


def run(
    pristine: Path, corpus: Path, scratch: Path, *, checks: tuple[str, ...] = CHECKS, only: str = ""
) -> list[dict[str, object]]:
    queries = answerable(pristine)
    expected = answers(pristine, queries)
    generation = current_generation(pristine).name
    names = sorted(p.name for p in (pristine / generation).iterdir() if p.is_file() and p.stat().st_size)
    trials: list[dict[str, object]] = []
    for name in names:
        if name == MANIFEST or name.endswith("WRITELOCK") or only not in name:
            continue
        size = (pristine / generation / name).stat().st_size
        for offset in offsets(size):
            for fault in FAULTS:
                index = scratch / "ix"
                shutil.rmtree(index, ignore_errors=True)
                shutil.copytree(pristine, index)
                if not damage(index / generation / name, offset, fault):
                    continue
                trial = {"file": name.split(".", 1)[-1] if name.startswith("MAIN_") else name, "offset": offset}
                trial["fault"] = fault
                if "verify" in checks:
                    trial["verify"] = "detected" if verify_index(index).damaged else "missed"
                if "search" in checks:
                    trial["search"] = search_outcome(index, expected, queries)
                if "reindex" in checks:
                    trial["reindex"] = reindex_outcome(index, corpus)
                trials.append(trial)
    return trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="an index to copy (default: build one of the sample corpus)")
    parser.add_argument(
        "--corpus", type=Path, default=None, help="its pages folder, for the re-index (default: bundled)"
    )
    parser.add_argument("--json", action="store_true", help="print every trial as JSON")
    parser.add_argument("--only", default="", help="damage only files whose name contains this (e.g. .pst)")
    parser.add_argument(
        "--checks", default=",".join(CHECKS), help="which of verify,search,reindex to run (verify reads everything)"
    )
    parser.add_argument(
        "--open-check-bytes",
        type=int,
        default=None,
        help="hash files up to this size at open (default: the library's; 0 = only tables of contents, "
        "as for the large files of the full index)",
    )
    args = parser.parse_args()
    if args.open_check_bytes is not None:
        from procsearch.index import manifest

        manifest.OPEN_CHECK_BYTES = args.open_check_bytes
    corpus = args.corpus or bundled_corpus()
    with tempfile.TemporaryDirectory(prefix="procsearch-faults-") as tmp:
        scratch = Path(tmp)
        pristine = scratch / "pristine"
        if args.index:
            shutil.copytree(args.index, pristine)
        else:
            build_index(corpus, pristine)
        trials = run(pristine, corpus, scratch, checks=tuple(args.checks.split(",")), only=args.only)
    if args.json:
        print(json.dumps(trials, indent=1))
        return
    print(f"{len(trials)} trials (files x offsets x faults)")
    for check in CHECKS:
        if not trials or check not in trials[0]:
            continue
        counts = Counter(str(t[check]) for t in trials)
        print(f"  {check}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    bad = [
        t
        for t in trials
        if t.get("verify") == "missed"
        or any(word in str(t.get("search")) for word in ("silent", "crash"))
        or t.get("reindex", "refused") != "refused"
    ]
    for t in bad:
        print(f"  FAILED: {t}")
    print(f"failures: {len(bad)}")
    print()
    print(environment_block())


if __name__ == "__main__":
    main()
