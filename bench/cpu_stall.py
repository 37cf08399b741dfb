"""How long one heavy request holds every other request of the same worker, and how late the
request timeout fires for it (docs in bench/README.md, "CPU stalls").

One uvicorn worker; a probe sends `{ viewer { role } }` back to back on its own connection
while one attack request runs, and the probe's slowest answer is how long another tenant
waited. Attacks: a 10 MB string literal, a body over AIZE_MAX_REQUEST_BYTES, the largest
accepted document, an hourly trend split by model over 62 days (cost limits raised so that
the timeout, not the cost model, stops it), and the same trend as a CSV export.

    python -m bench.cpu_stall --database-url sqlite://demo.sqlite3 --timeout 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bench.http_client import HttpConnection
from bench.service import owner_token, start_service

_UNLIMITED = "1000000000"
_MEASURES = (
    "requests successful failed clientErrors serverErrors successRate errorRate inputTokens "
    "outputTokens totalTokens providerCost markup fixedFees customerCost "
    "averageCostPerRequest averageLatencyMs unpricedRequests"
)


@dataclass(frozen=True, slots=True)
class Attack:
    name: str
    request: Callable[[HttpConnection, str], bytes]


def _post(query: str, variables: dict[str, object] | None = None) -> Callable[..., bytes]:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()

    def build(http: HttpConnection, token: str) -> bytes:
        return http.request_bytes("/graphql", body, {"Authorization": f"Bearer {token}"})

    return build


def _period() -> tuple[str, str]:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return (end - timedelta(days=62)).isoformat(), end.isoformat()


def _attacks() -> list[Attack]:
    start, end = _period()
    trend = (
        f'{{ viewer {{ organization {{ usage(filter: {{from: "{start}", to: "{end}"}}) '
        "{ trend(granularity: HOUR, splitBy: MODEL, limit: 100) "
        f"{{ series {{ model buckets {{ start end totals {{ {_MEASURES} }} }} }} }} }} }} }} }}"
    )
    export_path = (
        f"/export/usage/trend.csv?from={start}&to={end}&granularity=HOUR&splitBy=MODEL&limit=100"
    ).replace("+", "%2B")

    def export(http: HttpConnection, token: str) -> bytes:
        head = (
            f"GET {export_path} HTTP/1.1\r\nHost: {http.host}:{http.port}\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        )
        return head.encode()

    literal = '{ viewer { organization { usage(filter: {models: ["' + "A" * 10_000_000 + '"]}) '
    literal += "{ totals { requests } } } } }"
    # 2,000 tokens of one field: the overlapping-fields rule compares them pairwise.
    widest = "{ viewer { " + "role " * 1_990 + "} }"
    # Just under 128 KiB of document, two literals just under 64 KiB each.
    largest = '{ organization { usage(filter: {models: ["' + "A" * 65_000 + '", "'
    largest += "B" * 65_000 + '"]}) { totals { requests } } } }'
    # 16 MB of variables: logged bodies, the one input exempt from the string limit (the
    # owner is refused FORBIDDEN after the same parsing and checking as an ingest token).
    ingest = "mutation($r: [RequestLogInput!]!) { ingestRequestLogs(records: $r) { accepted } }"
    record = {
        "requestId": "0",
        "timestamp": end,
        "model": "m",
        "endpoint": "/",
        "inputTokens": 1,
        "outputTokens": 1,
        "latencyMs": 1,
        "statusCode": 200,
        "requestBody": "A" * 160_000,
    }
    return [
        Attack("10 MB string literal", _post(literal)),
        Attack(
            "20 MB body (over the request limit)",
            _post("{ viewer { role } }", {"pad": "A" * 20_000_000}),
        ),
        Attack("2,000-token document (widest accepted)", _post(widest)),
        Attack("128 KiB document, two 64 KiB literals", _post(largest)),
        Attack(
            "16 MB of variables (100 records, 160 kB bodies)", _post(ingest, {"r": [record] * 100})
        ),
        Attack("trend HOUR x MODEL x 62 days, 17 measures", _post(trend)),
        Attack("export trend.csv HOUR x MODEL x 62 days", export),
    ]


async def _probe(url: str, token: str, stop: asyncio.Event) -> list[float]:
    http = HttpConnection(url)
    request = _post("{ viewer { role } }")(http, token)
    waits: list[float] = []
    try:
        while not stop.is_set():
            began = time.perf_counter()
            answer = await http.send(request)
            waits.append(time.perf_counter() - began)
            if answer.status != 200:
                raise RuntimeError(f"probe answered {answer.status}: {answer.body[:200]!r}")
    finally:
        await http.close()
    return waits


async def _run(attack: Attack, url: str, token: str) -> str:
    stop = asyncio.Event()
    probe = asyncio.create_task(_probe(url, token, stop))
    await asyncio.sleep(0.3)  # the probe is running before the attack starts
    http = HttpConnection(url)
    began = time.perf_counter()
    answer = await http.send(attack.request(http, token))
    took = time.perf_counter() - began
    await http.close()
    stop.set()
    waits = await probe
    head = answer.body[:160].decode("utf-8", "replace").replace("\n", " ")
    return (
        f"| {attack.name} | {answer.status} {head!r} | {took:.2f} s | "
        f"{max(waits) * 1000:.0f} ms (of {len(waits)} probes) |"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--organization-id", type=int, default=1)
    parser.add_argument("--timeout", default="3", help="AIZE_REQUEST_TIMEOUT_SECONDS")
    parser.add_argument("--source", default=None, help="run the service from this source tree")
    parser.add_argument("--only", default="", help="run the attacks whose name contains this")
    args = parser.parse_args()
    token = await owner_token(args.database_url, args.organization_id)
    if args.source:
        os.chdir(args.source)
    process, url = await start_service(
        args.database_url,
        1,
        {
            "AIZE_ALERT_WORKER": "false",
            "AIZE_REQUEST_TIMEOUT_SECONDS": args.timeout,
            "AIZE_MAX_QUERY_COST": _UNLIMITED,
            "AIZE_RATE_LIMIT_CAPACITY": _UNLIMITED,
            "AIZE_RATE_LIMIT_REFILL_PER_SECOND": _UNLIMITED,
        },
    )
    try:
        print(f"timeout {args.timeout} s; one worker; {args.database_url}")
        print("| attack | answer | attack took | other request waited (max) |")
        print("|---|---|---|---|")
        for attack in [a for a in _attacks() if args.only in a.name]:
            print(await _run(attack, url, token), flush=True)
    finally:
        process.terminate()
        await process.wait()


if __name__ == "__main__":
    asyncio.run(main())
