"""`aize-analytics leader`: which service process leads the background work (the alert
worker, the report scheduler, maintenance), since when and until when, for operators."""

from __future__ import annotations

import argparse
from typing import Any

from coordination.leadership import BACKGROUND_LEASE
from coordination.lease import database_now_ms, read_lease


def add_leader_parser(sub: Any) -> None:
    """Register `leader` on the CLI's subparsers."""
    sub.add_parser(
        "leader", help="show which service process leads the background work (lease, term)"
    )


async def leader_command(args: argparse.Namespace) -> dict[str, object]:
    """The background lease as JSON: holder (host:pid:random), term, whether it is held now,
    and milliseconds since it was taken and until it expires (database clock)."""
    lease = await read_lease(BACKGROUND_LEASE)
    if lease is None:
        return {"lease": BACKGROUND_LEASE, "held": False, "holder": None, "term": 0}
    now = await database_now_ms()
    return {
        "lease": lease.name,
        "held": lease.expires_at_ms > now,
        "holder": lease.holder,
        "term": lease.term,
        "heldForMs": max(now - lease.acquired_at_ms, 0),
        "expiresInMs": lease.expires_at_ms - now,
    }
