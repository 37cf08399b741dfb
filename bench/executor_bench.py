"""The fast executor on and off: the dashboard and the log page through HTTP against two
services on the same data, one with AIZE_FAST_EXECUTOR=true and one with false, timed
alternately in one run.

    python -m bench.executor_bench --rows 10000000 --rounds 12 --per-round 15

Loads (or reuses) the dashboard benchmark's data set (bench.load_data), starts both services
(one uvicorn worker each), checks that both answer each request with the same bytes, then
runs `--rounds` rounds; in each round every question is sent `--per-round` times to one
service and then to the other (which goes first alternates by round), so the machine's
drift and the neighbours' load fall on both alike. Prints, per question and executor, the
median latency over all requests, the median of the rounds' medians, and the service's CPU
per request (its process, from /proc), and the ratios off/on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bench.dashboard_bench import load_average, prepare
from bench.http_client import HttpConnection
from bench.process_cpu import cpu_seconds, process_tree
from bench.service import _UNLIMITED, start_service

QUESTIONS = ("dashboard", "dashboard (trend as objects)", "log page")
EXECUTORS = {"on": "true", "off": "false"}


@dataclass
class Samples:
    """One question on one executor: latencies (ms) by round, CPU seconds and requests."""

    rounds: list[list[float]] = field(default_factory=list)
    cpu_seconds: float = 0.0
    requests: int = 0

    def summary(self) -> dict[str, float]:
        every = [ms for one in self.rounds for ms in one]
        return {
            "median_ms": statistics.median(every),
            "median_of_round_medians_ms": statistics.median(
                statistics.median(one) for one in self.rounds
            ),
            "min_ms": min(every),
            "cpu_ms_per_request": 1000 * self.cpu_seconds / self.requests,
        }


@dataclass
class Service:
    name: str
    pid: int
    http: HttpConnection
    requests: tuple[bytes, bytes, bytes]

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in process_tree(self.pid))


async def _send(service: Service, request: bytes) -> bytes:
    response = await service.http.send(request)
    if response.status != 200 or b'"errors"' in response.body:
        raise RuntimeError(f"{service.name}: HTTP {response.status}: {response.body[:300]!r}")
    return response.body


async def _block(service: Service, request: bytes, count: int, samples: Samples) -> None:
    latencies = []
    started_cpu = service.cpu()
    for _ in range(count):
        started = time.perf_counter()
        await _send(service, request)
        latencies.append((time.perf_counter() - started) * 1000)
    samples.cpu_seconds += service.cpu() - started_cpu
    samples.requests += count
    samples.rounds.append(latencies)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    print(f"machine: {os.cpu_count()} cores; load average {load_average()}", flush=True)
    setup = await prepare(args.rows, args.seed, args.database_url)
    environment = {
        "AIZE_ALERT_WORKER": "false",
        "AIZE_RATE_LIMIT_CAPACITY": _UNLIMITED,
        "AIZE_RATE_LIMIT_REFILL_PER_SECOND": _UNLIMITED,
    }
    services: list[Service] = []
    processes = []
    try:
        for name, value in EXECUTORS.items():
            process, url = await start_service(
                setup.database_url, 1, {**environment, "AIZE_FAST_EXECUTOR": value}
            )
            processes.append(process)
            services.append(
                Service(name, process.pid, HttpConnection(url), await setup.requests(url))
            )
        for index, question in enumerate(QUESTIONS):
            answers = set()
            for service in services:
                for _ in range(args.warmup):
                    body = await _send(service, service.requests[index])
                answers.add(body)
            if len(answers) != 1:
                raise RuntimeError(f"{question}: the two executors answer differently")
        print("answers: byte-identical with the fast executor on and off", flush=True)
        samples = {(q, s.name): Samples() for q in QUESTIONS for s in services}
        for round_number in range(args.rounds):
            order = services if round_number % 2 == 0 else services[::-1]
            for index, question in enumerate(QUESTIONS):
                for service in order:
                    await _block(
                        service,
                        service.requests[index],
                        args.per_round,
                        samples[(question, service.name)],
                    )
        for service in services:
            await service.http.close()
    finally:
        for process in processes:
            if process.returncode is None:
                process.terminate()
            await process.wait()
    report: dict[str, Any] = {
        "rows": setup.loaded.rows,
        "rounds": args.rounds,
        "per_round": args.per_round,
        "load_average_end": load_average(),
        "questions": {},
    }
    for question in QUESTIONS:
        on, off = samples[(question, "on")].summary(), samples[(question, "off")].summary()
        report["questions"][question] = {
            "on": on,
            "off": off,
            "off_over_on_median": off["median_ms"] / on["median_ms"],
            "off_over_on_cpu": off["cpu_ms_per_request"] / on["cpu_ms_per_request"],
        }
        print(
            f"{question:30s} on : median {on['median_ms']:7.2f} ms (rounds "
            f"{on['median_of_round_medians_ms']:7.2f}, min {on['min_ms']:.2f}), "
            f"CPU {on['cpu_ms_per_request']:6.2f} ms/request"
        )
        print(
            f"{'':30s} off: median {off['median_ms']:7.2f} ms (rounds "
            f"{off['median_of_round_medians_ms']:7.2f}, min {off['min_ms']:.2f}), "
            f"CPU {off['cpu_ms_per_request']:6.2f} ms/request"
        )
        print(
            f"{'':30s} off/on: latency x{report['questions'][question]['off_over_on_median']:.3f}"
            f", CPU x{report['questions'][question]['off_over_on_cpu']:.3f}"
        )
    print(f"load average at the end: {report['load_average_end']}")
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.executor_bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--per-round", type=int, default=15, help="requests per block")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="default: a scratch database")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    report = asyncio.run(run(args))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=2)


if __name__ == "__main__":
    main()
