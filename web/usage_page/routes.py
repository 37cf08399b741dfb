"""Routes of the usage page: `/usage/` (its files), `/usage` and `/` redirecting to it.

The files need no token: the page asks for one and sends it to /graphql itself. They are
served with the HTML policy of web/security_headers.py (scripts from this origin only);
the operation files (`*.graphql`, a suffix Python's mimetypes does not know, which Starlette
would serve as application/octet-stream) as UTF-8 text under the API's policy.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

PAGE_PATH = "/usage/"
STATIC_DIR = Path(__file__).resolve().parent / "static"
# Content types by suffix where mimetypes has none (the page fetches these as text).
MEDIA_TYPES = {".graphql": "text/plain; charset=utf-8"}


class PageFiles(StaticFiles):
    """StaticFiles with the content types of MEDIA_TYPES."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        media_type = MEDIA_TYPES.get(Path(full_path).suffix)
        # A 304 answer carries no content type: leave it so.
        if media_type is not None and "content-type" in response.headers:
            response.headers["content-type"] = media_type
        return response


async def to_usage_page(request: Request) -> RedirectResponse:
    """307 to the usage page (a browser opening the service's address lands on it)."""
    return RedirectResponse(PAGE_PATH, status_code=307)


USAGE_PAGE_ROUTES: list[BaseRoute] = [
    Route("/", to_usage_page, methods=["GET", "HEAD"]),
    Route("/usage", to_usage_page, methods=["GET", "HEAD"]),
    Mount("/usage", PageFiles(directory=STATIC_DIR, html=True), name="usage_page"),
]
