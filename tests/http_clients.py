"""An HTTP client for an app built inside a test (other settings, another schema)."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette


def client_for(app: Starlette, base_url: str = "http://test") -> httpx.AsyncClient:
    """Use as `async with client_for(app) as http:`."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
