"""`aize-analytics replicas`: the read replicas (AIZE_DATABASE_READ_URLS) as one check sees
them now: taking reads or skipped (lagging, down, not a replica), and each one's lag."""

from __future__ import annotations

import argparse
from typing import Any

from models import read_replicas


def add_replicas_parser(sub: Any) -> None:
    """Register `replicas` on the CLI's subparsers."""
    sub.add_parser(
        "replicas", help="check the read replicas now: state (in_use, lagging, down) and lag"
    )


async def replicas_command(args: argparse.Namespace) -> dict[str, object]:
    """Every configured replica checked now, as JSON (an empty list without any)."""
    replicas = read_replicas.configured()
    if replicas is None:
        return {"readReplicas": [], "maxLagSeconds": None}
    statuses = await replicas.check()
    return {
        "readReplicas": [status.as_json() for status in statuses],
        "maxLagSeconds": replicas.max_lag_seconds,
    }
