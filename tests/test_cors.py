"""CORS: dashboard origins from AIZE_CORS_ORIGINS may call the API from a browser."""

from __future__ import annotations

import dataclasses

import httpx
from starlette.applications import Starlette

from models.member import Role
from settings import Settings
from tests.factories import make_member, make_org, make_token
from tests.http_clients import client_for
from web.app import create_app

DASHBOARD = "https://dashboard.example.com"


def _app(db: Settings) -> Starlette:
    return create_app(dataclasses.replace(db, cors_origins=(DASHBOARD,)), manage_database=False)


async def _preflight(http: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await http.options(
        "/graphql",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


def test_origins_come_from_a_comma_separated_setting() -> None:
    settings = Settings.from_env({"AIZE_CORS_ORIGINS": f"{DASHBOARD}, https://bi.example.com ,"})
    assert settings.cors_origins == (DASHBOARD, "https://bi.example.com")


async def test_a_preflight_from_an_allowed_origin_is_accepted(db: Settings) -> None:
    async with client_for(_app(db)) as http:
        response = await _preflight(http, DASHBOARD)

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "content-type"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in response.headers


async def test_a_preflight_from_another_origin_is_refused(db: Settings) -> None:
    async with client_for(_app(db)) as http:
        response = await _preflight(http, "https://evil.example.net")

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_without_configured_origins_no_browser_origin_is_allowed(db: Settings) -> None:
    async with client_for(create_app(db, manage_database=False)) as http:
        response = await _preflight(http, DASHBOARD)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_an_allowed_origin_can_read_the_answer_and_its_rate_limit_headers(
    db: Settings,
) -> None:
    org = await make_org()
    token = await make_token(await make_member(org, Role.OWNER))
    async with client_for(_app(db)) as http:
        response = await http.post(
            "/graphql",
            json={"query": "{ viewer { role } }"},
            headers={"Origin": DASHBOARD, "Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= exposed


async def test_a_401_to_an_allowed_origin_is_readable_by_the_dashboard(db: Settings) -> None:
    async with client_for(_app(db)) as http:
        response = await http.post(
            "/graphql", json={"query": "{ viewer { role } }"}, headers={"Origin": DASHBOARD}
        )
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == DASHBOARD
