"""Routes of Anaplan's transactional API (Integration API v2.0), one module per family.

Each module's routes serve both of Anaplan's path forms (`/2/0/workspaces/{ws}/models/{m}/…` and
`/2/0/models/{m}/…`), call the engine's transactional modules in a worker thread, and answer in
Anaplan's envelopes (`..wire`).
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from .lists import list_routes
from .modules import module_routes
from .people import people_routes
from .readrequests import read_request_routes


def transactional_routes() -> list[BaseRoute]:
    """Every transactional route."""
    return [*list_routes(), *module_routes(), *people_routes(), *read_request_routes()]
