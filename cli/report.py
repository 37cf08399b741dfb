"""`aize-analytics report --period daily|weekly|monthly --org SLUG [--date D] [-o DIR]`: make
(or fetch) one stored report, for cron.

Without --date the report is of the last completed period (yesterday, last ISO week, last
billing month); --date names any day inside the wanted period. A period that has not ended
is refused: a report is stored once and never redone. The report is stored and delivered
exactly as the scheduler inside `serve` would (once, whoever is first); with -o the HTML
and CSV are also written to DIR.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cli.commands import CommandError, find_org
from models.report import ReportKind
from reports.periods import period_containing, previous_period, report_period
from reports.producer import produce_report


def add_report_parser(sub: Any) -> None:
    """Register `report` on the CLI's subparsers."""
    report = sub.add_parser("report", help="make a daily, weekly or monthly report (for cron)")
    report.add_argument("--period", required=True, choices=["daily", "weekly", "monthly"])
    report.add_argument("--org", required=True, help="organization slug or id")
    report.add_argument(
        "--date",
        type=_day,
        help="a day (YYYY-MM-DD, local) inside the period (default: the last completed one)",
    )
    report.add_argument("--output", "-o", help="also write the HTML and CSV into this folder")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        message = f"expected a date such as 2024-05-06, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None


async def report_command(args: argparse.Namespace) -> str:
    """Produce the report; returns what happened, one line per file written."""
    org = await find_org(args.org)
    kind = ReportKind(args.period.upper())
    tz = ZoneInfo(org.timezone)
    now = datetime.now(UTC)
    anchor = org.billing_anchor_day
    if args.date is None:
        period = previous_period(kind, period_containing(kind, now, tz, anchor), tz, anchor)
    else:
        period = report_period(kind, args.date, tz, anchor)
    if period.end > now:
        raise CommandError(f"the {args.period} period containing {args.date} has not ended yet")
    folder = Path(args.output) if args.output else None
    if folder is not None and not folder.is_dir():
        raise CommandError(f"--output: {folder} is not a folder")
    produced = await produce_report(org, kind, period, now)
    first = period.start.astimezone(tz).date().isoformat()
    verb = "stored" if produced.created else "already stored:"
    lines = [f"{verb} {args.period} report {produced.report_id} of {org.slug} from {first}"]
    if folder is not None:
        stem = f"{org.slug}_{args.period}_{first}"
        for suffix, content in ((".html", produced.html), (".csv", produced.csv)):
            path = folder / (stem + suffix)
            path.write_text(content, encoding="utf-8", newline="")
            lines.append(f"wrote {path}")
    return "\n".join(lines)
