"""--json output: one documented shape (procsearch/output.schema.json) that every command's output
validates against, a schema_version in every object, and errors as JSON objects."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

SCHEMA = json.loads((resources.files("procsearch") / "output.schema.json").read_text(encoding="utf-8"))


def validate(data: Any, definition: str) -> None:
    Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": SCHEMA["$defs"]}).validate(data)
    Draft202012Validator(SCHEMA).validate(data)


def test_the_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    ("args", "definition"),
    [
        (["search", "spinal cord stimulator", "--json"], "search_results"),
        (["search", "63685 battery", "--json", "--facets", "--offset", "1"], "search_results"),
        (["search", '"spinal cord" -battery', "--json", "--limit", "3"], "search_results"),
        (["search", "colonscopy", "--json"], "search_results"),
        (["search", "636*", "--json", "--system", "cpt"], "search_results"),
        (["show", "63685", "--json"], "record"),
        (["show", "63685", "--json", "--section", "risks"], "record"),
        (["similar", "63685", "--json"], "similar"),
        (["stats", "--json"], "stats"),
        (
            ["eval", str(Path(__file__).resolve().parent.parent / "bench" / "queries" / "pages.tsv"), "--json"],
            "evaluation",
        ),
    ],
)
def test_json_output_validates_against_the_documented_schema(run, args: list[str], definition: str) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["schema_version"] == 1
    validate(data, definition)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["search", "*a*", "--json"], 1),
        (["search", "knee", "--group", "nowhere", "--json"], 1),
        (["show", "00000", "--json"], 1),
        (["similar", "00000", "--json"], 1),
        (["stats", "--json"], 5),
    ],
)
def test_an_error_with_json_is_a_json_object_on_stdout(run, tmp_path: Path, args: list[str], code: int) -> None:  # type: ignore[no-untyped-def]
    result = run(*args, index=tmp_path / "missing") if code == 5 else run(*args)
    assert result.exit_code == code
    data = json.loads(result.stdout)
    validate(data, "error")
    assert data["exit_code"] == code and data["error"] in result.stderr


def test_batch_lines_validate(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    batch = tmp_path / "queries.txt"
    batch.write_bytes(b"knee\n*a*\n\xff\n63685\n")
    result = run("search", "--batch", str(batch), "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["line"] for line in lines] == [1, 2, 3, 4]
    for line in lines:
        validate(line, "error" if "error" in line else "search_results")


def test_stats_and_search_use_the_same_names(run) -> None:  # type: ignore[no-untyped-def]
    stats = json.loads(run("stats", "--json").stdout)
    search = json.loads(run("search", "knee", "--json", "--facets").stdout)
    assert set(stats["facets"]) == set(search["facets"]) == {"code_system", "group"}
    assert stats["documents"] == sum(stats["facets"]["code_system"].values())


def test_index_and_reindex_reports_validate_with_each_pages_coverage(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "knee.html").write_text(
        "<html><body><h1>Knee scope</h1><p>A camera looks inside the knee.</p></body></html>"
    )
    index = tmp_path / "ix"
    built = json.loads(run("index", str(pages), "--json", index=index).stdout)
    validate(built, "index_report")
    assert built["documents"] == 1 and built["pages"][0]["id"] == "knee"
    (pages / "hip.html").write_text("<html><body><h1>Hip scope</h1><p>A camera looks inside the hip.</p></body></html>")
    updated = json.loads(run("reindex", str(pages), "--json", index=index).stdout)
    validate(updated, "reindex_report")
    assert [page["source"] for page in updated["pages"]] == ["hip.html"]
