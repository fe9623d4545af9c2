"""``python -m procsearch.cli``: the same as the ``procsearch`` command."""

from __future__ import annotations

from .main import main

if __name__ == "__main__":
    main()
