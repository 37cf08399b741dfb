"""Routes of the usage page: `/usage/` (its files), `/usage` and `/` redirecting to it.

The files need no token: the page asks for one and sends it to /graphql itself. They are
served with the HTML policy of graph/security_headers.py (scripts from this origin only).
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

PAGE_PATH = "/usage/"
STATIC_DIR = Path(__file__).resolve().parent / "static"


async def to_usage_page(request: Request) -> RedirectResponse:
    """307 to the usage page (a browser opening the service's address lands on it)."""
    return RedirectResponse(PAGE_PATH, status_code=307)


USAGE_PAGE_ROUTES: list[BaseRoute] = [
    Route("/", to_usage_page, methods=["GET", "HEAD"]),
    Route("/usage", to_usage_page, methods=["GET", "HEAD"]),
    Mount("/usage", StaticFiles(directory=STATIC_DIR, html=True), name="usage_page"),
]
