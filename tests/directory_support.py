"""Helpers for the directory tests: records as the gateway sends them, and posting them."""

from __future__ import annotations

from typing import Any

import httpx

from auth.tokens import issue_token
from models.access_token import Scope
from models.organization import Organization
from tests.ingest_support import json_lines


def member_record(external_id: str, email: str, **fields: Any) -> dict[str, Any]:
    """A member record; fields override or add."""
    return {"type": "member", "externalId": external_id, "email": email, **fields}


def key_record(external_id: str, prefix: str, **fields: Any) -> dict[str, Any]:
    """An apiKey record; fields override or add."""
    return {"type": "apiKey", "externalId": external_id, "prefix": prefix, **fields}


async def make_directory_token(org: Organization, *, ingest: bool = False) -> str:
    scopes = [Scope.DIRECTORY, Scope.INGEST] if ingest else [Scope.DIRECTORY]
    return (await issue_token(org.id, None, "gateway directory", scopes)).token


async def post_directory(
    client: httpx.AsyncClient, token: str | None, body: bytes | list[dict[str, Any]]
) -> httpx.Response:
    content = json_lines(body) if isinstance(body, list) else body
    headers = {"Content-Type": "application/x-ndjson"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/directory/bulk", content=content, headers=headers)
