"""The benchmarks' shared harness: each measurement defined once, used by every script in bench/.

- ``environment``: the command, versions, CPU, cores, load and date a run reports (one Markdown block)
- ``percentiles``: the one percentile definition (nearest rank)
- ``queries``: the query mix from bench/queries/*.tsv
- ``records``: the records and field texts, from procsearch itself (``collect_docs``, ``to_fields``)
- ``memory``: peak resident set, and the summed PSS of a process tree, sampled
- ``timing``: warm latency over a query mix (each query under a deadline), cold search processes
- ``processes``: the measured build child and the cold search child
- ``report``: Markdown tables of figures per engine, with procsearch's ratios
- ``engines``: what an engine adapter provides; one adapter per engine (``procsearch_adapter``,
  ``fts5_adapter``, ``tantivy_adapter``)

Scripts in bench/ import it as ``harness`` (Python puts a script's folder first on ``sys.path``).
"""

from __future__ import annotations

from .environment import environment, environment_block, environment_lines, note
from .percentiles import percentile

__all__ = ["environment", "environment_block", "environment_lines", "note", "percentile"]
