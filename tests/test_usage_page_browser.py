"""The usage page in headless Chromium, network cut off, against a real `serve` process on the
seeded demo: each role's page, its numbers against the API's for the same filters, the
filters and "Load more", a Member's privacy, and a request appearing without a reload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect

from cli.demo_data import DemoTokens, seed_demo
from models.api_key import ApiKey
from tests.browser import OfflineBrowser, offline_browser
from tests.ingest_support import gateway_record, post_bulk
from tests.live_service import LiveServer, live_server
from web.usage_page.routes import STATIC_DIR

__all__ = ["live_server"]

# Enough for two pages of logs in the ranges below; seeding takes a few seconds.
DEMO_REQUESTS = 2500
# Generous: two busy cores shared with other work.
UI_TIMEOUT_MS = 60_000
# The browser's zone: not the demo organization's (America/New_York), 10h45 or 9h45 away from
# it, so a custom range read in the browser's zone would ask about other instants.
BROWSER_ZONE = "Asia/Kathmandu"
TEAM_CONTROLS = ("#user", "#breakdowns", "#exports", "#card-wallet")
CARD_FIELDS = {
    "v-requests": "requests",
    "v-successful": "successful",
    "v-failed": "failed",
    "v-total-tokens": "totalTokens",
    "v-input-tokens": "inputTokens",
    "v-output-tokens": "outputTokens",
    "v-customer-cost": "customerCost",
    "v-provider-cost": "providerCost",
    "v-markup": "markup",
    "v-fixed-fees": "fixedFees",
    "v-average-cost": "averageCostPerRequest",
    "v-success-rate": "successRate",
    "v-client-errors": "clientErrors",
    "v-server-errors": "serverErrors",
}


@dataclass
class Demo:
    tokens: DemoTokens
    server: LiveServer
    browser: OfflineBrowser

    async def api(self, token: str, operation: str, **variables: Any) -> dict[str, Any]:
        """The page's own operation file, sent by this test: the API's answer."""
        text = (STATIC_DIR / "operations" / f"{operation}.graphql").read_text()
        async with httpx.AsyncClient(base_url=self.server.http_url, timeout=60) as http:
            response = await http.post(
                "/graphql",
                json={"query": text, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
        body = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def open(self, token: str) -> Page:
        page = await self.browser.context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        await page.goto(f"{self.server.http_url}/")  # redirected to /usage/
        await page.get_by_label("Access token").fill(token)
        await page.get_by_role("button", name="Open").click()
        await ready(page)
        assert errors == []
        return page


@pytest.fixture
async def demo(live_server: LiveServer) -> AsyncIterator[Demo]:
    tokens = await seed_demo(DEMO_REQUESTS)
    async with offline_browser(timezone_id=BROWSER_ZONE) as browser:
        yield Demo(tokens, live_server, browser)
        assert browser.blocked == []


async def ready(page: Page) -> None:
    body = page.locator("body")
    await expect(body).to_have_attribute("data-state", "ready", timeout=UI_TIMEOUT_MS)


async def value(page: Page, selector: str) -> str | None:
    return await page.locator(selector).get_attribute("data-value")


async def choose_custom_range(
    page: Page, days: int, zone: str = "America/New_York"
) -> dict[str, str]:
    """A fixed range (the last `days` days to an hour ahead) typed as wall-clock times of
    `zone` (the organization's; the page reads them so): the page and the test then ask about
    exactly the same instants, whenever each asks. Returns those instants, read with zoneinfo
    (fold=0, as the page does)."""
    now = datetime.now(ZoneInfo(zone)).replace(second=0, microsecond=0, tzinfo=None)
    start, end = now - timedelta(days=days), now + timedelta(hours=1)
    await page.get_by_label("Time period").select_option("CUSTOM")
    await page.locator("#range-from").fill(start.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_label("To", exact=True).fill(end.strftime("%Y-%m-%dT%H:%M"))
    return {
        "from": start.replace(tzinfo=ZoneInfo(zone)).isoformat(),
        "to": end.replace(tzinfo=ZoneInfo(zone)).isoformat(),
    }


async def apply(page: Page) -> None:
    await page.evaluate("document.body.dataset.state = 'waiting'")
    await page.get_by_role("button", name="Apply filters").click()
    await ready(page)


async def page_range(page: Page) -> dict[str, str]:
    shown = page.locator("#range-text")
    start, end = await shown.get_attribute("data-from"), await shown.get_attribute("data-to")
    assert start is not None and end is not None
    return {"from": start, "to": end}


async def shown_request_ids(page: Page) -> list[str | None]:
    rows = page.locator("#log-rows tr[data-request-id]")
    return [await rows.nth(i).get_attribute("data-request-id") for i in range(await rows.count())]


async def api_request_ids(demo: Demo, token: str, flt: dict[str, Any], pages: int) -> list[str]:
    ids: list[str] = []
    after = None
    for _ in range(pages):
        logs = (await demo.api(token, "RequestLogs", filter=flt, after=after))["organization"][
            "requestLogs"
        ]
        ids += [edge["node"]["requestId"] for edge in logs["edges"]]
        after = logs["pageInfo"]["endCursor"]
    return ids


async def test_the_page_loads_with_each_demo_role(demo: Demo) -> None:
    # An unknown token: the service's reason, and the token is not kept.
    page = await demo.browser.context.new_page()
    await page.goto(f"{demo.server.http_url}/usage/")
    await page.get_by_label("Access token").fill("aize_not-a-real-token-at-all")
    await page.get_by_role("button", name="Open").click()
    await expect(page.get_by_role("alert")).not_to_be_empty(timeout=UI_TIMEOUT_MS)
    await expect(page.get_by_label("Access token")).to_be_visible()
    assert await page.evaluate("sessionStorage.length") == 0
    await page.close()

    for token, role, team in (
        (demo.tokens.owner, "OWNER", True),
        (demo.tokens.admin, "ADMIN", True),
        (demo.tokens.member, "MEMBER", False),
    ):
        page = await demo.open(token)
        await expect(page.locator("#who-text")).to_contain_text(f"{role} · Acme AI")
        await expect(page.get_by_role("heading", name="Request logs")).to_be_visible()
        assert len(await shown_request_ids(page)) == 50
        for selector in TEAM_CONTROLS:
            await expect(page.locator(selector)).to_have_count(1 if team else 0)
            if team:
                await expect(page.locator(selector)).to_be_visible()
        # The token stays in this tab only.
        stored = await page.evaluate("[sessionStorage.length, localStorage.length]")
        assert stored == [1, 0]
        await page.close()


async def test_the_cards_and_charts_equal_the_api_for_the_same_filters(demo: Demo) -> None:
    page = await demo.open(demo.tokens.owner)
    await choose_custom_range(page, days=20)
    await page.get_by_label("Status").select_option("SUCCESS")
    await apply(page)
    flt = {**await page_range(page), "statusClasses": ["SUCCESS"]}
    answer = await demo.api(
        demo.tokens.owner, "UsagePage", filter=flt, granularity="DAY", team=True
    )
    organization = answer["organization"]
    usage = organization["usage"]
    totals = usage["totals"]
    assert totals["requests"] > 0
    for element, field in CARD_FIELDS.items():
        assert await value(page, f"#{element}") == str(totals[field]), element
    whole, fraction = totals["customerCost"].split(".")
    await expect(page.locator("#v-customer-cost")).to_have_text(f"${int(whole):,}.{fraction}")
    latency = usage["latency"]
    for element, field in (("v-p50", "p50Ms"), ("v-p95", "p95Ms"), ("v-p99", "p99Ms")):
        assert await value(page, f"#{element}") == str(latency[field])
    assert await value(page, "#v-latency-average") == latency["averageMs"]
    spend = organization["currentSpend"]
    assert await value(page, "#v-spend") == spend["spend"]
    assert await value(page, "#spend-bar") == spend["percentUsed"]
    await expect(page.locator("#spend-bar")).to_have_class(f"spend-bar {spend['status'].lower()}")
    assert await value(page, "#v-balance") == organization["wallet"]["balance"]
    bars = page.locator("#trend rect.bar")
    shown = [await bars.nth(i).get_attribute("data-value") for i in range(await bars.count())]
    assert shown == usage["trend"]["columns"]["customerCost"]
    for table, groups in (("#by-model", usage["byModel"]), ("#by-member", usage["byMember"])):
        rows = page.locator(f"{table} tbody tr")
        costs = [await rows.nth(i).get_attribute("data-cost") for i in range(await rows.count())]
        assert costs == [g["totals"]["customerCost"] for g in groups]
    # Trend granularity: the same range per week.
    await page.evaluate("document.body.dataset.state = 'waiting'")
    await page.get_by_label("Granularity").select_option("WEEK")
    await ready(page)
    weekly = await demo.api(
        demo.tokens.owner, "UsagePage", filter=flt, granularity="WEEK", team=True
    )
    weekly_requests = weekly["organization"]["usage"]["trend"]["columns"]["requests"]
    await page.get_by_label("Metric", exact=True).select_option("requests")
    shown = [await bars.nth(i).get_attribute("data-value") for i in range(await bars.count())]
    assert shown == [str(n) for n in weekly_requests]


async def test_filters_and_load_more_show_the_apis_logs(demo: Demo) -> None:
    token = demo.tokens.owner
    page = await demo.open(token)
    await choose_custom_range(page, days=60)
    await apply(page)
    flt = await page_range(page)
    expected = await api_request_ids(demo, token, flt, pages=2)
    assert len(expected) == 100
    assert await shown_request_ids(page) == expected[:50]
    await page.evaluate("document.body.dataset.state = 'waiting'")
    await page.get_by_role("button", name="Load more").click()
    await ready(page)
    assert await shown_request_ids(page) == expected

    # A model, a key and a status class narrow it exactly as the API does.
    model = (await page.locator("#model option").all())[1]
    model_name = await model.get_attribute("value")
    await page.get_by_label("Model").select_option(model_name)
    await page.get_by_label("Status").select_option("CLIENT_ERROR")
    await apply(page)
    narrowed = {**flt, "models": [model_name], "statusClasses": ["CLIENT_ERROR"]}
    logs = (await demo.api(token, "RequestLogs", filter=narrowed))["organization"]["requestLogs"]
    assert await value(page, "#logs-count") == str(logs["totalCount"])
    assert await shown_request_ids(page) == [e["node"]["requestId"] for e in logs["edges"]]
    assert {e["node"]["statusCode"] // 100 for e in logs["edges"]} <= {4}
    usage = await demo.api(token, "UsagePage", filter=narrowed, granularity="DAY", team=True)
    errors = usage["organization"]["usage"]["errors"]
    assert await value(page, "#v-client-errors") == str(errors["failedRequests"])
    shown_codes = await page.locator("#errors-by-status tbody th").all_text_contents()
    assert shown_codes == [str(g["statusCode"]) for g in errors["byStatusCode"]]
    shown_messages = await page.locator("#errors-by-pattern tbody th").all_text_contents()
    assert shown_messages == [g["sampleMessage"] or g["pattern"] for g in errors["byPattern"]]

    # The expandable metadata of the first row.
    toggle = page.locator(".details-toggle").first
    await toggle.click()
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    details = page.locator("tr.details").first
    await expect(details).to_be_visible()
    if logs["edges"]:
        await expect(details).to_contain_text(logs["edges"][0]["node"]["requestId"])


async def test_a_member_sees_only_their_own_requests_and_no_team_controls(demo: Demo) -> None:
    token = demo.tokens.member
    page = await demo.open(token)
    viewer = (await demo.api(token, "Viewer"))["viewer"]
    await choose_custom_range(page, days=90)
    await apply(page)
    flt = await page_range(page)
    logs = (await demo.api(token, "RequestLogs", filter=flt))["organization"]["requestLogs"]
    assert logs["totalCount"] > 0
    assert await value(page, "#logs-count") == str(logs["totalCount"])
    users = await page.locator("#log-rows td.user").all_text_contents()
    assert users and set(users) == {viewer["member"]["name"]}
    usage = await demo.api(token, "UsagePage", filter=flt, granularity="DAY", team=False)
    requests = usage["organization"]["usage"]["totals"]["requests"]
    assert await value(page, "#v-requests") == str(requests)
    for selector in TEAM_CONTROLS:
        await expect(page.locator(selector)).to_have_count(0)
    await expect(page.get_by_role("button", name="Export CSV")).to_have_count(0)
    # Only their own keys to choose from.
    keys = (await demo.api(token, "FilterOptions", team=False))["organization"]["apiKeys"]
    assert await page.locator("#api-key option").count() == len(keys) + 1

    # A reversed range: the API's own message, where the user sees it; the figures stay.
    await page.locator("#range-from").fill("2026-03-05T00:00")
    await page.get_by_label("To", exact=True).fill("2026-03-01T00:00")
    await page.get_by_role("button", name="Apply filters").click()
    await expect(page.get_by_role("alert")).to_contain_text(
        "must be before 'to'", timeout=UI_TIMEOUT_MS
    )
    assert await value(page, "#v-requests") == str(requests)


async def test_an_ingested_request_appears_without_a_reload(demo: Demo) -> None:
    page = await demo.open(demo.tokens.owner)
    await expect(page.locator("body")).to_have_attribute("data-live", "on", timeout=UI_TIMEOUT_MS)
    before = int(await value(page, "#v-requests") or "0")
    key = await ApiKey.get(label="Production backend", organization__name="Acme AI")
    record = gateway_record(key, timestamp=(datetime.now(UTC) - timedelta(minutes=1)).isoformat())
    async with httpx.AsyncClient(base_url=demo.server.http_url) as http:
        sent = await post_bulk(http, demo.tokens.ingest, [record])
    assert sent.status_code == 200
    assert sent.json()["accepted"] == 1
    row = page.locator(f'#log-rows tr[data-request-id="{record["requestId"]}"]')
    await expect(row).to_be_visible(timeout=UI_TIMEOUT_MS)
    await expect(page.locator("#v-requests")).to_have_attribute(
        "data-value", str(before + 1), timeout=UI_TIMEOUT_MS
    )
    # The new row is the newest, at the top.
    assert (await shown_request_ids(page))[0] == record["requestId"]


async def test_export_buttons_download_the_filtered_logs(demo: Demo) -> None:
    page = await demo.open(demo.tokens.admin)
    await choose_custom_range(page, days=30)
    await page.get_by_label("Status").select_option("SERVER_ERROR")
    await apply(page)
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Export CSV").click()
    download = await waiting.value
    assert download.suggested_filename.endswith(".csv")
    lines = (await download.path()).read_text(encoding="utf-8").splitlines()
    assert len(lines) - 1 == int(await value(page, "#logs-count") or "-1")


def _instant(text: str) -> datetime:
    """An RFC 3339 instant (with an offset or Z) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_a_custom_range_is_read_in_the_organizations_timezone(demo: Demo) -> None:
    token = demo.tokens.owner
    zone = (await demo.api(token, "Viewer"))["viewer"]["organization"]["timezone"]
    assert zone == "America/New_York"
    page = await demo.open(token)
    # The browser's own clock is Kathmandu's (+05:45; ICU names it "Asia/Katmandu").
    noon = await page.evaluate("new Date(2026, 11, 7, 12, 0).toISOString()")
    assert noon == "2026-12-07T06:15:00.000Z"
    await expect(page.locator("label[for=range-from]")).to_have_text(f"From ({zone} time)")

    expected = await choose_custom_range(page, days=20, zone=zone)
    await apply(page)
    asked = await page_range(page)
    # The page asked about the org's wall-clock times (computed here with zoneinfo).
    assert _instant(asked["from"]) == _instant(expected["from"])
    assert _instant(asked["to"]) == _instant(expected["to"])
    answer = await demo.api(token, "UsagePage", filter=expected, granularity="DAY", team=True)
    totals = answer["organization"]["usage"]["totals"]
    assert totals["requests"] > 0
    for element, field in CARD_FIELDS.items():
        assert await value(page, f"#{element}") == str(totals[field]), element
    logs = (await demo.api(token, "RequestLogs", filter=expected))["organization"]["requestLogs"]
    assert await value(page, "#logs-count") == str(logs["totalCount"])
    assert await shown_request_ids(page) == [e["node"]["requestId"] for e in logs["edges"]]

    # The same wall-clock times in the browser's zone (the page's old reading) are other
    # instants, with other figures: the assertions above tell the two apart.
    naive = {b: _instant(t).replace(tzinfo=None) for b, t in expected.items()}
    in_browser_zone = {
        b: t.replace(tzinfo=ZoneInfo(BROWSER_ZONE)).isoformat() for b, t in naive.items()
    }
    other = await demo.api(token, "RequestLogs", filter=in_browser_zone)
    assert other["organization"]["requestLogs"]["totalCount"] != logs["totalCount"]


# Wall-clock times and zones, with the DST gap and overlap of New York and Lord Howe (a
# 30-minute shift), half- and quarter-hour zones, and Chatham (+12:45 / +13:45).
ZONED_CASES = [
    ("2026-11-01T01:30", "America/New_York"),  # repeated: the earlier (EDT) instant
    ("2026-11-01T00:59", "America/New_York"),
    ("2026-11-01T02:00", "America/New_York"),
    ("2026-03-08T02:30", "America/New_York"),  # skipped: read as EST, i.e. 03:30 EDT
    ("2026-03-08T01:59", "America/New_York"),
    ("2026-03-08T03:00", "America/New_York"),
    ("2026-12-07T10:00", "Asia/Kolkata"),
    ("2026-12-07T00:10", "Asia/Kathmandu"),
    ("2026-10-04T02:15", "Australia/Lord_Howe"),  # skipped (02:00 -> 02:30)
    ("2026-04-05T01:45", "Australia/Lord_Howe"),  # repeated (02:00 -> 01:30)
    ("2026-09-27T02:45", "Pacific/Chatham"),  # skipped (02:45 -> 03:45)
    ("2026-04-05T03:00", "Pacific/Chatham"),  # repeated
    ("2026-03-29T02:30", "Europe/Berlin"),  # skipped
    ("2026-10-25T02:30", "Europe/Berlin"),  # repeated
    ("2026-12-07T23:59", "UTC"),
]


async def test_wall_clock_times_become_the_instants_zoneinfo_gives(demo: Demo) -> None:
    """The page's conversion (format.js `zonedInstant`, run in the browser, whose own zone is
    BROWSER_ZONE) against Python's zoneinfo with fold=0: the same instant, written with the
    offset in force at it."""
    page = await demo.open(demo.tokens.owner)
    shown = await page.evaluate(
        """async (cases) => {
            const { zonedInstant } = await import("/usage/js/format.js");
            return cases.map(([wall, zone]) => zonedInstant(wall, zone));
        }""",
        ZONED_CASES,
    )
    for (wall, zone), text in zip(ZONED_CASES, shown, strict=True):
        local = datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo(zone))
        normalized = local.astimezone(UTC).astimezone(ZoneInfo(zone))
        assert text == normalized.isoformat(), (wall, zone)
    assert shown[0] == "2026-11-01T01:30:00-04:00"
    assert shown[3] == "2026-03-08T03:30:00-04:00"
    assert shown[7] == "2026-12-07T00:10:00+05:45"
