"""`aize-analytics alerts run-once`: one turn of the alert worker, for cron (or a service
started with AIZE_ALERT_WORKER=false): check the usage rules that are due and send the
deliveries that are due, then print what was done."""

from __future__ import annotations

import argparse
from typing import Any

from alerts.worker import run_once
from settings import Settings


def add_alerts_parser(sub: Any) -> None:
    """Register `alerts` (run-once) on the CLI's subparsers."""
    alerts = sub.add_parser("alerts", help="check usage alert rules and send alert deliveries")
    actions = alerts.add_subparsers(dest="alerts_command", required=True)
    actions.add_parser("run-once", help="one turn of the alert worker, then exit")


async def alerts_command(args: argparse.Namespace) -> str:
    """Run one worker turn now; returns its summary line."""
    report = await run_once(Settings.from_env())
    return report.summary()
