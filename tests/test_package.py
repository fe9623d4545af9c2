"""The package as Python sees it: ``python -m procsearch``, ``__version__``, type information."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path

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
