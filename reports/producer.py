"""Produce one report: gather, render (HTML and CSV), store once, enqueue its delivery.

Shared by the scheduler inside `serve` and by `aize-analytics report` (cron), so both make
the same report, and whichever stores it first is the only one that delivers it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from models.organization import Organization
from models.read_replicas import replica_reads
from models.report import Report, ReportKind
from reports.builder import build_report
from reports.csv import render_csv
from reports.delivery import enqueue_report_delivery
from reports.html import render_html
from reports.store import store_report
from resolvers.periods import TimeRange
from resolvers.scope import Scope


@dataclass(frozen=True, slots=True)
class ProducedReport:
    """The stored report of a period, and whether this call stored (and enqueued) it."""

    report_id: int
    created: bool
    html: str
    csv: str


async def produce_report(
    org: Organization, kind: ReportKind, period: TimeRange, now: datetime
) -> ProducedReport:
    """The organization's `kind` report for `period`: the stored one if it exists, else a
    new one, built from the API's resolvers, stored and enqueued for delivery (`now` is the
    generation time, aware)."""
    existing = await _stored(org.id, kind, period)
    if existing is not None:
        return ProducedReport(existing.id, False, existing.html, existing.csv)
    # A report's numbers are analytics reads, which a read replica may answer.
    with replica_reads():
        data = await build_report(org, kind, period, now)
    html, csv = render_html(data), render_csv(data)

    async def deliver(conn: BaseDBAsyncClient, report_id: int) -> None:
        await enqueue_report_delivery(conn, report_id, data, org.id, html, csv, now)

    report_id = await store_report(org.id, kind, period, org.timezone, html, csv, deliver)
    if report_id is not None:
        return ProducedReport(report_id, True, html, csv)
    # Another replica stored it while this one was building: theirs is the report.
    stored = await _stored(org.id, kind, period)
    if stored is None:
        raise RuntimeError("the report was stored by another producer and then disappeared")
    return ProducedReport(stored.id, False, stored.html, stored.csv)


async def _stored(organization_id: int, kind: ReportKind, period: TimeRange) -> Report | None:
    reports = Scope.for_organization(organization_id).filter(Report)
    return await reports.get_or_none(kind=kind, period_start=period.start)
