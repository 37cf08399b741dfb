"""Open-loop load test: `clients` connections, each sending requests on a fixed schedule,
with latency measured from the SCHEDULED send time.

    python -m bench.load_test --rows 10000000 --clients 64 --rate 60 --seconds 60 --workers 2

A closed-loop tool (each client waits for its answer, then sends the next) slows down with
the server and so never measures the queueing it causes ("coordinated omission"). Here
client i sends its k-th request at start + phase_i + k / (rate / clients); when an answer is
late, the next request goes out as soon as the connection is free, but its latency still
counts from when it should have been sent, so a stall shows in every request it delayed.
Requests are a mix of the benchmark's dashboard query and log page (`--dashboard-share`);
the run is bounded in count (seconds x rate) and time (seconds + a 30 s grace, after which
unfinished requests count as errors), and only loopback addresses are accepted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.http_client import HttpConnection, loopback_address

GRACE_SECONDS = 30.0
_KINDS = ("dashboard", "log page")


@dataclass(frozen=True, slots=True)
class LoadPlan:
    clients: int
    rate: float  # requests per second, all clients together
    seconds: float
    dashboard_share: float = 0.5


def nearest_rank_ms(sorted_samples: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of ascending samples; 0 for none."""
    if not sorted_samples:
        return 0.0
    rank = max(1, -(-len(sorted_samples) * p // 100))
    return sorted_samples[int(rank) - 1]


@dataclass(slots=True)
class LoadResult:
    plan: LoadPlan
    scheduled: int = 0
    elapsed_seconds: float = 0.0
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in _KINDS})
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def completed(self) -> int:
        return sum(len(v) for v in self.latencies_ms.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def stats(self, kind: str | None = None) -> dict[str, float]:
        samples = sorted(
            s
            for name, values in self.latencies_ms.items()
            if kind is None or name == kind
            for s in values
        )
        return {
            "count": float(len(samples)),
            "p50_ms": nearest_rank_ms(samples, 50),
            "p95_ms": nearest_rank_ms(samples, 95),
            "p99_ms": nearest_rank_ms(samples, 99),
            "max_ms": samples[-1] if samples else 0.0,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients": self.plan.clients,
            "offered_rate": self.plan.rate,
            "seconds": self.plan.seconds,
            "dashboard_share": self.plan.dashboard_share,
            "scheduled": self.scheduled,
            "completed": self.completed,
            "throughput_per_s": self.completed / self.elapsed_seconds
            if self.elapsed_seconds
            else 0,
            "errors": dict(self.errors),
            "all": self.stats(),
            **{kind: self.stats(kind) for kind in _KINDS},
        }

    def summary(self) -> str:
        data = self.as_dict()
        lines = [
            f"load: {self.plan.clients} clients, offered {self.plan.rate:g} req/s for "
            f"{self.plan.seconds:g} s ({self.plan.dashboard_share:.0%} dashboards): "
            f"{self.completed}/{self.scheduled} completed, {data['throughput_per_s']:.1f} req/s, "
            f"errors {self.error_count} {self.errors or ''}"
        ]
        for kind in (None, *_KINDS):
            s = self.stats(kind)
            lines.append(
                f"  {kind or 'all':10s} n={int(s['count']):6d}  p50 {s['p50_ms']:8.1f} ms  "
                f"p95 {s['p95_ms']:8.1f} ms  p99 {s['p99_ms']:8.1f} ms  max {s['max_ms']:8.1f} ms"
            )
        return "\n".join(lines)


async def _client(
    index: int,
    base_url: str,
    plan: LoadPlan,
    requests: dict[str, bytes],
    start: float,
    result: LoadResult,
) -> None:
    interval = plan.clients / plan.rate
    count = int(plan.seconds / interval)
    rng = random.Random(index)
    connection = HttpConnection(base_url)
    loop = asyncio.get_running_loop()
    phase = interval * index / plan.clients
    try:
        for k in range(count):
            scheduled = start + phase + k * interval
            kind = _KINDS[0] if rng.random() < plan.dashboard_share else _KINDS[1]
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                response = await connection.send(requests[kind])
            except (OSError, asyncio.IncompleteReadError) as error:
                name = type(error).__name__
                result.errors[name] = result.errors.get(name, 0) + 1
                continue
            if response.status != 200 or b'"errors"' in response.body:
                name = f"HTTP {response.status}" if response.status != 200 else "GraphQL error"
                result.errors[name] = result.errors.get(name, 0) + 1
                continue
            result.latencies_ms[kind].append((loop.time() - scheduled) * 1000)
    finally:
        await connection.close()


def _of_client(request: bytes | Sequence[bytes], index: int) -> bytes:
    """What client `index` sends: the request, or its turn in a list of them (one per
    token, say)."""
    if isinstance(request, bytes):
        return request
    return request[index % len(request)]


async def run_load(
    base_url: str,
    plan: LoadPlan,
    dashboard_request: bytes | Sequence[bytes],
    page_request: bytes | Sequence[bytes],
) -> LoadResult:
    """Run the plan against the service; every request is pre-built HTTP bytes (one for
    every client, or a list that client i takes item i modulo its length of)."""
    loopback_address(base_url)
    if plan.clients < 1 or plan.rate <= 0 or plan.seconds <= 0:
        raise ValueError("clients, rate and seconds must be positive")
    result = LoadResult(plan)
    interval = plan.clients / plan.rate
    result.scheduled = plan.clients * int(plan.seconds / interval)
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.2
    began = time.perf_counter()
    tasks = [
        asyncio.create_task(
            _client(
                i,
                base_url,
                plan,
                {
                    _KINDS[0]: _of_client(dashboard_request, i),
                    _KINDS[1]: _of_client(page_request, i),
                },
                start,
                result,
            )
        )
        for i in range(plan.clients)
    ]
    _, pending = await asyncio.wait(tasks, timeout=plan.seconds + GRACE_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    result.elapsed_seconds = time.perf_counter() - began
    unfinished = result.scheduled - result.completed - result.error_count
    if unfinished:
        result.errors["unfinished at the deadline"] = unfinished
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load_test", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rate", type=float, default=60.0, help="requests/s, all clients")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--dashboard-share", type=float, default=0.5)
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--pool-max", type=int, default=10, help="connections per worker")
    return parser.parse_args(argv)


async def _main(args: argparse.Namespace) -> None:
    from bench.dashboard_bench import prepare
    from bench.service import running_service

    setup = await prepare(args.rows, args.seed, args.database_url)
    async with running_service(
        setup.database_url, workers=args.workers, pool_max=args.pool_max
    ) as base_url:
        dashboard_request, page_request, _ = await setup.requests(base_url)
        # Warm every worker's pool and caches before the clock starts.
        await run_load(
            base_url,
            LoadPlan(args.workers * 4, args.workers * 8, 2.0),
            dashboard_request,
            page_request,
        )
        result = await run_load(
            base_url,
            LoadPlan(args.clients, args.rate, args.seconds, args.dashboard_share),
            dashboard_request,
            page_request,
        )
    print(f"workers: {args.workers}, pool: {args.pool_max} per worker")
    print(result.summary())


def main(argv: list[str] | None = None) -> None:
    asyncio.run(_main(parse_args(argv)))


if __name__ == "__main__":
    main()
