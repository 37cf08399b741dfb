"""The usage page's files: where they are served, under which policy, and that they use only
this origin and operations the public schema accepts (tests/test_usage_page_browser.py
drives the page itself)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from graphql import build_schema, parse, validate

from settings import Settings
from web.app import create_app
from web.security_headers import API_CSP
from web.usage_page.routes import STATIC_DIR

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = sorted((STATIC_DIR / "operations").glob("*.graphql"))
PAGE_FILES = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())
# The one absolute URL the page's code may hold: SVG's namespace, an identifier, not a fetch.
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


def _client() -> httpx.AsyncClient:
    app = create_app(Settings(), manage_database=False)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_the_service_address_and_usage_redirect_to_the_page() -> None:
    async with _client() as http:
        for path in ("/", "/usage"):
            response = await http.get(path)
            assert response.status_code == 307
            assert response.headers["location"] == "/usage/"


async def test_the_page_is_served_with_the_html_policy_and_its_files_without_a_token() -> None:
    async with _client() as http:
        page = await http.get("/usage/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "connect-src 'self'" in policy
        assert page.headers["cache-control"] == "no-store"
        for file in PAGE_FILES:
            served = await http.get(f"/usage/{file.relative_to(STATIC_DIR).as_posix()}")
            assert served.status_code == 200, file
            assert served.content == file.read_bytes()
        module = await http.get("/usage/js/main.js")
        assert module.headers["content-type"].startswith("text/javascript")


def test_the_page_loads_nothing_from_another_origin() -> None:
    absolute = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.IGNORECASE)
    for file in PAGE_FILES:
        text = file.read_text(encoding="utf-8").replace(SVG_NAMESPACE, "")
        assert absolute.findall(text) == [], file
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    # No inline script: the HTML policy allows scripts from this origin only.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def test_every_operation_is_valid_against_the_public_schema() -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text(encoding="utf-8"))
    assert [p.stem for p in OPERATIONS] == [
        "FilterOptions",
        "LiveCards",
        "LiveLogs",
        "RequestLogs",
        "UsagePage",
        "Viewer",
    ]
    for path in OPERATIONS:
        document = parse(path.read_text(encoding="utf-8"))
        assert validate(schema, document) == [], path.name
        # The file's operation is named as the file, as the page asks for it.
        names = [d.name.value for d in document.definitions if hasattr(d, "operation")]
        assert names == [path.stem]


def test_the_page_asks_only_for_operations_that_exist() -> None:
    code = "\n".join(p.read_text(encoding="utf-8") for p in (STATIC_DIR / "js").glob("*.js"))
    asked = set(re.findall(r'(?:query|subscribe)\([^,]+, "([A-Za-z]+)"', code))
    assert asked == {p.stem for p in OPERATIONS}


async def test_operation_files_are_served_as_utf8_text_with_the_security_headers() -> None:
    async with _client() as http:
        for path in OPERATIONS:
            served = await http.get(f"/usage/operations/{path.name}")
            assert served.status_code == 200, path.name
            assert served.headers["content-type"] == "text/plain; charset=utf-8", path.name
            assert served.text == path.read_text(encoding="utf-8")
            # Not HTML: the API's policy, and the headers every answer carries.
            assert served.headers["content-security-policy"] == API_CSP
            assert served.headers["x-content-type-options"] == "nosniff"
            assert served.headers["x-frame-options"] == "DENY"
            assert served.headers["referrer-policy"] == "no-referrer"
            assert served.headers["cache-control"] == "no-store"
        # A revalidation answered 304 still carries the headers, and no body.
        etag = (await http.get("/usage/operations/Viewer.graphql")).headers["etag"]
        again = await http.get("/usage/operations/Viewer.graphql", headers={"if-none-match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["x-content-type-options"] == "nosniff"
