"""`aize-analytics maintain`: one maintenance run (request_log partitions ahead of time,
raw-log retention, pruning of old request ids), for cron or after a long downtime. `serve`
runs the same thing at start-up and every AIZE_MAINTENANCE_INTERVAL_SECONDS."""

from __future__ import annotations

import argparse
from typing import Any

from maintenance.runner import run_maintenance
from settings import Settings


def add_maintain_parser(sub: Any) -> None:
    """Register `maintain` on the CLI's subparsers."""
    sub.add_parser(
        "maintain",
        help="create upcoming request_log partitions, apply raw-log retention, prune old ids",
    )


async def maintain_command(args: argparse.Namespace) -> dict[str, object]:
    """Run maintenance once; returns what it did (printed as JSON)."""
    return (await run_maintenance(Settings.from_env())).as_dict()
