"""GET /graphql in a browser: GraphiQL from this service's own files, or the console."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from settings import Settings
from tests.graphiql_assets import installed_graphiql_assets
from tests.http_clients import client_for
from web.app import create_app
from web.graphiql.assets import ASSETS, ASSETS_DIR_VARIABLE, assets_present, sha384_of
from web.graphiql.page import ide_page
from web.security_headers import ide_csp

HTML = {"Accept": "text/html"}


async def test_graphiql_loads_every_file_from_this_service_with_its_hash(
    db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ASSETS_DIR_VARIABLE, str(installed_graphiql_assets()))
    async with client_for(create_app(db, manage_database=False)) as client:
        page = await client.get("/graphql", headers=HTML)
        references = re.findall(r'(?:src|href)="([^"]+)" integrity="([^"]+)"', page.text)
        files = {url: await client.get(url) for url, _ in references}

    assert page.status_code == 200
    assert page.headers["content-security-policy"] == ide_csp(page.text)
    assert sorted(url for url, _ in references) == sorted(f"/graphiql/{a.name}" for a in ASSETS)
    for url, integrity in references:
        answer = files[url]
        assert answer.status_code == 200, url
        assert integrity == f"sha384-{sha384_of(answer.content)}"
    assert files["/graphiql/graphiql.min.css"].headers["content-type"].startswith("text/css")
    assert "javascript" in files["/graphiql/graphiql.min.js"].headers["content-type"]


async def test_without_graphiql_files_the_console_is_served_and_nothing_is_mounted(
    db: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ASSETS_DIR_VARIABLE, str(tmp_path))
    async with client_for(create_app(db, manage_database=False)) as client:
        page = await client.get("/graphql", headers=HTML)
        asset = await client.get("/graphiql/graphiql.min.js")

    assert page.status_code == 200
    assert "<h1>GraphQL console</h1>" in page.text
    assert "aize-analytics fetch-graphiql" in page.text
    assert page.headers["content-security-policy"] == ide_csp(page.text)
    assert re.findall(r'(?:src|href)="([^"]+)"', page.text) == ["data:,"]  # no favicon fetch
    assert asset.status_code == 404


def test_a_file_that_does_not_match_its_pinned_hash_means_the_console(tmp_path: Path) -> None:
    installed = installed_graphiql_assets()
    for asset in ASSETS:
        (tmp_path / asset.name).write_bytes((installed / asset.name).read_bytes())
    assert assets_present(tmp_path)
    assert ide_page(tmp_path).assets == tmp_path

    (tmp_path / "graphiql.min.js").write_bytes(b"alert('tampered')")

    assert not assets_present(tmp_path)
    page = ide_page(tmp_path)
    assert page.assets is None
    assert "GraphQL console" in page.html
