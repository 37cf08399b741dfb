"""`aize-analytics billing-contract --org SLUG (--start YYYY-MM-DD --months N | --clear)`: an
Enterprise organization's contract billing period, set by the server's operator.

A contract period is agreed with the vendor, so it is set on the server (audited as the
operator), not through an Owner's token. See docs/readme/spend.md#billing-periods-by-tier.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from typing import Any

from admin.billing_contract import set_billing_contract
from audit.trail import Actor
from cli.commands import CommandError, find_org
from resolvers.billing_policy import billing_policy
from resolvers.errors import BadInputError


def add_billing_parser(sub: Any) -> None:
    """Register `billing-contract` on the CLI's subparsers."""
    contract = sub.add_parser(
        "billing-contract", help="set or clear an Enterprise organization's contract period"
    )
    contract.add_argument("--org", required=True, help="organization slug or id")
    contract.add_argument("--start", type=_day, help="a local date one period starts on")
    contract.add_argument("--months", type=int, help="period length in months (1-12)")
    contract.add_argument("--clear", action="store_true", help="remove the contract period")


async def billing_contract_command(args: argparse.Namespace) -> str:
    """Store or clear the contract; returns the organization's policy and current period."""
    org = await find_org(args.org)
    if args.clear and (args.start is not None or args.months is not None):
        raise CommandError("--clear takes no --start or --months")
    if not args.clear and (args.start is None or args.months is None):
        raise CommandError("give --start and --months, or --clear")
    try:
        updated = await set_billing_contract(Actor.operator(), org.id, args.start, args.months)
    except BadInputError as exc:
        raise CommandError(str(exc)) from None
    policy = billing_policy(updated)
    period = policy.period(datetime.now(UTC))
    local = [period.start.astimezone(policy.timezone), period.end.astimezone(policy.timezone)]
    return (
        f"{updated.slug}: {policy.kind.value}, {policy.months} month(s); current period "
        f"{local[0].isoformat()} to {local[1].isoformat()} ({policy.timezone.key})"
    )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        message = f"expected a date such as 2026-01-15, got {text!r}"
        raise argparse.ArgumentTypeError(message) from None
