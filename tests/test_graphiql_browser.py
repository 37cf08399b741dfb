"""GraphiQL in a real browser with the network off: it loads from this service alone, sends
the Authorization header from its Headers tab, runs a query and shows the answer.

Also the built-in console, served when GraphiQL's files are not installed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from graph.app import create_app
from graph.graphiql.assets import ASSETS_DIR_VARIABLE
from models.member import Role
from settings import Settings
from tests.browser import offline_browser
from tests.factories import make_member, make_org, make_token
from tests.graphiql_assets import installed_graphiql_assets
from tests.live_server import live_server

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
