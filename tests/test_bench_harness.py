"""The benchmarks' shared harness (bench/harness/): its one percentile definition, and engine
adapters that index procsearch's own records and find what procsearch finds."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from harness import environment, environment_lines, percentile  # noqa: E402
from harness.engines import adapters  # noqa: E402
from harness.queries import query_mix, read_query_files  # noqa: E402
from harness.records import field_names, field_texts, read_records  # noqa: E402


def test_percentiles_are_nearest_rank_so_each_is_a_measured_value() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 0.50) == 5.0
    assert percentile(values, 0.95) == 10.0
    assert percentile(values, 0.0) == 1.0
    with pytest.raises(ValueError, match="no values"):
        percentile([], 0.5)


def test_a_smaller_query_mix_keeps_every_kind_of_query() -> None:
    base = read_query_files()
    assert {q.kind for q in query_mix(40, base)} == {q.kind for q in base}
    assert len(query_mix(len(base) + 5, base)) == len(base) + 5


def test_the_environment_block_names_the_command_and_versions() -> None:
    lines = environment_lines(environment(["bench/x.py", "--flag"]))
    assert lines[0].startswith("- command: `") and "bench/x.py --flag" in lines[0]
    assert any("whoosh3" in line for line in lines)


def test_the_records_and_field_texts_are_what_procsearch_indexes() -> None:
    docs = read_records(["pages"])
    assert len(docs) == 140
    texts = field_texts(next(doc for doc in docs if doc.code == "63685"))
    assert set(texts) == set(field_names())
    assert texts["code"] == "63685" and "Stimulator" in texts["title"]


@pytest.mark.parametrize("engine", ["fts5", "tantivy"])
def test_each_other_engine_finds_the_page_procsearch_finds(engine: str, tmp_path: Path) -> None:
    if engine == "tantivy":
        pytest.importorskip("tantivy")
    adapter = adapters()[engine]
    built = adapter.build(tmp_path / engine, ["pages"])
    assert built["documents"] == 140
    assert built["detail"]["texts_from"] == "procsearch.index.documents.to_fields"
    hits = adapter.open(tmp_path / engine).search("spinal cord stimulator battery")
    assert "63685" in [code for code, _ in hits[:3]]
    assert adapter.size_bytes(tmp_path / engine) > 0
