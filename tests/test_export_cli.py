"""`aize-analytics export ...` and `aize-analytics report ...` (the cron entry point)."""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest

from cli.commands import CommandError
from cli.export import export_command
from cli.main import build_parser
from cli.report import report_command
from models.member import Role
from models.organization import Organization
from models.report import Report
from tests.factories import make_key, make_member, make_org, make_record, store

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
async def org(db: object) -> Organization:
    org = await make_org(slug="cli-org", timezone="Europe/Berlin")
    owner = await make_member(org, Role.OWNER)
    key = await make_key(org, owner, label="-cli key")
    await store(
        *(
            make_record(org, key, owner, NOW - timedelta(hours=h), model=model)
            for h, model in ((1, "gpt-4"), (2, "gpt-4o"), (3, "gpt-4"), (24 * 9, "gpt-4"))
        )
    )
    return org


def _args(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


async def test_export_request_logs_writes_a_csv_file(org: Organization, tmp_path: Path) -> None:
    target = tmp_path / "logs.csv"

    summary = await export_command(
        _args(
            "export",
            "request-logs",
            "--org",
            "cli-org",
            "--period",
            "LAST_7_DAYS",
            "-o",
            str(target),
        )
    )

    rows = list(csv.DictReader(io.StringIO(target.read_text(), newline="")))
    assert summary == f"wrote 3 rows to {target}"
    assert [r["model"] for r in rows] == ["gpt-4", "gpt-4o", "gpt-4"]
    assert {r["apiKeyLabel"] for r in rows} == {"'-cli key"}


async def test_export_takes_the_same_filters_as_the_endpoint(
    org: Organization, tmp_path: Path
) -> None:
    target = tmp_path / "logs.jsonl"

    await export_command(
        _args(
            "export", "request-logs", "--org", "cli-org", "--format", "jsonl",
            "--models", "gpt-4", "--status-classes", "SUCCESS", "-o", str(target),
        )
    )  # fmt: skip

    objects = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    assert [o["model"] for o in objects] == ["gpt-4", "gpt-4", "gpt-4"]


async def test_export_usage_breakdown_by_model(org: Organization, tmp_path: Path) -> None:
    target = tmp_path / "models.csv"

    await export_command(
        _args("export", "usage-breakdown", "--org", "cli-org", "--by", "MODEL", "-o", str(target))
    )

    rows = list(csv.DictReader(io.StringIO(target.read_text(), newline="")))
    assert [(r["model"], r["requests"]) for r in rows] == [("gpt-4", "3"), ("gpt-4o", "1")]


async def test_bad_export_filters_are_one_line_errors(org: Organization) -> None:
    with pytest.raises(CommandError, match="period: expected one of LAST_HOUR"):
        await export_command(_args("export", "request-logs", "--org", "cli-org", "--period", "x"))
    with pytest.raises(CommandError, match="no organization 'nope'"):
        await export_command(_args("export", "request-logs", "--org", "nope"))


async def test_report_stores_the_weekly_report_once_and_writes_its_files(
    org: Organization, tmp_path: Path
) -> None:
    day = (NOW - timedelta(days=7)).date().isoformat()
    argv = ("report", "--period", "weekly", "--org", "cli-org", "--date", day, "-o", str(tmp_path))

    first = await report_command(_args(*argv))
    second = await report_command(_args(*argv))

    report = await Report.get(organization_id=org.id)
    monday = report.period_start.astimezone(org_zone(org)).date().isoformat()
    assert first.splitlines()[0] == f"stored weekly report {report.id} of cli-org from {monday}"
    assert second.splitlines()[0].startswith("already stored: weekly report")
    html = tmp_path / f"cli-org_weekly_{monday}.html"
    assert html.read_text() == report.html and "<svg" in report.html
    assert (tmp_path / f"cli-org_weekly_{monday}.csv").read_bytes() == report.csv.encode()


async def test_report_defaults_to_the_last_completed_period(org: Organization) -> None:
    await report_command(_args("report", "--period", "daily", "--org", "cli-org"))

    report = await Report.get(organization_id=org.id)
    yesterday = datetime.now(org_zone(org)).date() - timedelta(days=1)
    assert report.period_start.astimezone(org_zone(org)).date() == yesterday


async def test_report_refuses_a_period_that_has_not_ended(org: Organization) -> None:
    today = date.today().isoformat()

    with pytest.raises(CommandError, match="has not ended yet"):
        await report_command(
            _args("report", "--period", "monthly", "--org", "cli-org", "--date", today)
        )
    assert await Report.filter(organization_id=org.id).count() == 0


def org_zone(org: Organization) -> ZoneInfo:
    return ZoneInfo(org.timezone)


def test_the_commands_run_as_a_real_process(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AIZE_DATABASE_URL": f"sqlite://{tmp_path / 'cli.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
        )  # fmt: skip

    assert run("create-org", "Proc Org", "--slug", "proc").returncode == 0
    exported = run("export", "request-logs", "--org", "proc")
    report = run("report", "--period", "daily", "--org", "proc")
    helped = run("report", "--help")

    assert exported.returncode == 0, exported.stderr
    assert exported.stdout.startswith("requestId,timestamp,apiKeyId,apiKeyLabel,")
    assert report.returncode == 0, report.stderr
    assert report.stdout.startswith("stored daily report 1 of proc from ")
    assert helped.stdout.startswith("usage: aize-analytics report")
