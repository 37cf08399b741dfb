"""Reprice: price the logs stored unpriced, once the catalog has a price for their model.

Each log is priced with the catalog version and the organization's markup and fee in effect
at its own timestamp (pricing/terms.py), by the same rules as ingest (ingestion/pricing.py).
Per batch, in one transaction: the log rows are updated (only while still unpriced, so a
concurrent or repeated run changes nothing twice), the rollups lose the unpriced
contribution and gain the priced one (a log the folder has not folded yet is folded later
with its new costs), the wallet is charged, the spend counters grow (cost
only: the requests were counted on arrival), and spend control sees the new spend.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any
from uuid import UUID

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from ingestion.catalog_store import load_catalog
from ingestion.directory import OrgTerms, load_org_terms
from ingestion.folding import pending_log_ids
from ingestion.pricing import catalog_price, request_cost, usage_of
from ingestion.retry import with_rollback_retry
from ingestion.rollups import apply_rollups
from models.attribution import stored_tags
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from models.priced_record import PricedRecord
from pricing.catalog import PriceCatalog
from pricing.cost import MAX_REQUEST_COST_NANOS
from resolvers.scope import Scope
from spend.control import after_write
from spend.deductions import add_spend, deduct_wallets

_BATCH = 1000
_COLUMNS = (
    "id, request_id, organization_id, api_key_id, member_id, timestamp, model, provider_model, "
    "endpoint, input_tokens, output_tokens, latency_ms, status_code, provider, cache_read_tokens, "
    "cache_write_5m_tokens, cache_write_1h_tokens, reasoning_tokens, request_units, tags, "
    "end_user"
)
# The cost columns a reprice writes onto the log.
COST_COLUMNS = (
    "provider_cost_nanos",
    "markup_nanos",
    "fixed_fee_nanos",
    "customer_cost_nanos",
    "input_cost_nanos",
    "cache_read_cost_nanos",
    "cache_write_cost_nanos",
    "output_cost_nanos",
    "reasoning_cost_nanos",
    "request_cost_nanos",
    "cache_savings_nanos",
)


@dataclass(slots=True)
class RepriceResult:
    """What a run did: logs priced, logs still without a price, nano-USD charged."""

    repriced: int = 0
    still_unpriced: int = 0
    charged_nanos: int = 0


async def reprice(organization_id: int | None = None) -> RepriceResult:
    """Price every unpriced log (of one organization, or all) whose model now has a price."""
    catalog = await load_catalog()
    terms: dict[int, OrgTerms] = {}
    result = RepriceResult()
    after_id = 0
    while True:
        rows = await _unpriced_after(after_id, organization_id)
        if not rows:
            return result
        after_id = int(rows[-1]["id"])
        pairs: list[tuple[int, PricedRecord, PricedRecord]] = []
        for row in rows:
            org_id = int(row["organization_id"])
            if org_id not in terms:
                terms[org_id] = await load_org_terms(org_id)
            pair = _priced_now(row, catalog, terms[org_id])
            if pair is None:
                result.still_unpriced += 1
            else:
                pairs.append((int(row["id"]), *pair))
        if pairs:
            changed = await with_rollback_retry(partial(_apply, pairs), "reprice batch")
            result.repriced += len(changed)
            result.charged_nanos += sum(r.customer_cost_nanos for r in changed)


async def _unpriced_after(after_id: int, organization_id: int | None) -> list[dict[str, Any]]:
    params = Params(current_dialect())
    conditions = ["priced = FALSE", f"id > {params.add(after_id)}"]
    if organization_id is not None:
        conditions.extend(Scope.for_organization(organization_id).where(params))
    return await fetch_all(
        f"SELECT {_COLUMNS} FROM request_log WHERE {' AND '.join(conditions)} "
        f"ORDER BY id LIMIT {_BATCH}",
        params,
    )


def _priced_now(
    row: dict[str, Any], catalog: PriceCatalog, terms: OrgTerms
) -> tuple[PricedRecord, PricedRecord] | None:
    """(the log as stored, the log priced) or None while its model still has no price."""
    stored = PricedRecord(
        request_id=UUID(str(row["request_id"])),
        organization_id=int(row["organization_id"]),
        api_key_id=int(row["api_key_id"]),
        member_id=None if row["member_id"] is None else int(row["member_id"]),
        timestamp=parse_db_datetime(row["timestamp"]),
        model=str(row["model"]),
        provider_model=str(row["provider_model"]),
        endpoint=str(row["endpoint"]),
        input_tokens=int(row["input_tokens"]),
        output_tokens=int(row["output_tokens"]),
        provider_cost_nanos=0,
        markup_nanos=0,
        fixed_fee_nanos=0,
        customer_cost_nanos=0,
        priced=False,
        latency_ms=int(row["latency_ms"]),
        status_code=int(row["status_code"]),
        provider=str(row["provider"]),
        cache_read_tokens=int(row["cache_read_tokens"]),
        cache_write_5m_tokens=int(row["cache_write_5m_tokens"]),
        cache_write_1h_tokens=int(row["cache_write_1h_tokens"]),
        reasoning_tokens=int(row["reasoning_tokens"]),
        request_units=int(row["request_units"]),
        tags=stored_tags(row["tags"]),
        end_user=None if row["end_user"] is None else str(row["end_user"]),
    )
    org_terms = terms.pricing.at(stored.timestamp)
    priced_cost = request_cost(
        usage=usage_of(stored),
        status_code=stored.status_code,
        price=catalog_price(catalog, stored.provider_model, stored.model, stored.timestamp),
        provider_cost=None,
        markup_bps=org_terms.markup_bps,
        fixed_fee_nanos=org_terms.fixed_fee_nanos,
    )
    # Above the per-request bound it stays unpriced, as ingest would have refused it.
    if priced_cost is None or priced_cost[0].customer_cost_nanos > MAX_REQUEST_COST_NANOS:
        return None
    cost, parts = priced_cost
    priced = replace(
        stored,
        provider_cost_nanos=cost.provider_cost_nanos,
        markup_nanos=cost.markup_nanos,
        fixed_fee_nanos=cost.fixed_fee_nanos,
        customer_cost_nanos=cost.customer_cost_nanos,
        priced=True,
        input_cost_nanos=parts.input,
        cache_read_cost_nanos=parts.cache_read,
        cache_write_cost_nanos=parts.cache_write,
        output_cost_nanos=parts.output,
        reasoning_cost_nanos=parts.reasoning,
        request_cost_nanos=parts.request,
        cache_savings_nanos=parts.cache_savings,
    )
    return stored, priced


async def _apply(pairs: list[tuple[int, PricedRecord, PricedRecord]]) -> list[PricedRecord]:
    """Apply one batch in one transaction; returns the records this run actually priced."""
    before: list[PricedRecord] = []
    after: list[PricedRecord] = []
    log_ids: list[int] = []
    async with in_transaction() as conn:
        # Request-id order, like ingest, so shared rows are locked in one order.
        for log_id, stored, priced in sorted(pairs, key=lambda p: p[1].request_id.bytes):
            if await _mark_priced(conn, log_id, priced):
                before.append(stored)
                after.append(priced)
                log_ids.append(log_id)
        if after:
            # A log not folded yet (ingestion/folding.py) is folded later with its new
            # costs: only the folded ones have rollups to correct.
            pending = await pending_log_ids(conn, log_ids, [r.organization_id for r in after])
            folded = [i for i, log_id in enumerate(log_ids) if log_id not in pending]
            await apply_rollups(conn, [before[i] for i in folded], sign=-1)
            await apply_rollups(conn, [after[i] for i in folded], sign=1)
            await deduct_wallets(conn, after, note="reprice")
            await add_spend(conn, after, count_requests=False)
            await after_write(conn, after)
    return after


async def _mark_priced(conn: BaseDBAsyncClient, log_id: int, priced: PricedRecord) -> bool:
    """Write the costs onto the log if it is still unpriced; True when this call did."""
    params = Params(current_dialect())
    sets = ", ".join(f"{column} = {params.add(getattr(priced, column))}" for column in COST_COLUMNS)
    rows = await conn.execute_query_dict(
        f"UPDATE request_log SET {sets}, priced = TRUE "
        f"WHERE id = {params.add(log_id)} AND priced = FALSE RETURNING id",
        params.values,
    )
    return bool(rows)
