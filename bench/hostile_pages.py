"""Pathological page shapes the parser must get through in linear time, or skip at once.

Each case is parsed once (``parse_page``); the table gives the time, the outcome and the peak
memory of this process so far. Shapes: deep nesting of blocks and furniture, hundreds of
thousands of empty inline tags (over the tag limit: skipped as "too complex" before the tree is
built), and deeply nested lists.

    python bench/hostile_pages.py
"""

from __future__ import annotations

import resource
import time

from procsearch.ingest.errors import PageSkipped
from procsearch.ingest.parse import parse_page

CASES = {
    "20,000 nested divs holding 20,000 buttons": "<h1>T</h1>"
    + "<div>" * 20000
    + "<button>x</button>" * 20000
    + "</div>" * 20000,
    "20,000 nested nav elements": "<h1>T</h1>" + "<nav><p>a</p>" * 20000 + "</nav>" * 20000,
    "700,000 empty inline tags": "<h1>T</h1><p>" + "<b></b>" * 700000 + "</p>",
    "150,000 empty inline tags": "<h1>T</h1><p>" + "<b></b>" * 150000 + "text here</p>",
    "5,000 nested lists": "<h1>T</h1>" + "<ul><li>item" * 5000 + "</li></ul>" * 5000,
    "one 8,000-word line with no full stop": "<h1>T</h1><p>" + "word " * 8000 + "</p>",
}


def main() -> None:
    print("| page shape | seconds | outcome | peak memory (MB) |")
    print("|---|---:|---|---:|")
    for name, body in CASES.items():
        html = f"<html><body>{body}</body></html>"
        started = time.perf_counter()
        try:
            doc = parse_page(html, source="x.html")
            outcome = f"parsed ({len(doc.sections) + len(doc.other)} parts)"
        except PageSkipped as skip:
            outcome = f"skipped: {skip.reason}"
        seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
        print(f"| {name} | {seconds:.2f} | {outcome} | {peak} |", flush=True)


if __name__ == "__main__":
    main()
