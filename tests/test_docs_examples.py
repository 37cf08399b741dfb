"""Every example in README.md and docs/readme/*.md runs as printed against the demo.

One small demo (cli/demo_data.py, seeded now) per page serves that page's examples; they run
in the order a reader meets them, each with the token its marker names (tests/docs_examples.py
says how blocks are found and marked). A new page in docs/readme/ is picked up by itself.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from cli.demo_data import DemoTokens, seed_demo
from settings import Settings
from tests.conftest import clear_tables
from tests.docs_examples import ALL_EXAMPLES, Example, run_shell
from web.app import create_app

DEMO_REQUESTS = 1500


class DemoPerPage:
    """The demo as a reader finds it after `serve --demo`, once per page: seeded afresh when
    the examples move on to another page, so that what one page changes (a transfer of
    ownership, a renamed organization, new settings) never decides whether another runs.
    Within a page the examples share one demo, in the order they are printed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.page: str | None = None
        self.tokens: DemoTokens | None = None

    async def for_page(self, page: str) -> DemoTokens:
        """The demo's tokens for `page`'s examples (a fresh demo unless it is the last page's)."""
        if self.tokens is None or page != self.page:
            await clear_tables(self.settings)
            self.tokens = await seed_demo(DEMO_REQUESTS)
            self.page = page
        return self.tokens


@pytest.fixture(scope="module")
def demos(database: Settings) -> DemoPerPage:
    """One demo per page for the module's examples (they run in order against it)."""
    return DemoPerPage(database)


@pytest.fixture
async def demo_client(database: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A new app per example: each starts with full rate-limit budgets, as a reader's
    example, run by hand, would."""
    app: Starlette = create_app(database, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http


def _shell_env(demo: DemoTokens, role: str, home: Path) -> dict[str, str]:
    """What a reader's shell has after `serve --demo`: its `export` line (the Owner's token,
    or the role the example is marked with, as $AIZE_TOKEN)."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "AIZE_TOKEN": _token(demo, role) if role != "ingest" else demo.owner,
        "AIZE_INGEST_TOKEN": demo.ingest,
        "AIZE_DIRECTORY_TOKEN": demo.directory,
    }


def _token(demo: DemoTokens, role: str) -> str:
    token: str = getattr(demo, role)
    return token


def test_every_doc_has_its_examples_found() -> None:
    docs = {example.doc for example in ALL_EXAMPLES}

    assert {"README.md", "docs/readme/usage.md", "docs/readme/gateway.md"} <= docs
    assert [e.name for e in ALL_EXAMPLES if e.not_run == ""] == [], "a not-run marker says why"


@pytest.mark.parametrize("example", ALL_EXAMPLES, ids=lambda e: e.name)
async def test_example_runs_against_the_demo(
    demos: DemoPerPage, demo_client: httpx.AsyncClient, example: Example, tmp_path: Path
) -> None:
    if example.not_run is not None:
        return  # marked in the doc, with its reason (test_every_doc_has_its_examples_found)
    demo = await demos.for_page(example.doc)
    token = _token(demo, example.role)
    if example.language == "graphql":
        response = await demo_client.post(
            "/graphql",
            json={"query": example.text, "variables": example.variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        body = response.json()
        assert body.get("errors") is None, body["errors"]
        assert response.status_code == 200 and body["data"]
        assert "UNKNOWN_KEY" not in response.text, "the example names a key the demo has"
        return
    calls = run_shell(example.text, tmp_path, _shell_env(demo, example.role, tmp_path))
    assert calls, "a shell example calls curl at least once"
    for call in calls:
        response = await demo_client.request(
            call.method, call.path, headers=call.headers, content=call.body
        )
        assert response.status_code == 200, (call.path, response.text)
        if call.path == "/graphql":
            assert response.json().get("errors") is None, response.text
            assert "UNKNOWN_KEY" not in response.text, "the example names a key the demo has"
        if call.path == "/ingest/bulk":
            verdict: dict[str, Any] = response.json()
            lines = [line for line in (call.body or b"").splitlines() if line.strip()]
            assert verdict["rejected"] == [], verdict
            assert verdict["accepted"] + verdict["duplicates"] == len(lines) > 0


async def test_the_quick_start_query_answers_owner_of_acme(
    demos: DemoPerPage, demo_client: httpx.AsyncClient
) -> None:
    demo = await demos.for_page("README.md")
    response = await demo_client.post(
        "/graphql",
        json={"query": "{ viewer { role organization { name } } }"},
        headers={"Authorization": f"Bearer {demo.owner}"},
    )

    assert response.json()["data"] == {
        "viewer": {"role": "OWNER", "organization": {"name": "Acme AI"}}
    }


async def test_the_documented_key_access_answer_is_what_the_demo_answers(
    demos: DemoPerPage, demo_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    [example] = [e for e in ALL_EXAMPLES if e.doc.endswith("spend.md") and "keyAccess" in e.text]
    demo = await demos.for_page(example.doc)
    assert example.shown is not None
    shown = json.loads(example.shown)["data"]["keyAccess"]
    [call] = run_shell(example.text, tmp_path, _shell_env(demo, "owner", tmp_path))

    response = await demo_client.post(call.path, headers=call.headers, content=call.body)

    answer = response.json()["data"]["keyAccess"]
    # The balance is whatever the demo's wallet holds when it runs; the rest is the demo's.
    assert {**answer, "balance": None} == {**shown, "balance": None}
    assert answer["denial"] == "KEY_REVOKED"


async def test_the_readme_cached_request_costs_what_the_readme_shows(
    demos: DemoPerPage, demo_client: httpx.AsyncClient, tmp_path: Path
) -> None:
    [ingest] = [e for e in ALL_EXAMPLES if e.doc == "README.md" and "cache_read_input" in e.text]
    [query] = [e for e in ALL_EXAMPLES if e.doc == "README.md" and "CachedRequest" in e.text]
    # A demo of its own: the README's other examples may have ingested the record already.
    demo = await demos.for_page("README.md (cached request)")
    assert query.shown is not None
    for call in run_shell(ingest.text, tmp_path, _shell_env(demo, "ingest", tmp_path)):
        response = await demo_client.request(
            call.method, call.path, headers=call.headers, content=call.body
        )
        assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}

    response = await demo_client.post(
        "/graphql",
        json={"query": query.text},
        headers={"Authorization": f"Bearer {demo.owner}"},
    )

    assert response.json()["data"] == json.loads(query.shown)["data"]
