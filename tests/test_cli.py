from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from procsearch.ingest.skips import SkipReason

from procsearch.cli import EXIT_INDEX, EXIT_SKIPPED, cli


def test_every_command_has_help_with_examples() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0 and "Examples:" in result.output
    for name, command in cli.commands.items():
        assert command.help, f"{name} has no help text"
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, result.output
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"{name} {param.name} has no help"


def test_search_prints_ranked_results_with_section_snippets(run) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "spinal cord stimulator", "--limit", "3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(" 1. 63")
    assert any(":" in line and line.startswith(" " * 6) for line in lines), "a snippet names its section"


def test_search_json_shape(run) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "63685", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) >= {"query", "total", "hits", "expansions", "corrected_query", "partial", "notices"}
    first = data["hits"][0]
    assert first["code"] == "63685" and first["exact_code_match"] is True and first["rank"] == 1
    assert set(first) >= {"code", "code_system", "title", "score", "snippet", "group", "common_names"}


def test_show_json_returns_every_section(run) -> None:  # type: ignore[no-untyped-def]
    result = run("show", "63685", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["code"] == "63685" and data["code_system"] == "CPT"
    assert len(data["sections"]) == 13
    assert {s["code"] for s in data["similar_codes"]} >= {"63688", "63650"}


def test_show_one_section(run) -> None:  # type: ignore[no-untyped-def]
    result = run("show", "63685", "--section", "complications")
    assert result.exit_code == 0
    assert "infection" in result.stdout.lower()


def test_stats_json(run) -> None:  # type: ignore[no-untyped-def]
    result = run("stats", "--json")
    data = json.loads(result.stdout)
    assert data["documents"] >= 7 and data["facets"]["code_system"]["CPT"] >= 7


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["search", "   "], 1, "The query is empty"),
        (["search", "knee", "--section", "nonsense"], 1, "Unknown section 'nonsense'"),
        (["search", "knee", "--system", "loinc"], 1, "Unknown code system 'loinc'"),
        (["search", "knee", "--weights", "title"], 1, "write FIELD=NUMBER"),
        (["search", "knee", "--weights", "bogus=2"], 1, "unknown field 'bogus'"),
        (["show", "00000"], 1, "No document with code '00000'"),
        (["search", "--limit", "0", "knee"], 2, "Invalid value"),
        (["frobnicate"], 2, "No such command"),
    ],
)
def test_errors_are_one_clear_line_and_exit_codes(run, args: list[str], code: int, message: str) -> None:  # type: ignore[no-untyped-def]
    result = run(*args)
    assert result.exit_code == code, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_missing_index_exit_code_and_hint(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("search", "knee", index=tmp_path / "none")
    assert result.exit_code == EXIT_INDEX
    assert "Build it with: procsearch --index" in result.stderr


def test_index_command_reports_skips_with_exit_code(run, tmp_path: Path, fixtures: Path) -> None:  # type: ignore[no-untyped-def]
    pages = tmp_path / "pages"
    pages.mkdir()
    for name in ("seed-63685.html", "no-title.html"):
        (pages / name).write_bytes((fixtures / name).read_bytes())
    result = run("index", str(pages), "--json", index=tmp_path / "ix")
    assert result.exit_code == EXIT_SKIPPED
    data = json.loads(result.stdout)
    assert data["documents"] == 1
    assert data["skipped"] == [{"source": "no-title.html", "reason": SkipReason.NO_TITLE_OR_CONTENT, "detail": ""}]


def test_first_search_builds_the_default_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROCSEARCH_INDEX", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    result = CliRunner().invoke(cli, ["search", "spinal cord stimulator", "--json"])
    assert result.exit_code == 0, result.output
    assert "building one from the bundled sample corpus" in result.stderr
    assert "63685" in [hit["code"] for hit in json.loads(result.stdout)["hits"][:3]]
    again = CliRunner().invoke(cli, ["search", "knee"])
    assert "building" not in again.stderr


def test_parse_shows_how_a_page_was_read(run, fixtures: Path) -> None:  # type: ignore[no-untyped-def]
    page = fixtures / "markup" / "drupal-field-labels-a1c.html"
    result = run("parse", str(page), index=None)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("hemoglobin-a1c  (no code)  Hemoglobin A1c")
    assert "Common names: A1c; HbA1c; Glycohemoglobin; Glycated Hemoglobin" in lines
    assert any(line.split()[:2] == ["purpose", '"Why'] and "[label class" in line for line in lines)
    assert any(line.split()[:1] == ["advertisement"] for line in lines[lines.index("Dropped") :])

    data = json.loads(run("parse", str(page), "--json", index=None).stdout)
    assert data["id"] == "hemoglobin-a1c" and data["code"] == ""
    assert {key: value for key, value in data["sections"][3].items() if key != "text"} == {
        "field": "purpose",
        "heading": "Why Get Tested?",
        "how": "label class field--name-field-section-title",
    }
    coverage = data["coverage"]
    assert coverage["kept"] + sum(coverage["dropped"].values()) == coverage["words"]


def test_parse_of_a_page_that_is_no_page_says_why(run, fixtures: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("parse", str(fixtures / "no-title.html"), index=None)
    assert result.exit_code == 1
    assert "skipped: no title and no recognisable content" in result.output


def test_index_json_reports_each_pages_coverage_and_warns_of_low_ones(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "knee.html").write_text(
        "<html><body><main><h1>Knee arthroscopy</h1><p>A camera is put into the knee joint through a small cut, "
        "and the surgeon looks at the cartilage, ligaments and the lining of the joint on a screen, repairing "
        "what is torn through one or two more small cuts.</p>"
        "</main><div>" + " ".join(f"word{i}" for i in range(300)) + "</div></body></html>"
    )
    result = run("index", str(pages), "--json", index=tmp_path / "ix")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    [page] = data["pages"]
    assert page["source"] == "knee.html" and page["id"] == "knee"
    assert page["coverage"]["dropped"] == {"outside the main content": 300}
    assert data["low_coverage"] == ["knee.html"]
    text = run("index", str(pages), index=tmp_path / "ix")
    assert "warning: knee.html: only" in text.stderr and "procsearch parse knee.html" in text.stderr
