"""Security headers on every response: API JSON, health check, 401s, the GraphiQL page."""

from __future__ import annotations

import base64
import hashlib
import re

import httpx
import pytest

from models.member import Role
from settings import Settings
from tests.factories import make_member, make_org, make_token
from tests.http_clients import client_for
from web.security_headers import API_CSP, ide_csp

COMMON = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


def _assert_common(response: httpx.Response) -> None:
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, name


async def test_graphql_answers_carry_the_headers_and_a_strict_csp(
    client: httpx.AsyncClient,
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    _assert_common(response)
    assert response.headers["content-security-policy"] == (
        "default-src 'none'; frame-ancestors 'none'"
    )


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "/graphql", 401), ("GET", "/healthz", 200), ("GET", "/nowhere", 404)],
)
async def test_every_other_answer_carries_them_too(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, json={"query": "{ viewer { role } }"})
    assert response.status_code == status
    _assert_common(response)
    assert response.headers["content-security-policy"] == API_CSP


async def test_the_graphiql_page_gets_a_policy_that_lets_it_load(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    _assert_common(response)
    csp = response.headers["content-security-policy"]
    assert csp == ide_csp(response.text)
    assert "frame-ancestors 'none'" in csp
    assert "connect-src 'self'" in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    # Every inline script of the page is allowed by its hash; scripts, styles and fonts come
    # from this origin only (the page works offline: tests/test_graphiql_browser.py).
    for script in re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in csp
    assert "https:" not in csp and "http:" not in csp
    assert re.findall(r'(?:src|href)="(https?://[^"]+)"', response.text) == []


async def test_hsts_only_when_the_request_came_over_https(db: Settings) -> None:
    from web.app import create_app

    app = create_app(db, manage_database=False)
    async with client_for(app, base_url="https://analytics.example") as https:
        secure = await https.get("/healthz")
    async with client_for(app) as http:
        plain = await http.get("/healthz")

    assert secure.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "strict-transport-security" not in plain.headers
