"""GraphiQL in a real browser with the network off: it loads from this service alone, sends
the Authorization header from its Headers tab, runs a query and shows the answer, and runs a
subscription whose pushed figures replace each other in the result pane.

Also the built-in console, served when GraphiQL's files are not installed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, expect

from models.member import Role
from settings import Settings
from tests.browser import offline_browser
from tests.factories import make_ingest_token, make_key, make_member, make_org, make_token
from tests.graphiql_assets import installed_graphiql_assets
from tests.ingest_support import gateway_record, post_bulk
from tests.live_server import live_server
from tests.live_service import LiveServer, free_port
from web.app import create_app
from web.graphiql.assets import ASSETS_DIR_VARIABLE

QUERY = "{ viewer { role organization { name } } }"
# Generous: two busy cores, and GraphiQL's 3.5 MB script parses before the first paint.
UI_TIMEOUT_MS = 60_000


async def _owner_token(name: str) -> str:
    org = await make_org(name=name)
    return await make_token(await make_member(org, Role.OWNER))


async def _type_into_editor(page: Page, editor_selector: str, text: str) -> None:
    """Click into a GraphiQL editor, select everything in it and type `text` over it."""
    await page.locator(f"{editor_selector} .CodeMirror:visible").click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type(text)


async def test_graphiql_runs_a_query_with_the_header_and_no_network(
    db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ASSETS_DIR_VARIABLE, str(installed_graphiql_assets()))
    token = await _owner_token("Offline Org")
    app = create_app(db, manage_database=False)

    async with live_server(app) as base, offline_browser() as browser:
        page = await browser.context.new_page()
        failed: list[str] = []
        page.on("requestfailed", lambda request: failed.append(request.url))
        await page.goto(f"{base}/graphql")
        await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible(
            timeout=UI_TIMEOUT_MS
        )

        await page.get_by_role("button", name="Headers").click()
        # GraphiQL closes brackets and quotes as one types; typing the closing ones steps
        # over them, so the editor ends up holding exactly this text.
        await _type_into_editor(
            page, ".graphiql-editor-tool", f'{{"Authorization": "Bearer {token}"}}'
        )
        await _type_into_editor(page, ".graphiql-query-editor", QUERY)
        await page.locator(".graphiql-execute-button").click()

        result = page.locator(".graphiql-response")
        await expect(result).to_contain_text('"role": "OWNER"', timeout=UI_TIMEOUT_MS)
        await expect(result).to_contain_text('"name": "Offline Org"')
        assert browser.blocked == []
        assert failed == []


async def _open_graphiql_with_token(page: Page, url: str, token: str) -> None:
    await page.goto(url)
    await expect(page.locator(".graphiql-query-editor .CodeMirror")).to_be_visible(
        timeout=UI_TIMEOUT_MS
    )
    await page.get_by_role("button", name="Headers").click()
    await _type_into_editor(page, ".graphiql-editor-tool", f'{{"Authorization": "Bearer {token}"}}')


async def test_graphiql_runs_a_subscription_and_shows_pushed_figures(db: Settings) -> None:
    org = await make_org(name="Live Org")
    owner = await make_member(org, Role.OWNER)
    token = await make_token(owner)
    key = await make_key(org, owner)
    gateway = await make_ingest_token(org)
    # A real `serve` process: on PostgreSQL its NOTIFY listener brings the commits.
    server = LiveServer(
        db, free_port(), extra_env={ASSETS_DIR_VARIABLE: str(installed_graphiql_assets())}
    )
    await server.start()
    try:
        async with (
            offline_browser() as browser,
            httpx.AsyncClient(base_url=server.http_url) as http,
        ):
            page = await browser.context.new_page()
            sockets: list[str] = []
            page.on("websocket", lambda socket: sockets.append(socket.url))
            await _open_graphiql_with_token(page, f"{server.http_url}/graphql", token)
            # Closing braces are typed too: GraphiQL steps over the ones it inserted.
            await _type_into_editor(
                page,
                ".graphiql-query-editor",
                "subscription Cards { usage { totals { requests } } }",
            )
            # GraphiQL parses the editor 100 ms after the last key (debounced), then stores the
            # operation's name: run only once it knows the operation is this subscription.
            async with asyncio.timeout(UI_TIMEOUT_MS / 1000):
                while True:
                    stored = await page.evaluate("localStorage.getItem('graphiql:operationName')")
                    if stored == "Cards":
                        break
                    await asyncio.sleep(0.05)  # a poll with a deadline
            await page.locator(".graphiql-execute-button").click()

            result = page.locator(".graphiql-response")
            await expect(result).to_contain_text('"requests": 0', timeout=UI_TIMEOUT_MS)
            for sent in (1, 2):
                response = await post_bulk(http, gateway, [gateway_record(key)])
                assert response.status_code == 200
                # The pushed figures replace the previous ones in the pane.
                await expect(result).to_contain_text(f'"requests": {sent}', timeout=UI_TIMEOUT_MS)
                await expect(result).not_to_contain_text(f'"requests": {sent - 1}')

            assert sockets == [server.ws_url]
            assert browser.blocked == []
    finally:
        await server.stop()


async def test_the_console_runs_a_query_when_graphiql_is_not_installed(
    db: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ASSETS_DIR_VARIABLE, str(tmp_path))  # empty: no GraphiQL files
    token = await _owner_token("Console Org")
    app = create_app(db, manage_database=False)

    async with live_server(app) as base, offline_browser() as browser:
        page = await browser.context.new_page()
        await page.goto(f"{base}/graphql")
        await expect(page.get_by_role("heading", name="GraphQL console")).to_be_visible()

        await page.get_by_label("Headers (JSON)").fill(f'{{"Authorization": "Bearer {token}"}}')
        await page.get_by_label("Query").fill(QUERY)
        await page.get_by_role("button", name="Run").click()

        result = page.locator("#result")
        await expect(result).to_contain_text('"role": "OWNER"', timeout=UI_TIMEOUT_MS)
        await expect(result).to_contain_text('"name": "Console Org"')
        assert browser.blocked == []
