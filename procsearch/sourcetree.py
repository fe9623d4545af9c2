"""Imports from a clone: the subpackages that live in the repository's top-level folders.

pyproject.toml maps ``procsearch.ingest`` to ``ingest/`` (and ``index``, ``search``, ``corpus``,
``server`` likewise), so an installed procsearch holds them all in one folder. Python run from the
clone's root finds the root's ``procsearch/`` first, which holds none of them, and the installed
copy is shadowed. When procsearch is imported from such a source tree, :class:`SourceTreeFinder`
resolves exactly the mapped subpackages to their folders (nothing else in the clone, such as
``tests/`` or ``bench/``, becomes part of the package), so imports work the same from anywhere,
after an editable or a regular install. The mapping is read from pyproject.toml, where it is written.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Mapping, Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

_PACKAGE = "procsearch"
_PACKAGE_DIR_TABLE = "[tool.setuptools.package-dir]"
_MAPPING_LINE = re.compile(rf'^"{_PACKAGE}\.(\w+)"\s*=\s*"(\w+)"\s*$', re.MULTILINE)


def mapped_subpackages(pyproject: str) -> dict[str, str]:
    """``{subpackage: folder}`` from pyproject.toml's ``[tool.setuptools.package-dir]`` table."""
    _, found, rest = pyproject.partition(_PACKAGE_DIR_TABLE)
    if not found:
        return {}
    table = rest.split("\n[", 1)[0]
    return dict(_MAPPING_LINE.findall(table))


def source_tree_subpackages(package_dir: Path) -> dict[str, Path]:
    """The mapped subpackages' folders when ``package_dir`` (the folder ``procsearch`` was imported
    from) sits in a source tree: next to a pyproject.toml whose mapped folders are all packages.
    Empty for an installed procsearch."""
    root = package_dir.parent
    try:
        pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return {}
    folders = {name: root / folder for name, folder in mapped_subpackages(pyproject).items()}
    if not folders or not all((folder / "__init__.py").is_file() for folder in folders.values()):
        return {}
    return folders


class SourceTreeFinder(MetaPathFinder):
    """Finds ``procsearch.<name>`` for each mapped subpackage in its source-tree folder; their own
    submodules are then found through the subpackage's ``__path__`` as usual."""

    def __init__(self, folders: Mapping[str, Path]) -> None:
        self.folders = dict(folders)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        package, _, name = fullname.partition(".")
        folder = self.folders.get(name) if package == _PACKAGE else None
        if folder is None:
            return None
        return importlib.util.spec_from_file_location(
            fullname, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )


def enable_source_tree_imports(package_dir: Path) -> None:
    """Put a :class:`SourceTreeFinder` first on ``sys.meta_path`` when procsearch was imported from
    a source tree (once per tree); do nothing for an installed procsearch."""
    folders = source_tree_subpackages(package_dir)
    if not folders:
        return
    if any(isinstance(finder, SourceTreeFinder) and finder.folders == folders for finder in sys.meta_path):
        return
    sys.meta_path.insert(0, SourceTreeFinder(folders))
