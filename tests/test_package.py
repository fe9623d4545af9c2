"""The package as Python sees it: ``python -m procsearch``, ``__version__``, type information."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path

import pytest

import procsearch


def test_python_dash_m_runs_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "procsearch", "--version"], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"procsearch, version {metadata.version('procsearch')}"


def test_version_is_the_installed_distributions() -> None:
    assert procsearch.__version__ == metadata.version("procsearch")
    assert "__version__" in procsearch.__all__


def test_the_package_ships_its_type_information() -> None:
    assert (resources.files("procsearch") / "py.typed").is_file()
    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert "py.typed" in pyproject.partition("[tool.setuptools.package-data]")[2]


@pytest.mark.slow
def test_the_readme_library_example_runs_and_leaves_no_file_open(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    library = readme[readme.index("## The library") :]
    code = library[library.index("```python\n") + len("```python\n") :].split("```")[0]
    shutil.copytree(Path(__file__).resolve().parent.parent / "bench" / "queries", tmp_path / "bench" / "queries")
    done = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert "63685" in done.stdout
    assert "ResourceWarning" not in done.stderr, done.stderr


def test_build_index_takes_str_paths_as_search_engine_does(tmp_path: Path, fixtures: Path) -> None:
    from procsearch import SearchEngine, build_index

    pages = tmp_path / "pages"
    pages.mkdir()
    shutil.copy(fixtures / "seed-63685.html", pages)
    report = build_index(str(pages), str(tmp_path / "ix"))
    assert report.indexed == 1
    with SearchEngine(str(tmp_path / "ix")) as engine:
        assert engine.search("stimulator").codes == ["63685"]


def test_every_exported_name_resolves_and_the_library_mirrors_the_write_commands() -> None:
    for name in procsearch.__all__:
        assert getattr(procsearch, name) is not None, name
    assert {"build_index", "reindex", "verify_index", "rollback_index", "ProcsearchError"} <= set(procsearch.__all__)


def test_python_dash_m_runs_the_cli_package() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "procsearch.cli", "--version"], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0 and done.stdout.startswith("procsearch, version"), done.stderr
