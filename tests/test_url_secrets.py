"""Tokens travel only in the Authorization header: a URL carrying one is refused with 400,
and uvicorn's access log, which writes every URL, never shows it."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from uvicorn.logging import AccessFormatter

from models.member import Role
from tests.factories import make_member, make_org, make_token
from tests.served_app import served as served_app
from web.url_secrets import REFUSAL, redact_url

GRAPHQL_REFUSAL = {"errors": [{"message": REFUSAL, "extensions": {"code": "BAD_USER_INPUT"}}]}
REST_REFUSAL = {"error": {"code": "BAD_USER_INPUT", "message": REFUSAL}}


@pytest.fixture
async def token(db: object) -> str:
    return await make_token(await make_member(await make_org(), Role.OWNER))


@pytest.mark.parametrize("parameter", ["access_token", "token", "api_key", "Authorization"])
@pytest.mark.parametrize(
    ("path", "refusal"),
    [
        ("/graphql", GRAPHQL_REFUSAL),
        ("/export/request-logs.csv", REST_REFUSAL),
        ("/healthz", REST_REFUSAL),
    ],
)
async def test_a_token_in_the_query_string_is_refused(
    client: httpx.AsyncClient, token: str, parameter: str, path: str, refusal: object
) -> None:
    response = await client.get(path, params={parameter: token})

    assert response.status_code == 400
    assert response.json() == refusal


async def test_a_token_in_the_query_string_is_refused_even_with_the_header(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.post(
        "/graphql",
        params={"access_token": token},
        json={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 400
    assert response.json() == GRAPHQL_REFUSAL


async def test_a_token_shaped_value_under_any_name_is_refused(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get("/graphql", params={"query": "{ viewer { role } }", "x": token})

    assert response.status_code == 400


async def test_a_query_string_without_secrets_is_served(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get(
        "/graphql",
        params={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"role": "OWNER"}}


@pytest.fixture
async def served(app: Starlette) -> AsyncIterator[tuple[str, io.StringIO]]:
    """The app served by a real uvicorn on a free loopback port, and its access log as
    uvicorn's own AccessFormatter writes it."""
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        async with served_app(app, access_log=True) as base_url:
            yield base_url, log
    finally:
        access.removeHandler(handler)
        access.setLevel(level)


async def test_the_access_log_never_shows_a_token_sent_in_the_url(
    served: tuple[str, io.StringIO], token: str
) -> None:
    base_url, log = served
    secret = token.removeprefix("aize_")
    async with httpx.AsyncClient(base_url=base_url) as http:
        refused = await http.get("/graphql", params={"access_token": token, "query": "{a}"})
        elsewhere = await http.get(f"/graphql/{token}")
        served_fine = await http.get(
            "/graphql",
            params={"query": "{ viewer { role } }"},
            headers={"Authorization": f"Bearer {token}"},
        )

    assert (refused.status_code, elsewhere.status_code, served_fine.status_code) == (
        400,
        404,
        200,
    )
    lines = log.getvalue().splitlines()
    assert len(lines) == 3
    assert secret not in log.getvalue()
    assert '"GET /graphql?access_token=[REDACTED]&query=%7Ba%7D HTTP/1.1" 400' in lines[0]
    assert '"GET /graphql/[REDACTED] HTTP/1.1" 404' in lines[1]
    assert "query=%7B+viewer+%7B+role+%7D+%7D HTTP/1.1" in lines[2]


@pytest.mark.parametrize(
    ("url", "logged"),
    [
        ("/graphql?token=abc&query=x", "/graphql?token=[REDACTED]&query=x"),
        ("/graphql?access%5Ftoken=abc", "/graphql?access%5Ftoken=[REDACTED]"),
        ("/graphql?API_KEY=abc&key", "/graphql?API_KEY=[REDACTED]&[REDACTED]"),
        ("/x?v=aize_" + "A" * 40, "/x?v=[REDACTED]"),
        ("/x?aize_" + "A" * 40 + "=1", "/x?[REDACTED]"),
        ("/x/%61ize_" + "A" * 40, "[REDACTED]"),
        ("/export/usage/trend.csv?period=LAST_HOUR", "/export/usage/trend.csv?period=LAST_HOUR"),
    ],
)
def test_secrets_are_redacted_from_logged_urls(url: str, logged: str) -> None:
    assert redact_url(url) == logged
