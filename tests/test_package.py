"""The package as Python sees it: ``python -m procsearch``, ``__version__``, type information."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata, resources
from pathlib import Path

import pytest

import procsearch
from procsearch.sourcetree import mapped_subpackages, source_tree_subpackages


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


def _readme_library_example() -> str:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    library = readme[readme.index("## The library") :]
    return library[library.index("```python\n") + len("```python\n") :].split("```")[0]


@pytest.mark.slow
def test_the_readme_library_example_runs_and_leaves_no_file_open(tmp_path: Path) -> None:
    code = _readme_library_example()
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


ROOT = Path(__file__).resolve().parent.parent


def _python_without_site(*args: str, cwd: Path, path: list[str]) -> subprocess.CompletedProcess[str]:
    """Run Python with ``-S`` (no site.py, so no editable install's finder) and only ``path`` to import from."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    return subprocess.run(
        [sys.executable, "-S", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=600
    )


def test_the_clone_maps_the_same_subpackages_as_pyproject() -> None:
    tomllib = pytest.importorskip("tomllib")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    package_dir = tomllib.loads(pyproject)["tool"]["setuptools"]["package-dir"]
    assert mapped_subpackages(pyproject) == {
        name.removeprefix("procsearch."): folder for name, folder in package_dir.items()
    }
    assert set(source_tree_subpackages(ROOT / "procsearch")) == {"ingest", "index", "search", "corpus", "server"}


def test_from_the_clone_root_the_subpackages_import_from_their_folders_and_nothing_else_does() -> None:
    purelib = sysconfig.get_paths()["purelib"]  # the dependencies; procsearch itself comes from the clone
    code = (
        "import procsearch.search.engine, procsearch.ingest.icd10pcs, procsearch.corpus\n"
        "print(procsearch.search.engine.__file__)\n"
        "for name in ('tests', 'bench', 'docs'):\n"
        "    try:\n"
        "        __import__('procsearch.' + name)\n"
        "    except ImportError:\n"
        "        continue\n"
        "    raise SystemExit(f'procsearch.{name} should not import')\n"
    )
    done = _python_without_site("-c", code, cwd=ROOT, path=[purelib])
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == ROOT / "search" / "engine.py"


@pytest.mark.slow
def test_the_readme_library_example_runs_from_the_clone_root_after_a_regular_install(tmp_path: Path) -> None:
    """``pip install .`` (not editable), then the README's library example run from the clone's root,
    where the root's ``procsearch/`` folder shadows the installed package."""
    clone = tmp_path / "clone"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    folders = mapped_subpackages((ROOT / "pyproject.toml").read_text(encoding="utf-8")).values()
    for folder in ("procsearch", *folders, "bench/queries"):
        shutil.copytree(ROOT / folder, clone / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, clone / name)
    wheels, target = tmp_path / "wheels", tmp_path / "installed"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    built = subprocess.run(
        [*pip, "wheel", "--no-deps", "-w", str(wheels), str(clone)], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("procsearch-*.whl")
    installed = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)], capture_output=True, text=True, check=False
    )
    assert installed.returncode == 0, installed.stderr
    done = _python_without_site(
        "-c", _readme_library_example(), cwd=clone, path=[str(target), sysconfig.get_paths()["purelib"]]
    )
    assert done.returncode == 0, done.stderr
    assert "63685" in done.stdout


def test_every_exported_name_resolves_and_the_library_mirrors_the_write_commands() -> None:
    for name in procsearch.__all__:
        assert getattr(procsearch, name) is not None, name
    assert {"build_index", "reindex", "verify_index", "rollback_index", "ProcsearchError"} <= set(procsearch.__all__)


def test_python_dash_m_runs_the_cli_package() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "procsearch.cli", "--version"], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0 and done.stdout.startswith("procsearch, version"), done.stderr
