"""Server: ``procsearch serve``, a JSON API and a web page over one SearchEngine per worker.

Parts: ``app`` (the Starlette application and its routes), ``run`` (uvicorn, one worker or
many), ``suggest`` (the completion table for search-as-you-type), ``openapi`` (the API's
description), ``errors`` (library errors as JSON error bodies with their HTTP status).
Needs the ``serve`` extra: ``pip install 'procsearch[serve]'`` (``suggest`` needs nothing more).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import lazy_attributes

if TYPE_CHECKING:
    from .app import create_app
    from .errors import ServerError
    from .run import run_server
    from .suggest import CompletionTable, Suggestion, Suggestions

__all__ = ["CompletionTable", "ServerError", "Suggestion", "Suggestions", "create_app", "run_server"]

# Imported on first use: the completion table needs no web framework, the application does.
__getattr__ = lazy_attributes(
    __name__,
    {
        "create_app": ".app",
        "run_server": ".run",
        "ServerError": ".errors",
        **dict.fromkeys(("CompletionTable", "Suggestion", "Suggestions"), ".suggest"),
    },
)
