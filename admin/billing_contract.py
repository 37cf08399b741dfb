"""An Enterprise organization's contract period, set by the server's operator (CLI), and the
recount that keeps spend counters exact when the billing policy of an organization changes.

Spend counters (models/spend.py) are keyed by the start of the billing period a request fell
in when it was ingested. When the policy changes (a contract, a tier, an anchor day), the
current period may start elsewhere: `recount_current_period` rebuilds its counters from the
request logs, so key limits and the budget count exactly the new period's requests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from audit.trail import Actor, record_change
from models.database import Params, dialect_of
from models.organization import Organization, Tier
from resolvers.billing_policy import MAX_CONTRACT_MONTHS, billing_policy
from resolvers.errors import BadInputError
from resolvers.periods import TimeRange
from resolvers.scope import Scope
from spend.control import enforce_budget
from spend.state import lock_organization

__all__ = ["recount_current_period", "set_billing_contract"]


async def set_billing_contract(
    actor: Actor, organization_id: int, start: date | None, months: int | None
) -> Organization:
    """Store (both given) or clear (both None) an ENTERPRISE organization's contract period:
    `months` (1-12) long, one period starting at local midnight of `start`. Recounts the
    current period's spend counters and fires the budget thresholds it reaches."""
    if (start is None) != (months is None):
        raise BadInputError("give both the contract start and its months, or neither")
    if months is not None and not 1 <= months <= MAX_CONTRACT_MONTHS:
        raise BadInputError(f"months: 1 to {MAX_CONTRACT_MONTHS}, got {months}")
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        org = await Organization.filter(id=organization_id).using_db(conn).get()
        if start is not None and Tier(org.tier) is not Tier.ENTERPRISE:
            raise BadInputError(
                f"a contract period is for ENTERPRISE organizations; {org.slug} is {org.tier}"
            )
        old = (org.contract_period_start, org.contract_period_months)
        await (
            Organization.filter(id=organization_id)
            .using_db(conn)
            .update(contract_period_start=start, contract_period_months=months)
        )
        await record_change(
            organization_id,
            actor,
            "organization.settings",
            "Organization",
            organization_id,
            {"contractPeriodStart": (old[0], start), "contractPeriodMonths": (old[1], months)},
            connection=conn,
        )
        await recount_current_period(conn, organization_id)
        await enforce_budget(conn, organization_id)
    return await Organization.get(id=organization_id)


async def recount_current_period(
    conn: BaseDBAsyncClient, organization_id: int, now: datetime | None = None
) -> TimeRange:
    """Rebuild the spend counters (organization and every key) of the billing period
    containing `now` from the request logs, in the caller's transaction, which holds the
    organization's lock (so no ingest adds to them meanwhile). Returns that period (UTC)."""
    org = await Organization.filter(id=organization_id).using_db(conn).get()
    period = billing_policy(org).period(now or datetime.now(UTC))
    scope = Scope.for_organization(organization_id)
    params = Params(dialect_of(conn))
    rows = await conn.execute_query_dict(
        "SELECT api_key_id, SUM(customer_cost_nanos) AS spend, COUNT(*) AS requests "
        f"FROM request_log WHERE {' AND '.join(scope.where(params))} "
        f"AND timestamp >= {params.add(period.start)} AND timestamp < {params.add(period.end)} "
        "GROUP BY api_key_id ORDER BY api_key_id",
        params.values,
    )
    counters = [(int(r["api_key_id"]), int(r["spend"]), int(r["requests"])) for r in rows]
    if counters:
        total = (0, sum(c[1] for c in counters), sum(c[2] for c in counters))
        counters.insert(0, total)
    params = Params(dialect_of(conn))
    await conn.execute_query(
        f"DELETE FROM spend_counter WHERE {' AND '.join(scope.where(params))} "
        f"AND period_start = {params.add(period.start)}",
        params.values,
    )
    if not counters:
        return period
    params = Params(dialect_of(conn))
    values = ", ".join(
        "("
        + ", ".join(params.add(v) for v in (organization_id, key_id, period.start, spend, n))
        + ")"
        for key_id, spend, n in counters
    )
    await conn.execute_query(
        "INSERT INTO spend_counter (organization_id, api_key_id, period_start, spend_nanos, "
        f"requests) VALUES {values}",
        params.values,
    )
    return period
