"""Rollups folded after the commit (ingestion/folding.py) and the unfolded tail merged by
every rollup read (resolvers/fold_tail.py), on PostgreSQL.

Every read (totals in zones with odd offsets, trends, breakdowns, a Member's scope, tags
and end users, a comparison, exports, latency histograms) equals a raw scan exactly while
nothing is folded, after a partial fold and after a full one; a fold rolled back or killed
mid-batch changes nothing and the next one folds the rows; folders racing fold each row
once (the rollups equal a rebuild from the raw log); a reprice of rows pending or folded
leaves the rollups exact.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from tortoise.transactions import in_transaction

import ingestion.folding as folding
import resolvers.rollup_reader as rollup_reader
from exports.usage import breakdown_export, trend_export
from graph.scalars import usd
from ingestion.catalog_store import save_prices
from ingestion.fold_worker import start_folder
from ingestion.folding import (
    Folder,
    FoldingMode,
    configure_folding,
    drain,
    fold_batch,
    fold_before,
    fold_in_transaction,
    fold_on,
)
from ingestion.reprice import reprice
from ingestion.rollup_sql import rebuild_statements
from ingestion.rollups import ROLLUP_ORDER
from models.database import Params, connection, current_dialect, fetch_all
from models.latency_rollup import LATENCY_BY_MODEL_STATUS, LATENCY_TOTAL, latency_bucket
from models.member import Member, Role
from models.organization import Organization
from resolvers.latency_histogram import read_histograms
from resolvers.periods import TimeRange
from resolvers.rollup_lag import fold_lag
from resolvers.scope import LogFilter, Scope
from resolvers.time_slices import Granularity
from resolvers.usage import usage_breakdown, usage_totals, usage_trend
from resolvers.usage_comparison import usage_comparison
from resolvers.usage_dimensions import UsageDimension
from settings import Settings
from tests.factories import (
    gql,
    make_key,
    make_member,
    make_org,
    make_record,
    make_token,
    mystery_price,
    store,
)
from tests.http_clients import client_for
from tests.ingest_support import stored_records
from tests.metrics_support import METRICS_TOKEN, scrape, value
from tests.polling import until
from tests.rollup_snapshots import Snapshot, expected_snapshot, snapshot
from web.app import create_app

pytestmark = pytest.mark.postgres_only

START = datetime(2024, 5, 1, 22, 53, 17, tzinfo=UTC)
# Sub-quarter edges at both ends: every grain (raw, quarter, hour, day) is read.
RANGE = TimeRange(START, START + timedelta(days=3, hours=4, minutes=14, seconds=24))
RECORDS = 240
TAGS = ("feature:chat", "feature:search", "team:red")


@dataclass(frozen=True)
class Tenant:
    organization_id: int
    member_id: int


@pytest.fixture
def deferred() -> Iterator[None]:
    configure_folding(FoldingMode.DEFERRED)
    yield
    configure_folding(None)


async def _ingest(rng: random.Random, count: int) -> Tenant:
    """An organization's `count` logs over RANGE and a little around it: every status
    class, keys with and without a member, latencies 0 ms to a minute, tags, end users."""
    org = await make_org(markup_bps=2500, fixed_fee_nanos=1_000_000)
    members = [await make_member(org, Role.MEMBER) for _ in range(3)]
    keys = [await make_key(org, members[0]), await make_key(org, None)]
    records = [
        make_record(
            org,
            rng.choice(keys),
            rng.choice([None, *members]),
            RANGE.start - timedelta(hours=2) + timedelta(seconds=rng.randrange(80 * 3600)),
            provider_cost_nanos=rng.randrange(1, 5_000_000_000),
            model=rng.choice(["gpt-4", "gpt-4o", "claude-3-opus"]),
            status_code=rng.choice([200, 200, 201, 400, 429, 500]),
            latency_ms=rng.choice([0, 1, 127, 128, 129, 255, rng.randrange(60_000)]),
            priced=rng.random() < 0.9,
            tags=tuple(sorted(rng.sample(TAGS, rng.randrange(3)))) or None,
            end_user=rng.choice([None, "user-1", "user-2"]),
        )
        for _ in range(count)
    ]
    # Several batches, as the gateway sends them.
    for start in range(0, count, 60):
        await store(*records[start : start + 60])
    return Tenant(org.id, members[1].id)


async def _answers(tenant: Tenant) -> dict[str, Any]:
    """Every kind of rollup read, for an Admin and for a Member."""
    admin = Scope(tenant.organization_id, None, None, sees_team=True)
    member = Scope(tenant.organization_id, tenant.member_id, tenant.member_id, sees_team=False)
    utc = LogFilter(RANGE, ZoneInfo("UTC"))
    new_york = LogFilter(RANGE, ZoneInfo("America/New_York"))
    kathmandu = LogFilter(RANGE, ZoneInfo("Asia/Kathmandu"))
    one_tag = LogFilter(RANGE, ZoneInfo("UTC"), tags_any=("feature:chat",))
    by_model = LogFilter(RANGE, ZoneInfo("UTC"), models=("gpt-4",))
    return {
        "totals": await usage_totals(admin, utc),
        "totals new york": await usage_totals(admin, new_york),
        "member totals": await usage_totals(member, kathmandu),
        "hour trend": await usage_trend(admin, kathmandu, Granularity.HOUR),
        "day trend by model": await usage_trend(
            admin, new_york, Granularity.DAY, UsageDimension.MODEL
        ),
        "member day trend": await usage_trend(member, utc, Granularity.DAY),
        "by key and model": await usage_breakdown(
            admin, utc, (UsageDimension.API_KEY, UsageDimension.MODEL), limit=100
        ),
        "by member": await usage_breakdown(admin, new_york, (UsageDimension.MEMBER,)),
        "by status": await usage_breakdown(admin, utc, (UsageDimension.STATUS_CODE,)),
        "by tag": await usage_breakdown(admin, new_york, (UsageDimension.TAG,)),
        "one tag": await usage_totals(admin, one_tag),
        "by end user": await usage_breakdown(admin, utc, (UsageDimension.END_USER,)),
        "comparison": await usage_comparison(admin, utc, RANGE.end),
        "breakdown export": (await breakdown_export(admin, utc, (UsageDimension.MODEL,))).rows,
        "trend export": (
            await trend_export(admin, kathmandu, Granularity.DAY, UsageDimension.TAG)
        ).rows,
        "histogram": await read_histograms(admin, new_york, LATENCY_TOTAL),
        "histogram by status": await read_histograms(
            admin, by_model, LATENCY_BY_MODEL_STATUS, UsageDimension.STATUS_CODE
        ),
    }


async def _raw_scan(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The same reads with no rollup family: every usage window from request_log."""
    with monkeypatch.context() as patched:
        patched.setattr(rollup_reader, "usage_family", lambda *_: None)
        answers = await _answers(tenant)
    return answers


async def _histogram_of_raw_rows(tenant: Tenant) -> dict[int, int]:
    """Requests per latency bucket over RANGE, counted here from the stored logs."""
    counts: dict[int, int] = {}
    for record in await stored_records(tenant.organization_id):
        if RANGE.start <= record.timestamp < RANGE.end:
            bucket = latency_bucket(record.latency_ms)
            counts[bucket] = counts.get(bucket, 0) + 1
    return counts


async def _pending(organization_id: int | None = None) -> int:
    return (await fold_lag(organization_id)).pending_rows


async def _tables() -> Snapshot:
    """Every rollup table as it is (nothing folded first)."""
    found: Snapshot = {}
    for family, grain in ROLLUP_ORDER:
        params = Params(current_dialect())
        rows = await fetch_all(f"SELECT * FROM {family.table(grain)}", params)
        found[family.table(grain)] = {
            (int(r["organization_id"]), r["bucket_start"], *(r[d] for d in family.dimensions)): [
                int(r[m]) for m in family.measures
            ]
            for r in rows
            if any(int(r[m]) for m in family.measures)
        }
    return found


async def _assert_reads_equal_raw_scan(tenant: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    read = await _answers(tenant)
    assert read == await _raw_scan(tenant, monkeypatch)
    # The histograms against buckets counted here (the raw scan reads no histogram).
    assert read["histogram"].groups[()].counts == await _histogram_of_raw_rows(tenant)
    assert read["totals"].requests > 0 and read["by tag"] and read["by end user"]


async def test_reads_equal_a_raw_scan_with_nothing_folded_after_a_partial_and_a_full_fold(
    db: Settings, deferred: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await _ingest(random.Random(5), RECORDS)
    other = await _ingest(random.Random(6), 50)
    # Nothing folded: every rollup table is empty, every read comes from the tail.
    assert await _pending() == RECORDS + 50
    assert all(not rows for rows in (await _tables()).values())
    await _assert_reads_equal_raw_scan(tenant, monkeypatch)

    assert await fold_batch(100) == 100
    assert await _pending() == RECORDS + 50 - 100
    await _assert_reads_equal_raw_scan(tenant, monkeypatch)

    assert await drain(70) == RECORDS + 50 - 100
    assert await _pending() == 0
    await _assert_reads_equal_raw_scan(tenant, monkeypatch)
    records = await stored_records(tenant.organization_id) + await stored_records(
        other.organization_id
    )
    assert await snapshot() == expected_snapshot(records)


async def test_inline_folding_lists_nothing_pending(db: Settings) -> None:
    configure_folding(FoldingMode.INLINE)
    try:
        tenant = await _ingest(random.Random(7), 30)
    finally:
        configure_folding(None)

    assert await _pending() == 0
    assert await _tables() == expected_snapshot(await stored_records(tenant.organization_id))


async def test_a_fold_rolled_back_after_its_delete_leaves_everything_exact(
    db: Settings, deferred: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await _ingest(random.Random(8), 120)
    await fold_batch(40)
    before = await _tables()

    with pytest.raises(RuntimeError, match="killed mid-batch"):
        async with in_transaction() as conn:
            assert await fold_in_transaction(conn, 50) == 50
            raise RuntimeError("killed mid-batch")

    assert await _pending() == 80
    assert await _tables() == before
    await _assert_reads_equal_raw_scan(tenant, monkeypatch)
    assert await drain() == 80
    assert await snapshot() == expected_snapshot(await stored_records(tenant.organization_id))


@pytest.fixture
async def folder_connections(db: Settings) -> AsyncIterator[list[asyncpg.Connection]]:
    """Two connections of their own (not the service's pool), as two folders would have."""
    url = db.database_url.replace("postgres://", "postgresql://", 1)
    opened = [await asyncpg.connect(url) for _ in range(2)]
    try:
        yield opened
    finally:
        for conn in opened:
            if not conn.is_closed():
                await conn.close()


async def test_a_folder_whose_backend_is_terminated_mid_batch_folds_nothing(
    db: Settings,
    deferred: None,
    folder_connections: list[asyncpg.Connection],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tenant = await _ingest(random.Random(9), 100)
    folder, killer = folder_connections
    before = await _tables()
    transaction = folder.transaction()
    await transaction.start()
    assert len(await fold_on(folder, 60)) == 60

    pid = folder.get_server_pid()
    assert await killer.fetchval("SELECT pg_terminate_backend($1)", pid)
    await _until_gone(killer, pid)
    folder.terminate()

    assert await _pending() == 100
    assert await _tables() == before
    await _assert_reads_equal_raw_scan(tenant, monkeypatch)
    assert await drain() == 100
    assert await snapshot() == expected_snapshot(await stored_records(tenant.organization_id))


async def _until_gone(conn: asyncpg.Connection, pid: int) -> None:
    """Return once the server process `pid` has exited (its transaction rolled back)."""
    deadline = asyncio.get_running_loop().time() + 30
    while await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
        assert asyncio.get_running_loop().time() < deadline, f"backend {pid} still running"
        await asyncio.sleep(0.01)


async def _rebuilt_from_raw_log() -> Snapshot:
    """Every rollup table emptied and rebuilt from request_log (ingestion/rollup_sql.py)."""
    tables = ", ".join(family.table(grain) for family, grain in ROLLUP_ORDER)
    await connection().execute_script(f"TRUNCATE {tables}")
    for stage in rebuild_statements():
        for statement in stage:
            await connection().execute_script(statement)
    return await _tables()


async def test_two_folders_racing_fold_each_row_once(
    db: Settings, deferred: None, folder_connections: list[asyncpg.Connection]
) -> None:
    await _ingest(random.Random(10), 150)
    first, second = folder_connections
    first_transaction, second_transaction = first.transaction(), second.transaction()
    await first_transaction.start()
    await second_transaction.start()
    taken_first = await fold_on(first, 80)
    # The second skips the rows the first holds, then waits for its rollup rows.
    racing = asyncio.create_task(fold_on(second, 80))
    await first_transaction.commit()
    taken_second = await racing
    await second_transaction.commit()

    assert len(taken_first) == 80 and len(taken_second) == 70
    assert not set(taken_first) & set(taken_second)
    assert await _pending() == 0
    folded = await _tables()
    assert folded == await _rebuilt_from_raw_log()


async def test_folders_racing_with_ingest_fold_every_row_once(db: Settings, deferred: None) -> None:
    rng = random.Random(12)
    ingesting = asyncio.gather(*(_ingest(rng, 90) for _ in range(3)))
    folders = [asyncio.create_task(_fold_until(ingesting, 25)) for _ in range(3)]
    await ingesting
    await asyncio.gather(*folders)
    await drain()

    assert await _pending() == 0
    folded = await _tables()
    assert sum(r[0] for r in folded["usage_rollup_day"].values()) == 270
    assert folded == await _rebuilt_from_raw_log()


async def _fold_until(done: asyncio.Future[Any], rows: int) -> None:
    """Fold batches of `rows` until `done` and nothing is left."""
    while True:
        folded = await fold_batch(rows)
        if done.done() and folded == 0:
            return
        await asyncio.sleep(0)


async def _ingest_unpriced(count: int) -> int:
    org = await make_org(markup_bps=2500)
    key = await make_key(org)
    await store(
        *(
            make_record(
                org,
                key,
                None,
                START + timedelta(minutes=7 * i),
                model="mystery-1",
                provider_model="mystery-1",
                provider_cost_nanos=0,
                priced=False,
            )
            for i in range(count)
        )
    )
    return org.id


@pytest.mark.parametrize("folded_first", [0, 4, 10])
async def test_a_reprice_of_pending_or_folded_logs_leaves_the_rollups_exact(
    db: Settings, deferred: None, folded_first: int
) -> None:
    organization_id = await _ingest_unpriced(10)
    if folded_first:
        assert await fold_batch(folded_first) == folded_first
    await save_prices([mystery_price(datetime(2024, 1, 1, tzinfo=UTC))])

    result = await reprice(organization_id)

    assert result.repriced == 10
    assert await _pending() == 10 - folded_first
    records = await stored_records(organization_id)
    assert all(r.priced for r in records)
    assert await snapshot() == expected_snapshot(records)


async def test_the_lag_counts_pending_rows_per_organization_and_their_age(
    db: Settings, deferred: None
) -> None:
    tenant = await _ingest(random.Random(13), 30)
    other = await _ingest(random.Random(14), 20)

    lag = await fold_lag(tenant.organization_id)
    assert (lag.pending_rows, await _pending(other.organization_id), await _pending()) == (
        30,
        20,
        50,
    )
    assert lag.oldest_queued_at is not None
    assert 0 <= lag.oldest_age_seconds(datetime.now(UTC)) < 600
    await drain()
    assert await fold_lag(tenant.organization_id) == type(lag)(0, None)


_USAGE_AND_LAG = """
query ($from: DateTime!, $to: DateTime!) {
  organization {
    usage(filter: {from: $from, to: $to}) { totals { requests customerCost } }
    rollupLag { pendingRequests oldestPendingMs }
  }
}
"""


async def test_the_api_answers_exactly_before_any_fold_and_shows_admins_the_lag(
    db: Settings, deferred: None, client: httpx.AsyncClient
) -> None:
    tenant = await _ingest(random.Random(15), 40)
    admin = await make_member(await Organization.get(id=tenant.organization_id), Role.ADMIN)
    member = await Member.get(id=tenant.member_id)
    records = [
        r
        for r in await stored_records(tenant.organization_id)
        if RANGE.start <= r.timestamp < RANGE.end
    ]
    window = {"from": RANGE.start.isoformat(), "to": RANGE.end.isoformat()}

    answer = await gql(client, await make_token(admin), _USAGE_AND_LAG, **window)

    assert answer.errors is None and answer.data is not None
    organization = answer.data["organization"]
    assert organization["usage"]["totals"] == {
        "requests": len(records),
        "customerCost": str(usd(sum(r.customer_cost_nanos for r in records))),
    }
    assert organization["rollupLag"]["pendingRequests"] == 40
    assert organization["rollupLag"]["oldestPendingMs"] >= 0
    refused = await gql(client, await make_token(member), _USAGE_AND_LAG, **window)
    assert refused.error_codes == ["FORBIDDEN"]
    assert refused.data is not None and refused.data["organization"]["rollupLag"] is None


async def test_retention_folds_the_pending_rows_of_the_months_it_drops_first(
    db: Settings, deferred: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    tenant = await _ingest(random.Random(16), 60)
    # Several batches in the one maintenance transaction.
    monkeypatch.setattr(folding, "DEFAULT_BATCH_ROWS", 7)
    cutoff = RANGE.start + timedelta(days=1)
    early = [r for r in await stored_records(tenant.organization_id) if r.timestamp < cutoff]

    async with in_transaction() as conn:
        assert await fold_before(conn, cutoff) == len(early)

    assert await _pending() == 60 - len(early)
    await drain()
    assert await snapshot() == expected_snapshot(await stored_records(tenant.organization_id))


async def test_metrics_show_operators_the_pending_rows_and_the_oldest_ones_age(
    db: Settings, deferred: None
) -> None:
    app = create_app(dataclasses.replace(db, metrics_token=METRICS_TOKEN), manage_database=False)
    await _ingest(random.Random(17), 25)

    async with client_for(app) as http:
        pending = await scrape(http)
        await drain()
        folded = await scrape(http)

    assert value(pending, "aize_rollup_fold_pending_rows") == 25
    assert value(pending, "aize_rollup_fold_oldest_pending_seconds") > 0
    assert value(folded, "aize_rollup_fold_pending_rows") == 0
    assert value(folded, "aize_rollup_fold_oldest_pending_seconds") == 0


async def _pending_ids(share: int, shares: int) -> list[int]:
    """The log ids pending of the organizations of a share (id modulo `shares`), in order."""
    rows = await connection().execute_query_dict(
        "SELECT log_id FROM fold_pending WHERE organization_id % $1 = $2 ORDER BY log_id",
        [shares, share],
    )
    return [int(r["log_id"]) for r in rows]


async def _tenants_in_both_shares(seed: int, count: int) -> list[Tenant]:
    """Organizations of `count` logs each until both shares of two hold two of them."""
    tenants: list[Tenant] = []
    while min(sum(t.organization_id % 2 == share for t in tenants) for share in (0, 1)) < 2:
        assert len(tenants) < 12, "organization ids of one parity only"
        tenants.append(await _ingest(random.Random(seed + len(tenants)), count))
    return tenants


async def test_a_round_folds_two_shares_at_once_each_once_oldest_first_bigger_when_behind(
    db: Settings, deferred: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _tenants_in_both_shares(20, 45)
    running: set[object] = set()
    most_at_once = 0
    both_running = asyncio.Event()
    fold_batch_alone = folding.fold_batch

    async def watched(limit: int, share: folding.Share | None = None) -> int:
        # Both shares' batches at once (the first waits for the second), never one twice.
        nonlocal most_at_once
        assert share is not None and share not in running
        running.add(share)
        most_at_once = max(most_at_once, len(running))
        if len(running) == 2:
            both_running.set()
        await asyncio.wait_for(both_running.wait(), 30)
        try:
            return await fold_batch_alone(limit, share)
        finally:
            running.discard(share)

    monkeypatch.setattr(folding, "fold_batch", watched)
    folder = Folder(batch_rows=25, workers=2)
    # What each round must do: each share's oldest `limit` rows; a full batch doubles the
    # share's next one, up to 4 x 25.
    model = [await _pending_ids(share, 2) for share in (0, 1)]
    limits = [25, 25]
    rounds = 0
    while any(model):
        taken = [min(limit, len(ids)) for limit, ids in zip(limits, model, strict=True)]
        done = await folder.fold_round()
        assert (done.folded, done.behind, done.errors) == (
            sum(taken),
            any(t == limit for t, limit in zip(taken, limits, strict=True)),
            (),
        )
        model = [ids[t:] for ids, t in zip(model, taken, strict=True)]
        assert [await _pending_ids(share, 2) for share in (0, 1)] == model
        limits = [
            min(2 * lim, 100) if t == lim else 25 for t, lim in zip(taken, limits, strict=True)
        ]
        rounds += 1
    assert most_at_once == 2 and rounds >= 3
    assert await _pending() == 0
    assert await folder.fold_round() == type(done)(0, False)
    assert await _tables() == await _rebuilt_from_raw_log()


async def test_a_batch_killed_mid_round_leaves_its_share_pending_and_the_other_folded(
    db: Settings, deferred: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _tenants_in_both_shares(30, 30)
    fold_on_alone = folding.fold_on
    doomed = await _pending_ids(1, 2)
    survivor = await _pending_ids(0, 2)

    async def dies_after_taking(raw: asyncpg.Connection, limit: int, *args: Any, **kw: Any) -> Any:
        taken = await fold_on_alone(raw, limit, *args, **kw)
        if kw.get("share") == (1, 2):
            assert taken == doomed[:40]
            raise ConnectionResetError("killed mid-batch")
        return taken

    monkeypatch.setattr(folding, "fold_on", dies_after_taking)
    done = await Folder(batch_rows=40, workers=2).fold_round()

    assert (done.folded, done.behind) == (40, True)
    assert [str(e) for e in done.errors] == ["killed mid-batch"]
    assert await _pending_ids(0, 2) == survivor[40:]
    assert await _pending_ids(1, 2) == doomed
    # A drain raises the error after its round; the doomed share is still all pending.
    with pytest.raises(ConnectionResetError, match="killed mid-batch"):
        await drain(40, workers=2)
    assert await _pending_ids(1, 2) == doomed
    left = await _pending()
    monkeypatch.setattr(folding, "fold_on", fold_on_alone)
    assert await drain(40, workers=2) == left
    assert await _pending() == 0
    assert await _tables() == await _rebuilt_from_raw_log()


async def test_two_parallel_folders_racing_with_ingest_fold_every_row_once(
    db: Settings, deferred: None
) -> None:
    rng = random.Random(40)
    ingesting = asyncio.gather(*(_ingest(rng, 90) for _ in range(4)))
    folders = [
        asyncio.create_task(_fold_rounds_until(ingesting, Folder(batch_rows=20, workers=2)))
        for _ in range(2)
    ]
    await ingesting
    await asyncio.gather(*folders)

    assert await _pending() == 0
    folded = await _tables()
    assert sum(r[0] for r in folded["usage_rollup_day"].values()) == 360
    assert folded == await _rebuilt_from_raw_log()


async def _fold_rounds_until(done: asyncio.Future[Any], folder: Folder) -> None:
    """Fold rounds until `done` and nothing is left."""
    while True:
        round_ = await folder.fold_round()
        assert round_.errors == ()
        if done.done() and not await _pending():
            return
        await asyncio.sleep(0)


async def test_the_serving_folder_folds_every_organization_with_its_workers(
    db: Settings, deferred: None
) -> None:
    for i in range(3):
        await _ingest(random.Random(50 + i), 70)
    settings = dataclasses.replace(
        db, fold_batch_rows=30, fold_workers=2, fold_interval_seconds=0.05
    )
    stop = start_folder(settings)
    try:
        await until("every pending row folded", lambda: _nothing_pending())
    finally:
        await stop()

    assert await _tables() == await _rebuilt_from_raw_log()


async def _nothing_pending() -> bool:
    return await _pending() == 0
