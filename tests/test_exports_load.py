"""Every export loads in pandas and DuckDB with their default settings, types and counts right.

The data is built to trip a careless format: New York's fall-back night (2024-11-03, 25 hourly
buckets, the 01:00 hour twice, offsets -04:00 then -05:00), request times with and without
microseconds, a BOM on one CSV. Each export, in CSV and JSON lines, is read by
`pandas.read_csv` / `pandas.read_json(lines=True)` and DuckDB's `read_csv` / `read_json`
without options; timestamp columns must then parse with `pandas.to_datetime()` (no
arguments) and be detected by DuckDB as TIMESTAMP WITH TIME ZONE (UTC columns) or TIMESTAMP
(local wall-clock columns). Money is read exactly with the type the docs state,
DECIMAL(38,9) (exports/formats.py MONEY_SQL_TYPE), and equals the API's totals.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pandas as pd
import pytest
from pandas.api import types as pd_types

from audit.trail import Actor, record_change
from exports.formats import MONEY_SQL_TYPE
from models.member import Role
from models.organization import Organization
from models.report import ReportKind
from reports.builder import build_report
from reports.csv import render_csv
from reports.periods import report_period
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store

NEW_YORK = ZoneInfo("America/New_York")
# The fall-back day: 00:00 EDT (04:00 UTC) to 00:00 EST next day (05:00 UTC), 25 hours.
FROM = "2024-11-03T00:00:00-04:00"
TO = "2024-11-04T00:00:00-05:00"
HOURS = 25
# One request per hour of the day, at :00 exactly (zero microseconds) and at :30:00.131543.
REQUESTS = 2 * HOURS
TOTALS = (
    'query { organization { usage(filter: {from: "%s", to: "%s"}) '
    "{ totals { requests customerCost } } } }"
)


@dataclass
class Seeded:
    org: Organization
    token: str
    customer_cost: Decimal


@pytest.fixture
async def seeded(db: object, client: httpx.AsyncClient) -> Seeded:
    org = await make_org(timezone="America/New_York", markup_bps=1250, fixed_fee_nanos=1_000_000)
    owner = await make_member(org, Role.OWNER, name="Owen")
    alice = await make_member(org, Role.MEMBER, name="Alice")
    keys = [await make_key(org, alice, label="alice"), await make_key(org, None, label="team")]
    start = datetime(2024, 11, 3, 4, tzinfo=UTC)
    records = []
    for hour in range(HOURS):
        on_the_hour = start + timedelta(hours=hour)
        records.append(make_record(org, keys[hour % 2], alice, on_the_hour, model="gpt-4"))
        records.append(
            make_record(
                org,
                keys[1],
                None,
                on_the_hour + timedelta(minutes=30, microseconds=131_543),
                model="gpt-4o",
                provider_cost_nanos=135_000_001,
                status_code=500 if hour % 5 == 0 else 200,
            )
        )
    await store(*records)
    by_owner = Actor(member_id=owner.id, token_id=None, via="graphql")
    await record_change(
        org.id, by_owner, "organization.budget", "Organization", org.id, {"budget": ("1", "2")}
    )
    await record_change(
        org.id, by_owner, "apiKey.limit", "ApiKey", keys[0].id, {"monthlyLimit": (None, "1")}
    )
    token = await make_token(owner)
    result = await gql(client, token, TOTALS % (FROM, TO))
    assert result.errors is None and result.data is not None
    totals = result.data["organization"]["usage"]["totals"]
    assert totals["requests"] == REQUESTS
    return Seeded(org, token, Decimal(totals["customerCost"]))


@dataclass(frozen=True)
class Expect:
    """What one export must hold: rows, and its columns by kind."""

    rows: int
    utc: Sequence[str] = ()  # RFC 3339 instants in UTC: TIMESTAMP WITH TIME ZONE
    local: Sequence[str] = ()  # wall-clock times without offset: TIMESTAMP
    counts: Sequence[str] = ()  # whole numbers: BIGINT / int64
    money: Sequence[str] = ()  # USD: DECIMAL(38,9) as stated
    cost_column: str | None = None  # sums to the API's customerCost over the same range


_RANGE = {"from": FROM, "to": TO}
_SUMMARY_COUNTS = ("requests", "failed", "inputTokens", "totalTokens")
_SUMMARY_MONEY = ("providerCost", "markup", "customerCost")
_BUCKET_TIMES = {"utc": ("bucketStartUtc", "bucketEndUtc"), "local": ("bucketStart", "bucketEnd")}

EXPORTS: dict[str, tuple[str, dict[str, str], Expect]] = {
    "request logs": (
        "/export/request-logs",
        {**_RANGE, "bom": "true"},
        Expect(
            REQUESTS,
            utc=("timestamp",),
            counts=("inputTokens", "outputTokens", "latencyMs", "statusCode"),
            money=("providerCost", "markup", "fixedFee", "customerCost"),
            cost_column="customerCost",
        ),
    ),
    "hourly trend across fall-back": (
        "/export/usage/trend",
        {**_RANGE, "granularity": "HOUR"},
        Expect(
            HOURS,
            **_BUCKET_TIMES,
            counts=_SUMMARY_COUNTS,
            money=_SUMMARY_MONEY,
            cost_column="customerCost",
        ),
    ),
    "trend split by model": (
        "/export/usage/trend",
        {**_RANGE, "granularity": "HOUR", "splitBy": "MODEL"},
        Expect(
            2 * HOURS,
            **_BUCKET_TIMES,
            counts=_SUMMARY_COUNTS,
            money=_SUMMARY_MONEY,
            cost_column="customerCost",
        ),
    ),
    "breakdown": (
        "/export/usage/breakdown",
        {**_RANGE, "by": "API_KEY"},
        Expect(2, counts=_SUMMARY_COUNTS, money=_SUMMARY_MONEY, cost_column="customerCost"),
    ),
    "audit trail": ("/export/audit", {}, Expect(2, utc=("createdAt",))),
}


async def _download(
    client: httpx.AsyncClient, token: str, path: str, params: dict[str, str]
) -> bytes:
    response = await client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.content


def _check_pandas(frame: pd.DataFrame, expect: Expect, where: str) -> None:
    assert len(frame) == expect.rows, where
    for column in expect.utc:
        parsed = pd.to_datetime(frame[column])  # defaults: one format, one offset
        assert str(parsed.dt.tz) == "UTC", (where, column)
    for column in expect.local:
        parsed = pd.to_datetime(frame[column])
        assert parsed.dt.tz is None, (where, column)
    for column in expect.counts:
        assert pd_types.is_integer_dtype(frame[column]), (where, column, frame[column].dtype)
    for column in expect.money:
        # Defaults read USD as numbers (float64 in CSV); exact values need the stated type.
        assert pd_types.is_numeric_dtype(frame[column]) or pd_types.is_string_dtype(
            frame[column]
        ), (where, column)


def _check_duckdb(relation: duckdb.DuckDBPyRelation, expect: Expect, where: str) -> None:
    types = {name: str(kind) for name, kind in zip(relation.columns, relation.types, strict=True)}
    assert len(relation.fetchall()) == expect.rows, where
    for column in expect.utc:
        assert types[column] == "TIMESTAMP WITH TIME ZONE", (where, column, types[column])
    for column in expect.local:
        if where.endswith("(jsonl)"):
            # read_json detects only instants with an offset; a wall-clock string stays text
            # that casts cleanly, every row.
            cast = relation.select(f"CAST({column} AS TIMESTAMP) AS t").filter("t IS NOT NULL")
            assert len(cast.fetchall()) == expect.rows, (where, column)
        else:
            assert types[column] == "TIMESTAMP", (where, column, types[column])
    for column in expect.counts:
        assert types[column] == "BIGINT", (where, column, types[column])


def _exact_money_duckdb(path: Path, reader: str, expect: Expect) -> Decimal:
    """The cost column's sum, read as the docs say: money columns typed DECIMAL(38,9)."""
    assert expect.cost_column is not None
    if reader == "read_csv":
        typed = ", ".join(f"'{c}': '{MONEY_SQL_TYPE}'" for c in expect.money)
        sql = f"SELECT sum({expect.cost_column}) FROM read_csv('{path}', types={{{typed}}})"
    else:
        sql = f"SELECT sum(CAST({expect.cost_column} AS {MONEY_SQL_TYPE})) FROM read_json('{path}')"
    [(total,)] = duckdb.sql(sql).fetchall()
    assert isinstance(total, Decimal)
    return total


def _exact_money_pandas(content: bytes, fmt: str, expect: Expect) -> Decimal:
    """The cost column's sum, read as the docs say: money as text, then decimal.Decimal."""
    assert expect.cost_column is not None
    stream = io.BytesIO(content)
    as_text: dict[str, Any] = dict.fromkeys(expect.money, str)
    if fmt == "csv":
        frame = pd.read_csv(stream, dtype=as_text)
    else:
        frame = pd.read_json(stream, lines=True, dtype=as_text)
    return sum((Decimal(v) for v in frame[expect.cost_column]), Decimal(0))


@pytest.mark.parametrize("name", sorted(EXPORTS))
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_every_export_loads_with_default_settings(
    client: httpx.AsyncClient, seeded: Seeded, tmp_path: Path, name: str, fmt: str
) -> None:
    path, params, expect = EXPORTS[name]
    content = await _download(client, seeded.token, f"{path}.{fmt}", params)
    file = tmp_path / f"export.{fmt}"
    file.write_bytes(content)
    where = f"{name} ({fmt})"

    if fmt == "csv":
        frame = pd.read_csv(io.BytesIO(content))
        relation = duckdb.read_csv(str(file))
    else:
        frame = pd.read_json(io.BytesIO(content), lines=True)
        relation = duckdb.read_json(str(file))
    _check_pandas(frame, expect, where)
    _check_duckdb(relation, expect, where)

    if expect.cost_column is not None:
        reader = "read_csv" if fmt == "csv" else "read_json"
        assert _exact_money_duckdb(file, reader, expect) == seeded.customer_cost, where
        assert _exact_money_pandas(content, fmt, expect) == seeded.customer_cost, where


async def test_the_trend_keeps_the_repeated_hour_apart_in_utc(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    content = await _download(
        client, seeded.token, "/export/usage/trend.csv", {**_RANGE, "granularity": "HOUR"}
    )
    frame = pd.read_csv(io.BytesIO(content))
    local = pd.to_datetime(frame["bucketStart"])
    utc = pd.to_datetime(frame["bucketStartUtc"])

    # 01:00 twice on the wall clock (EDT, then EST), two distinct instants an hour apart.
    repeated = frame[local == pd.Timestamp("2024-11-03T01:00:00")]
    assert repeated["bucketStartUtc"].tolist() == [
        "2024-11-03T05:00:00.000000+00:00",
        "2024-11-03T06:00:00.000000+00:00",
    ]
    assert utc.is_unique and utc.is_monotonic_increasing
    assert (utc.dt.tz_convert(NEW_YORK).dt.tz_localize(None) == local).all()


async def test_a_report_csv_across_fall_back_loads_in_pandas_and_duckdb(
    seeded: Seeded, tmp_path: Path
) -> None:
    period = report_period(ReportKind.DAILY, datetime(2024, 11, 3).date(), NEW_YORK)
    generated = datetime(2024, 11, 4, 0, 30, tzinfo=NEW_YORK)
    text = render_csv(await build_report(seeded.org, ReportKind.DAILY, period, generated))
    file = tmp_path / "report.csv"
    file.write_text(text, encoding="utf-8", newline="")

    frame = pd.read_csv(io.BytesIO(text.encode()))
    relation = duckdb.read_csv(str(file))
    types = {n: str(t) for n, t in zip(relation.columns, relation.types, strict=True)}

    trend = frame[frame["section"] == "trend"]
    assert len(trend) == HOURS
    assert str(pd.to_datetime(frame["periodStartUtc"]).dt.tz) == "UTC"
    assert pd.to_datetime(frame["periodStart"]).dt.tz is None
    assert types["periodStartUtc"] == types["periodEndUtc"] == "TIMESTAMP WITH TIME ZONE"
    assert types["periodStart"] == types["periodEnd"] == "TIMESTAMP"
    [(total,)] = duckdb.sql(
        f"SELECT customerCost FROM read_csv('{file}', types={{'customerCost': "
        f"'{MONEY_SQL_TYPE}'}}) WHERE section = 'total'"
    ).fetchall()
    assert total == seeded.customer_cost


def _readme_bi_example() -> str:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    blocks = [
        b
        for b in re.findall(r"^```python\n(.*?)^```", readme, re.S | re.M)
        if "DuckDB" in b or "duckdb" in b
    ]
    assert len(blocks) == 1, "README.md should hold one ```python BI example"
    return blocks[0]


async def test_the_readmes_bi_example_reads_money_exactly(
    client: httpx.AsyncClient, seeded: Seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = await _download(client, seeded.token, "/export/request-logs.csv", dict(_RANGE))
    (tmp_path / "logs.csv").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    names: dict[str, Any] = {}

    exec(_readme_bi_example(), names)  # the README's snippet, as printed

    logs, frame = names["logs"], names["frame"]
    [(total,)] = logs.aggregate("sum(customerCost)").fetchall()
    assert total == seeded.customer_cost
    assert sum(frame["customerCost"], Decimal(0)) == seeded.customer_cost
    assert str(frame["timestamp"].dt.tz) == "UTC" and len(frame) == REQUESTS
