"""procsearch explain QUERY CODE and search --explain: exit codes, text and JSON (against the schema)."""

from __future__ import annotations

import json
import math
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

SCHEMA = json.loads((resources.files("procsearch") / "output.schema.json").read_text(encoding="utf-8"))


def _validate(data: Any, definition: str) -> None:
    Draft202012Validator({"$ref": f"#/$defs/{definition}", "$defs": SCHEMA["$defs"]}).validate(data)
    Draft202012Validator(SCHEMA).validate(data)


def test_explain_shows_rank_score_and_the_share_of_each_field(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "spinal cord stimulator", "63685")
    assert result.exit_code == 0, result.output
    head, shares, *rest = result.stdout.splitlines()
    assert head.startswith("#1  63685  Spinal Cord Stimulator") and "score " in head
    assert shares.lstrip().startswith(("names: ", "title: ")) and "%" in shares
    assert any("stimulator (typed)" in line and "idf" in line and "tf" in line for line in rest)
    assert any(line.strip().startswith("parts add up to") for line in rest)


def test_explain_a_code_below_the_page(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "spinal cord stimulator", "27447", "--limit", "5")
    assert result.exit_code == 0, result.output
    assert "lacks: " in result.stdout and "below the last hit shown" in result.stdout


def test_explain_json_validates_and_adds_up(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "stimulatr", "63685", "--json", "--system", "cpt")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    _validate(data, "explanation")
    assert data["schema_version"] == 1 and data["options"]["system"] == "cpt"
    parts = sum(part["value"] for part in data["contributions"]) + data["coordination"] + data["code_score"]
    assert math.isclose(parts, data["score"], rel_tol=1e-9)
    assert any(part["origin"] == "spelling correction" for part in data["contributions"])


def test_explain_phrase_and_code_rule_json_validate(run) -> None:  # type: ignore[no-untyped-def]
    for args in (['"spinal cord" stimulator', "63685"], ["63685 battery", "63685"], ["knee", "63685"]):
        result = run("explain", *args, "--json")
        assert result.exit_code == 0, result.output
        _validate(json.loads(result.stdout), "explanation")


def test_explain_an_unknown_code_is_an_error(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "knee", "00000")
    assert result.exit_code == 1
    assert "No document with code '00000'" in result.stderr
    data = json.loads(run("explain", "knee", "00000", "--json").stdout)
    _validate(data, "error")


def test_search_explain_explains_every_hit_of_the_page(run) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "knee replacement", "--limit", "3", "--explain")
    assert result.exit_code == 0, result.output
    heads = [line for line in result.stdout.splitlines() if line.startswith("#")]
    assert [head.split()[0] for head in heads] == ["#1", "#2", "#3"]
    data = json.loads(run("search", "knee replacement", "--limit", "3", "--explain", "--json").stdout)
    _validate(data, "search_results")
    assert [e["code"] for e in data["explanations"]] == [hit["code"] for hit in data["hits"]]
    for hit, explanation in zip(data["hits"], data["explanations"], strict=True):
        assert math.isclose(explanation["score"], hit["score"], abs_tol=1e-4)  # hits round to 4 places


def test_explain_with_a_batch_is_a_usage_error_not_ignored(run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    queries = tmp_path / "queries.txt"
    queries.write_text("knee replacement\n", encoding="utf-8")
    result = run("search", "--batch", str(queries), "--explain")
    assert result.exit_code == 2 and "procsearch explain" in result.output


def test_explain_with_facets_is_a_usage_error_not_ignored(run) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "knee", "--facets", "--explain")
    assert result.exit_code == 2 and "--facets alone" in result.output


def test_explain_a_code_left_out_by_not_names_the_term(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "stimulator NOT battery", "63685")
    assert result.exit_code == 0, result.output
    assert "NOT battery leaves it out" in result.stdout and "matches nothing" not in result.stdout
    data = json.loads(run("explain", "stimulator NOT battery", "63685", "--json").stdout)
    _validate(data, "explanation")
    assert data["excluded_by"] == ["battery"] and "NOT battery leaves it out" in data["notes"][-1]


def test_explain_a_code_above_the_page_says_where_it_ranks(run) -> None:  # type: ignore[no-untyped-def]
    result = run("explain", "spinal cord stimulator", "63685", "--offset", "5", "--limit", "5")
    assert result.exit_code == 0, result.output
    head, placement, *_ = result.stdout.splitlines()
    assert head.startswith("#1  63685")
    assert placement.strip() == "Ranks #1, above the page (ranks 6 to 10): not on this page."
    assert "below the last hit shown" not in result.stdout
    data = json.loads(
        run("explain", "spinal cord stimulator", "63685", "--offset", "5", "--limit", "5", "--json").stdout
    )
    _validate(data, "explanation")
    assert data["rank"] == 1 and not data["on_page"] and data["gap"] is None and "not on this page" in data["placement"]


def test_explain_json_lists_the_axes_switch_with_the_options(run) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(run("explain", "knee", "27447", "--json").stdout)
    _validate(data, "explanation")
    assert data["options"]["axes"] is True
