"""``python -m procsearch``: the same as the ``procsearch`` command."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main()
