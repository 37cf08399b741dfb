"""Noisy neighbour benchmark: one organization attacks, another one's dashboard must not
notice (issue 12).

    python -m bench.noisy_neighbour --rows 1000000 --seconds 60 --check

Loads (or reuses) the dashboard benchmark's data set (bench.load_data), starts the real
service (uvicorn, `--workers`, PostgreSQL, the service's default limits; `--env` sets
others) and runs two phases of `--seconds` each:

1. baseline: the victim (the big organization) runs the dashboard from `--victim-clients`
   open-loop clients, each with its own token of the owner, at `--victim-rate` requests/s
   in all (bench.load_test: latency counted from each request's scheduled send time, so a
   stall shows in every request it delays);
2. attack: the same victim load while the attacker (the second organization) loops over
   the attack documents (bench.attack_documents) from `--attacker-clients` clients, each
   sending the next request when the last is answered, in a separate process, with
   `--attacker-tokens` tokens of its one owner.

Prints the victim's p50/p95/p99/max and errors per phase, p99(attack) / p99(baseline),
and per attack document: count, answers by status and error code, median and max latency,
the refusals' median latency, bytes received. The verdict (PASS/FAIL; `--check` exits 1 on
FAIL): the victim's p99 under attack is at most 100 ms and at most twice its baseline p99,
the victim has no error in either phase, and the attacker gets refusals, not service time:
at most half of its request time goes to answers that were not refusals, and the refusals
the server works on take at most 100 ms (median; RATE_LIMITED answers of a spent budget are
left out: the server pauses them on purpose before answering, without working on them).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

import asyncpg
import orjson

from bench.attack_documents import attack_documents, attack_window
from bench.attacker import AttackPlan, DocumentTally, attack_in_process
from bench.dashboard_bench import load_average, prepare
from bench.datagen import DataPlan, plan_directory
from bench.http_client import HttpConnection
from bench.load_test import LoadPlan, LoadResult, nearest_rank_ms, run_load
from bench.service import owner_tokens, serving

VICTIM_P99_LIMIT_MS = 100.0
VICTIM_P99_RATIO_LIMIT = 2.0
# "The attacker gets refusals, not service time": at most this share of the attacker's
# request time may go to answers that were not refusals (full answers, timeouts, 5xx).
ATTACKER_SERVED_SHARE_LIMIT = 0.5
# ...and the refusals the server works on come quickly: one that takes seconds is service
# time too (paused RATE_LIMITED answers are waiting, not work, and are left out).
REFUSAL_MEDIAN_LIMIT_MS = 100.0
# The attacker: the data set's second organization (datagen's index 1, ~13% of the rows).
ATTACKER_INDEX = 1
# The attack starts this long before the victim's clock, so the victim meets it at full
# strength (the attacker's process starts, its first requests arrive).
ATTACK_LEAD_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class PhaseFigures:
    """The victim's dashboard latencies in one phase (ms) and its errors by kind."""

    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]

    @classmethod
    def of(cls, result: LoadResult) -> PhaseFigures:
        stats = result.stats()
        return cls(
            int(stats["count"]),
            stats["p50_ms"],
            stats["p95_ms"],
            stats["p99_ms"],
            stats["max_ms"],
            dict(result.errors),
        )

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def __str__(self) -> str:
        return (
            f"n={self.requests:6d}  p50 {self.p50_ms:8.1f} ms  p95 {self.p95_ms:8.1f} ms  "
            f"p99 {self.p99_ms:8.1f} ms  max {self.max_ms:8.1f} ms  "
            f"errors {self.error_count} {self.errors or ''}"
        )


def p99_ratio(baseline: PhaseFigures, attacked: PhaseFigures) -> float:
    """p99 under attack / p99 at baseline (infinite when the baseline has no sample)."""
    if baseline.p99_ms <= 0:
        return math.inf
    return attacked.p99_ms / baseline.p99_ms


@dataclass(frozen=True, slots=True)
class AttackerFigures:
    """How the attacker was answered, over all its documents: how many requests and
    refusals, the share of its request time (sum of latencies) spent in answers that were
    not refusals, and the median latency of the refusals the server worked on (ms; paused
    RATE_LIMITED answers left out)."""

    requests: int
    refusals: int
    served_share: float
    refusal_median_ms: float

    @classmethod
    def of(cls, tallies: dict[str, DocumentTally]) -> AttackerFigures:
        total = sum(sum(t.latencies_ms) for t in tallies.values())
        refusals = sorted(ms for t in tallies.values() for ms in t.refusal_latencies_ms)
        worked = sorted(ms for t in tallies.values() for ms in t.worked_refusal_latencies_ms)
        return cls(
            sum(t.count for t in tallies.values()),
            len(refusals),
            # max(): float sums of the same latencies in another order can differ by an ulp.
            max(0.0, (total - sum(refusals)) / total) if total > 0 else 0.0,
            nearest_rank_ms(worked, 50),
        )


def verdict_failures(
    baseline: PhaseFigures, attacked: PhaseFigures, attacker: AttackerFigures
) -> list[str]:
    """Why the run misses the target; empty when it meets it."""
    failures = []
    if attacked.requests == 0 or baseline.requests == 0:
        failures.append("the victim got no answer in a phase")
    if attacked.p99_ms > VICTIM_P99_LIMIT_MS:
        failures.append(
            f"victim p99 under attack {attacked.p99_ms:.1f} ms > {VICTIM_P99_LIMIT_MS:g} ms"
        )
    ratio = p99_ratio(baseline, attacked)
    if ratio > VICTIM_P99_RATIO_LIMIT:
        failures.append(
            f"victim p99 under attack is {ratio:.1f}x its baseline (> {VICTIM_P99_RATIO_LIMIT:g}x)"
        )
    for name, figures in (("baseline", baseline), ("attack", attacked)):
        if figures.error_count:
            failures.append(f"victim errors in the {name} phase: {figures.errors}")
    if attacker.served_share > ATTACKER_SERVED_SHARE_LIMIT:
        failures.append(
            f"{attacker.served_share:.0%} of the attacker's time went to answers that were "
            f"not refusals (> {ATTACKER_SERVED_SHARE_LIMIT:.0%})"
        )
    if attacker.refusal_median_ms > REFUSAL_MEDIAN_LIMIT_MS:
        failures.append(
            f"the attacker's refusals took {attacker.refusal_median_ms:.0f} ms (median) "
            f"> {REFUSAL_MEDIAN_LIMIT_MS:g} ms"
        )
    return failures


async def _organization_id(database_url: str, slug: str) -> int:
    conn = await asyncpg.connect("postgresql://" + database_url.split("://", 1)[1])
    try:
        found = await conn.fetchval("SELECT id FROM organization WHERE slug = $1", slug)
    finally:
        await conn.close()
    if found is None:
        raise RuntimeError(f"no organization {slug!r} in the benchmark database")
    return int(found)


async def _dashboard_cost(base_url: str, request: bytes) -> object:
    """The dashboard's `extensions.cost` as the service reports it (None when absent)."""
    http = HttpConnection(base_url)
    try:
        response = await http.send(request)
    finally:
        await http.close()
    payload = orjson.loads(response.body)
    if response.status != 200 or payload.get("errors"):
        raise RuntimeError(f"victim dashboard: HTTP {response.status}: {response.body[:300]!r}")
    return (payload.get("extensions") or {}).get("cost")


def _settings(pairs: list[str]) -> dict[str, str]:
    settings = {"AIZE_ALERT_WORKER": "false"}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name:
            raise SystemExit(f"--env expects NAME=VALUE, got {pair!r}")
        settings[name] = value
    return settings


async def run(args: argparse.Namespace) -> dict[str, Any]:
    """Prepare, run both phases, print the figures; returns them with the verdict."""
    print(f"machine: {os.cpu_count()} cores; load average {load_average()}", flush=True)
    setup = await prepare(args.rows, args.seed, args.database_url)
    database_url = setup.database_url
    attacker_slug = plan_directory(DataPlan(rows=args.rows, seed=args.seed))[ATTACKER_INDEX].slug
    attacker_org = await _organization_id(database_url, attacker_slug)
    victim_tokens = await owner_tokens(
        database_url, setup.loaded.big_organization_id, args.victim_clients, "noisy neighbour"
    )
    tokens = await owner_tokens(database_url, attacker_org, args.attacker_tokens, "noisy neighbour")
    documents = attack_documents(*attack_window(setup.loaded.data_end))
    victim_plan = LoadPlan(args.victim_clients, args.victim_rate, args.seconds, 1.0)
    settings = _settings(args.env)
    async with serving(database_url, args.workers, settings) as base_url:
        http = HttpConnection(base_url)
        # One token per victim client, as each person of the organization has their own.
        dashboards = [
            http.request_bytes("/graphql", setup.dashboard_body, {"Authorization": f"Bearer {t}"})
            for t in victim_tokens
        ]
        cost = await _dashboard_cost(base_url, dashboards[0])
        # Warm every worker's pool and caches before the clock starts (as bench.load_test).
        await run_load(
            base_url, LoadPlan(args.workers * 4, args.workers * 8, 2.0), dashboards, dashboards
        )
        print(f"phase 1: baseline, {args.seconds:g} s", flush=True)
        baseline = await run_load(base_url, victim_plan, dashboards, dashboards)
        print(f"phase 2: attack, {args.seconds:g} s", flush=True)
        start_at = time.time() + 2.0  # the attacker's process needs a moment to start
        attack_plan = AttackPlan(
            base_url,
            documents,
            tokens,
            args.attacker_clients,
            start_at,
            start_at + ATTACK_LEAD_SECONDS + args.seconds,
        )
        attack_task = asyncio.create_task(attack_in_process(attack_plan))
        await asyncio.sleep(max(0.0, start_at + ATTACK_LEAD_SECONDS - time.time()))
        attacked = await run_load(base_url, victim_plan, dashboards, dashboards)
        tallies = await attack_task
    figures = {"baseline": PhaseFigures.of(baseline), "attack": PhaseFigures.of(attacked)}
    attacker = AttackerFigures.of(tallies)
    failures = verdict_failures(figures["baseline"], figures["attack"], attacker)
    report: dict[str, Any] = {
        "rows": setup.loaded.rows,
        "workers": args.workers,
        "settings": settings,
        "seconds_per_phase": args.seconds,
        "victim": {
            "organization_id": setup.loaded.big_organization_id,
            "clients": args.victim_clients,
            "offered_rate": args.victim_rate,
            "dashboard_cost": cost,
            **{name: asdict(phase) for name, phase in figures.items()},
            "p99_ratio": p99_ratio(figures["baseline"], figures["attack"]),
        },
        "attacker": {
            "organization_id": attacker_org,
            "clients": args.attacker_clients,
            "tokens": args.attacker_tokens,
            **asdict(attacker),
            "documents": {name: _tally_figures(tally) for name, tally in tallies.items()},
        },
        "load_average_end": load_average(),
        "failures": failures,
    }
    _print_report(report, figures, tallies)
    return report


def _tally_figures(tally: DocumentTally) -> dict[str, Any]:
    return {
        "count": tally.count,
        "answers": dict(tally.outcomes),
        "refused": len(tally.refusal_latencies_ms),
        "refusal_median_ms": nearest_rank_ms(sorted(tally.worked_refusal_latencies_ms), 50),
        "median_ms": tally.median_ms(),
        "max_ms": tally.max_ms(),
        "bytes_received": tally.bytes_received,
    }


def _print_report(
    report: dict[str, Any], figures: dict[str, PhaseFigures], tallies: dict[str, DocumentTally]
) -> None:
    victim, attacker = report["victim"], report["attacker"]
    print(
        f"victim: organization {victim['organization_id']}, "
        f"dashboard (cost {victim['dashboard_cost']}), "
        f"{victim['clients']} clients (a token each), {victim['offered_rate']:g} req/s offered, "
        f"{report['seconds_per_phase']:g} s per phase, {report['workers']} workers"
    )
    print(f"  baseline      {figures['baseline']}")
    print(f"  under attack  {figures['attack']}")
    print(f"  p99 under attack / baseline: {victim['p99_ratio']:.2f}x")
    print(
        f"attacker: organization {attacker['organization_id']}, {attacker['clients']} clients, "
        f"{attacker['tokens']} tokens of its owner"
    )
    print(
        f"  {'document':18s} {'count':>6s} {'median ms':>10s} {'max ms':>10s} "
        f"{'refusal median':>15s} {'received':>11s}  answers"
    )
    for name, tally in tallies.items():
        answers = ", ".join(f"{label}: {n}" for label, n in tally.outcomes.most_common())
        refusal_median = nearest_rank_ms(sorted(tally.worked_refusal_latencies_ms), 50)
        print(
            f"  {name:18s} {tally.count:6d} {tally.median_ms():10.1f} {tally.max_ms():10.1f} "
            f"{refusal_median:12.1f} ms {tally.bytes_received / 1e6:8.1f} MB  {answers}"
        )
    print(
        f"  {attacker['refusals']} of {attacker['requests']} requests refused; worked-on "
        "refusals' median "
        f"{attacker['refusal_median_ms']:.1f} ms (limit {REFUSAL_MEDIAN_LIMIT_MS:g} ms); "
        f"time in answers that were not refusals: {attacker['served_share']:.0%} "
        f"(limit {ATTACKER_SERVED_SHARE_LIMIT:.0%})"
    )
    print(f"load average at the end: {report['load_average_end']}")
    if report["failures"]:
        print("verdict: FAIL")
        for failure in report["failures"]:
            print(f"  {failure}")
    else:
        print("verdict: PASS")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.noisy_neighbour", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="request logs in the data")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: the scratch database aize_bench_dash_<rows>_s<seed> on 127.0.0.1:5432",
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--victim-clients", type=int, default=8)
    parser.add_argument("--victim-rate", type=float, default=8.0, help="dashboards/s, all clients")
    parser.add_argument("--attacker-clients", type=int, default=4)
    parser.add_argument("--attacker-tokens", type=int, default=4, help="tokens of the same owner")
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a service setting (repeatable), e.g. AIZE_REDIS_URL=redis://127.0.0.1:6379/0",
    )
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2, default=str)
    if args.check and report["failures"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
