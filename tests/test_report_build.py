"""A weekly report renders (HTML with inline SVG, escaped; CSV) and its numbers equal the
API's `usage` for the same period."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from cli.demo_data import seed_demo
from models.member import Role
from models.organization import Organization
from models.report import Report, ReportKind
from pricing.money import usd_to_nanos
from reports.builder import build_report
from reports.csv import REPORT_COLUMNS, render_csv
from reports.html import render_html
from reports.periods import period_containing, previous_period, report_period
from reports.producer import produce_report
from resolvers.current_spend import budget_status
from resolvers.error_analysis import normalize_error_message
from resolvers.periods import TimeRange
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 6 May 2024 to Monday 13 May 2024, Berlin time.
WEEK = report_period(ReportKind.WEEKLY, date(2024, 5, 8), BERLIN)
GENERATED = datetime(2024, 5, 13, 0, 30, tzinfo=BERLIN)

USAGE = """
query Usage($filter: UsageFilter) {
  organization { usage(filter: $filter) {
    totals { requests failed errorRate totalTokens customerCost providerCost }
    models: breakdown(by: [MODEL], limit: 10) { model totals { requests customerCost } }
    keys: breakdown(by: [API_KEY], limit: 10) { apiKey { id label } totals { customerCost } }
    members: breakdown(by: [MEMBER], limit: 10) {
      member { id name } hasMember totals { customerCost }
    }
    trend(granularity: DAY) { buckets { start totals { requests customerCost } } }
    tags: breakdown(by: [TAG], limit: 10) { tag totals { requests customerCost } }
  } }
}
"""


@pytest.fixture
async def org(db: object) -> Organization:
    """A Berlin team with a `<script>` key label, a budget, and logs in and before the week."""
    org = await make_org(
        timezone="Europe/Berlin",
        markup_bps=2500,
        fixed_fee_nanos=10_000_000,
        monthly_budget_nanos=2_000_000_000,
    )
    owner = await make_member(org, Role.OWNER, name="Olga")
    alice = await make_member(org, Role.MEMBER, name='Alice "A&B"')
    evil_key = await make_key(org, alice, label="<script>alert(1)</script>")
    team_key = await make_key(org, None, label="=Team key")
    start = WEEK.start
    records = []
    for hour in range(0, 7 * 24, 7):
        at = start + timedelta(hours=hour, minutes=3)
        tags = ("customer:acme", "feature:chat") if hour % 2 else ("feature:chat",)
        records.append(make_record(org, evil_key, alice, at, model="gpt-4", tags=tags))
        records.append(
            make_record(
                org,
                team_key,
                owner if hour % 2 else None,
                at,
                model="<b>gpt-4o</b>",
                status_code=429 if hour % 3 == 0 else 200,
                error_message="Rate limit exceeded for key 'k-1', retry in 20s",
            )
        )
    # The previous week, and the minute just outside each end of this one.
    records.append(make_record(org, evil_key, alice, start - timedelta(days=2)))
    records.append(make_record(org, evil_key, alice, start - timedelta(microseconds=1)))
    records.append(make_record(org, evil_key, alice, WEEK.end))
    await store(*records)
    return org


async def _api_usage(
    client: httpx.AsyncClient, org: Organization, period: TimeRange
) -> dict[str, Any]:
    owner = await org.members.filter(role=Role.OWNER).first()
    assert owner is not None
    tz = ZoneInfo(org.timezone)
    result = await gql(
        client,
        await make_token(owner),
        USAGE,
        filter={
            "from": period.start.astimezone(tz).isoformat(),
            "to": period.end.astimezone(tz).isoformat(),
            "timezone": org.timezone,
        },
    )
    assert result.errors is None, result.errors
    usage: dict[str, Any] = result.data["organization"]["usage"]  # type: ignore[index]
    return usage


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def _section(rows: list[dict[str, str]], name: str) -> list[dict[str, str]]:
    return [r for r in rows if r["section"] == name]


async def test_a_weekly_report_renders_html_with_inline_svg_charts(org: Organization) -> None:
    html = render_html(await build_report(org, ReportKind.WEEKLY, WEEK, GENERATED))

    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") == 2
    assert "Weekly cost report" in html
    assert "06 May 2024 to 12 May 2024" in html
    assert "Europe/Berlin" in html


async def test_user_text_is_escaped_in_the_html(org: Organization) -> None:
    html = render_html(await build_report(org, ReportKind.WEEKLY, WEEK, GENERATED))

    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>gpt-4o</b>" not in html
    assert "&lt;b&gt;gpt-4o&lt;/b&gt;" in html
    # Jinja2's autoescape writes a double quote as &#34; (html.escape wrote &quot;).
    assert "Alice &#34;A&amp;B&#34;" in html


HOSTILE = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


async def test_hostile_organization_member_and_model_names_stay_text(db: object) -> None:
    org = await make_org(name=f"Org {HOSTILE}", timezone="Europe/Berlin")
    member = await make_member(org, Role.MEMBER, name=f"Mallory {HOSTILE}")
    key = await make_key(org, member, label=f"Key {HOSTILE}")
    at = WEEK.start + timedelta(hours=30)
    await store(
        make_record(org, key, member, at, model=f"model {HOSTILE}"),
        make_record(org, key, member, at, status_code=500, error_message=f"boom {HOSTILE}"),
    )

    page = _ParsedPage(render_html(await build_report(org, ReportKind.WEEKLY, WEEK, GENERATED)))

    # Only the report's own markup: no element, attribute or script came from the names.
    assert page.tags <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "strong",
        "table", "thead", "tbody", "tr", "th", "td",
        "svg", "text", "line", "rect", "circle", "polyline",
    }  # fmt: skip
    assert "img" not in page.tags and "script" not in page.tags
    assert not any(name.startswith("on") for name in page.attributes)
    # ... and each name reads back exactly as stored.
    assert f"Org {HOSTILE}: Weekly cost report" in page.texts
    assert f"Mallory {HOSTILE}" in page.texts
    assert f"Key {HOSTILE}" in page.texts
    assert f"model {HOSTILE}" in page.texts
    # Error messages are listed by pattern, which adds its own <num>/<str> placeholders.
    assert normalize_error_message(f"boom {HOSTILE}") in page.texts


class _ParsedPage(HTMLParser):
    """Every tag, attribute name and text node of a page, as a browser's tokenizer sees them."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.texts: list[str] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


async def test_the_weekly_reports_numbers_equal_the_apis_usage_for_the_week(
    client: httpx.AsyncClient, org: Organization
) -> None:
    api = await _api_usage(client, org, WEEK)

    rows = _csv(render_csv(await build_report(org, ReportKind.WEEKLY, WEEK, GENERATED)))

    [total] = _section(rows, "total")
    # Berlin's wall clock without an offset, the same instants in UTC beside it.
    assert total["periodStart"] == "2024-05-06T00:00:00.000000"
    assert total["periodEnd"] == "2024-05-13T00:00:00.000000"
    assert total["periodStartUtc"] == "2024-05-05T22:00:00.000000+00:00"
    assert total["periodEndUtc"] == "2024-05-12T22:00:00.000000+00:00"
    for name in ("requests", "failed", "errorRate", "totalTokens", "customerCost", "providerCost"):
        assert total[name] == str(api["totals"][name]), name
    models = _section(rows, "model")
    assert [(m["item"], m["requests"], m["customerCost"]) for m in models] == [
        (g["model"], str(g["totals"]["requests"]), g["totals"]["customerCost"])
        for g in api["models"]
    ]
    keys = _section(rows, "apiKey")
    assert [(k["itemId"], k["customerCost"]) for k in keys] == [
        (g["apiKey"]["id"], g["totals"]["customerCost"]) for g in api["keys"]
    ]
    assert {k["item"] for k in keys} == {"<script>alert(1)</script>", "'=Team key"}
    members = _section(rows, "member")
    assert [(m["itemId"], m["customerCost"]) for m in members] == [
        (g["member"]["id"] if g["hasMember"] else "", g["totals"]["customerCost"])
        for g in api["members"]
    ]
    tags = _section(rows, "tag")
    assert [(t["item"], t["requests"], t["customerCost"]) for t in tags] == [
        (g["tag"] or "(untagged)", str(g["totals"]["requests"]), g["totals"]["customerCost"])
        for g in api["tags"]
    ]
    assert {t["item"] for t in tags} == {"feature:chat", "customer:acme", "(untagged)"}
    trend = _section(rows, "trend")
    assert [(t["periodStart"], t["requests"], t["customerCost"]) for t in trend] == [
        (b["start"][:-6], str(b["totals"]["requests"]), b["totals"]["customerCost"])
        for b in api["trend"]["buckets"]
    ]
    assert sum(Decimal(t["customerCost"]) for t in trend) == Decimal(api["totals"]["customerCost"])


async def test_the_report_compares_with_the_previous_week_and_the_budget(
    client: httpx.AsyncClient, org: Organization
) -> None:
    earlier = previous_period(ReportKind.WEEKLY, WEEK, BERLIN)
    api_before = await _api_usage(client, org, earlier)
    may = TimeRange(datetime(2024, 5, 1, tzinfo=BERLIN), WEEK.end)
    api_may = await _api_usage(client, org, may)

    rows = _csv(render_csv(await build_report(org, ReportKind.WEEKLY, WEEK, GENERATED)))

    [before] = _section(rows, "previousPeriod")
    assert before["requests"] == str(api_before["totals"]["requests"]) == "2"
    assert before["periodStart"] == "2024-04-29T00:00:00.000000"
    [budget] = _section(rows, "budget")
    assert budget["customerCost"] == api_may["totals"]["customerCost"]
    assert budget["periodStart"] == "2024-05-01T00:00:00.000000"
    assert budget["budget"] == "2.00"
    spend = Decimal(api_may["totals"]["customerCost"])
    assert budget["percentOfBudget"] == str((spend / 2 * 100).quantize(Decimal("0.01")))
    assert budget["item"] == budget_status(usd_to_nanos(spend), 2_000_000_000).value


async def test_the_report_csv_has_a_header_and_neutralized_user_text(org: Organization) -> None:
    text = render_csv(await build_report(org, ReportKind.WEEKLY, WEEK, GENERATED))

    assert text.splitlines()[0] == ",".join(c.name for c in REPORT_COLUMNS)
    rows = _csv(text)
    patterns = _section(rows, "errorPattern")
    assert [p["item"] for p in patterns] == ["Rate limit exceeded for key <str>, retry in <num>s"]
    assert (
        patterns[0]["requests"]
        == patterns[0]["failed"]
        == str(int(_section(rows, "total")[0]["failed"]))
    )
    codes = {r["item"]: r["requests"] for r in _section(rows, "statusCode")}
    assert set(codes) == {"200", "429"}


async def test_producing_a_report_twice_stores_it_once(org: Organization) -> None:
    first = await produce_report(org, ReportKind.WEEKLY, WEEK, GENERATED)
    second = await produce_report(org, ReportKind.WEEKLY, WEEK, GENERATED + timedelta(hours=1))

    assert first.created and not second.created
    assert second.report_id == first.report_id and second.html == first.html
    stored = await Report.get(id=first.report_id)
    assert (stored.period_start, stored.period_end) == (WEEK.start, WEEK.end)
    assert stored.timezone == "Europe/Berlin"
    assert await Report.filter(organization_id=org.id).count() == 1


async def test_a_weekly_report_for_the_demo_organization_equals_the_api(
    client: httpx.AsyncClient, db: object
) -> None:
    now = datetime(2024, 6, 12, 15, 0, tzinfo=UTC)
    await seed_demo(1500, now=now)
    demo = await Organization.get(slug="acme-ai")
    tz = ZoneInfo(demo.timezone)
    week = previous_period(ReportKind.WEEKLY, period_containing(ReportKind.WEEKLY, now, tz), tz)
    api = await _api_usage(client, demo, week)

    produced = await produce_report(demo, ReportKind.WEEKLY, week, now)

    assert "<svg" in produced.html
    rows = _csv(produced.csv)
    [total] = _section(rows, "total")
    assert int(total["requests"]) == int(api["totals"]["requests"]) > 50
    assert total["customerCost"] == api["totals"]["customerCost"]
    assert total["totalTokens"] == str(api["totals"]["totalTokens"])
    assert [(m["item"], m["customerCost"]) for m in _section(rows, "model")] == [
        (g["model"], g["totals"]["customerCost"]) for g in api["models"]
    ]
    assert total["periodStart"] == "2024-06-03T00:00:00.000000"
    assert total["periodStartUtc"] == "2024-06-03T04:00:00.000000+00:00"
