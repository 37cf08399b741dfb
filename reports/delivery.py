"""Report delivery through the alert outbox (alerts/outbox.py), like alerts.

Targets: for a kind the organization scheduled itself (`setReportSchedule`), exactly that
schedule's recipients (its emails and webhook; none means the report is only stored).
Otherwise the webhook and email targets of the organization's enabled, organization-wide
alert rules (rules tied to one API key are left out: a key's owner is not necessarily
entitled to the team's figures). Each distinct target gets one message, enqueued in the
transaction that stores the report, and sent by the alert worker with its retries and
HMAC signature. The webhook document carries the key figures and the whole report (HTML and
CSV); the email is a plain-text summary naming where to download both.
"""

from __future__ import annotations

from datetime import datetime

import orjson
from tortoise.backends.base.client import BaseDBAsyncClient

from alerts.message import DeliveryTarget, OutboundMessage, one_line
from alerts.outbox import enqueue_message
from exports.usage import SUMMARY_COLUMNS, summary_cells
from models.database import Params, dialect_of
from models.global_ids import encode_global_id
from models.report import ReportKind
from models.report_schedule import ReportSchedule
from models.timestamps import format_instant
from reports.builder import ReportData, group_label
from reports.html import usd_text
from resolvers.scope import Scope

TOP_IN_EMAIL = 3


def report_paths(report_id: int) -> tuple[str, str]:
    """The HTML and CSV download paths of a stored report (GET with a bearer token)."""
    global_id = encode_global_id("Report", report_id)
    return f"/reports/{global_id}.html", f"/reports/{global_id}.csv"


async def report_targets(
    conn: BaseDBAsyncClient, organization_id: int, kind: ReportKind
) -> list[DeliveryTarget]:
    """Where the organization's `kind` report goes: its schedule's recipients when it
    scheduled that kind, else the distinct targets of its enabled organization-wide alert
    rules."""
    schedule = (
        await Scope.for_organization(organization_id)
        .filter(ReportSchedule)
        .filter(kind=kind)
        .using_db(conn)
        .first()
    )
    if schedule is not None:
        return schedule_targets(schedule)
    return await _alert_rule_targets(conn, organization_id)


def schedule_targets(schedule: ReportSchedule) -> list[DeliveryTarget]:
    """A schedule's recipients: its webhook (if any), then each email address once."""
    targets: list[DeliveryTarget] = []
    if schedule.webhook_url and schedule.webhook_secret:
        targets.append(DeliveryTarget.webhook(schedule.webhook_url, schedule.webhook_secret))
    targets += [DeliveryTarget.email(address) for address in dict.fromkeys(schedule.emails)]
    return targets


async def _alert_rule_targets(
    conn: BaseDBAsyncClient, organization_id: int
) -> list[DeliveryTarget]:
    params = Params(dialect_of(conn))
    tenant = " AND ".join(Scope.for_organization(organization_id).where(params))
    rows = await conn.execute_query_dict(
        f"SELECT webhook_url, webhook_secret, email FROM alert_rule WHERE {tenant} "
        f"AND enabled = {params.add(True)} AND api_key_id IS NULL "
        "AND (webhook_url IS NOT NULL OR email IS NOT NULL) ORDER BY id",
        params.values,
    )
    targets: dict[tuple[str, str], DeliveryTarget] = {}
    for row in rows:
        if row["webhook_url"] and row["webhook_secret"]:
            target = DeliveryTarget.webhook(row["webhook_url"], row["webhook_secret"])
            targets.setdefault((target.channel.value, target.address), target)
        if row["email"]:
            target = DeliveryTarget.email(row["email"])
            targets.setdefault((target.channel.value, target.address), target)
    return list(targets.values())


def report_message(
    report_id: int, data: ReportData, organization_id: int, html: str, csv: str
) -> OutboundMessage:
    """The report as an outbound message (X-Aize-Event-Id: the report's global id)."""
    global_id = encode_global_id("Report", report_id)
    html_path, csv_path = report_paths(report_id)
    tz = data.timezone
    document = {
        "type": "report",
        "id": global_id,
        "kind": data.kind.value,
        "title": data.title,
        "organization": {
            "id": encode_global_id("Organization", organization_id),
            "slug": data.organization_slug,
            "name": data.organization_name,
        },
        "periodStart": format_instant(data.period.start, tz),
        "periodEnd": format_instant(data.period.end, tz),
        "timezone": tz.key,
        "totals": dict(
            zip((c.name for c in SUMMARY_COLUMNS), summary_cells(data.totals), strict=True)
        ),
        "htmlPath": html_path,
        "csvPath": csv_path,
        "html": html,
        "csv": csv,
        "generatedAt": format_instant(data.generated_at),
    }
    return OutboundMessage(
        message_id=global_id,
        subject=f"[Aize] {data.title}: {one_line(data.organization_name)}",
        json_body=orjson.dumps(document).decode(),
        text_body=_text_body(data, html_path, csv_path),
    )


def _text_body(data: ReportData, html_path: str, csv_path: str) -> str:
    tz = data.timezone
    totals, previous = data.totals, data.previous
    error_rate = totals.error_rate_percent()
    lines = [
        f"{data.title} for {data.organization_name}",
        f"Period: {format_instant(data.period.start, tz)} to "
        f"{format_instant(data.period.end, tz)} ({tz.key})",
        "",
        f"Requests: {totals.requests:,} (previous period {previous.requests:,})",
        f"Error rate: {'n/a' if error_rate is None else format(error_rate, 'f') + '%'}",
        f"Tokens: {totals.total_tokens:,}",
        f"Customer cost: {usd_text(totals.customer_cost_nanos)} "
        f"(previous period {usd_text(previous.customer_cost_nanos)})",
    ]
    budget = data.budget
    if budget.budget_nanos is not None:
        used = "" if budget.percent_used is None else f" ({budget.percent_used}%)"
        lines.append(
            f"Billing period spend: {usd_text(budget.spend_nanos)} of "
            f"{usd_text(budget.budget_nanos)}{used}"
        )
    if data.top_models:
        lines += ["", "Top models by cost:"]
        lines += [
            f"  {one_line(group_label(data, g))}: {usd_text(g.totals.customer_cost_nanos)}"
            for g in data.top_models[:TOP_IN_EMAIL]
        ]
    lines += [
        "",
        "The full report (HTML with charts, and CSV) is available to Admins and Owners:",
        f"  GET {html_path}",
        f"  GET {csv_path}",
        "with an 'Authorization: Bearer <token>' header, or in Organization.reports.",
    ]
    return "\n".join(lines) + "\n"


async def enqueue_report_delivery(
    conn: BaseDBAsyncClient,
    report_id: int,
    data: ReportData,
    organization_id: int,
    html: str,
    csv: str,
    now: datetime,
) -> int:
    """Enqueue the report for every target, in the caller's transaction; returns how many
    deliveries were written (0 when the organization has no targets)."""
    targets = await report_targets(conn, organization_id, data.kind)
    if not targets:
        return 0
    message = report_message(report_id, data, organization_id, html, csv)
    return await enqueue_message(conn, organization_id, targets, message, now)
