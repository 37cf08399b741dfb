"""The noisy neighbour's clients: each loops over the attack documents, sending the next as
soon as the previous one is answered, and tallies per document what the service answered
(status and error code), how long it took and how many bytes came back.

Runs in its own process (`attack_in_process`) so that reading megabytes of answers never
delays the event loop that times the victim's requests.
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field

import orjson

from bench.attack_documents import AttackDocument
from bench.http_client import HttpConnection, Response
from bench.load_test import nearest_rank_ms

# How long requests still in flight when the attack stops are waited for.
GRACE_SECONDS = 30.0
# GraphQL answers whose error codes mean the service did the work and failed or ran out of
# time: service time, not a refusal. Any other code (BAD_USER_INPUT, QUERY_TOO_COMPLEX,
# RATE_LIMITED, FORBIDDEN...) refused the request.
SERVICE_TIME_CODES = frozenset({"TIMEOUT", "INTERNAL", "SERVICE_UNAVAILABLE"})
UNFINISHED = "unfinished"
# Bodies larger than this are scanned for an `"errors"` key before being parsed.
_SMALL_BODY = 65_536


@dataclass(frozen=True, slots=True)
class AttackPlan:
    """`clients` connections cycling over the documents with the tokens (client i uses
    token i modulo their number), from `start_at` to `stop_at` (time.time() seconds)."""

    base_url: str
    documents: list[AttackDocument]
    tokens: list[str]
    clients: int
    start_at: float
    stop_at: float


@dataclass(slots=True)
class DocumentTally:
    """What one attack document got: answers by label (see `outcome`), latencies of every
    answer and of the refusals among them, bytes received."""

    outcomes: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    refusal_latencies_ms: list[float] = field(default_factory=list)
    # Refusals the server worked on (all but RATE_LIMITED, which a spent budget gets before
    # any work, after a deliberate pause: waiting, not service time).
    worked_refusal_latencies_ms: list[float] = field(default_factory=list)
    bytes_received: int = 0

    @property
    def count(self) -> int:
        return sum(self.outcomes.values())

    def add(self, label: str, latency_ms: float, received: int) -> None:
        self.outcomes[label] += 1
        self.latencies_ms.append(latency_ms)
        self.bytes_received += received
        if is_refusal(label):
            self.refusal_latencies_ms.append(latency_ms)
            if "RATE_LIMITED" not in label:
                self.worked_refusal_latencies_ms.append(latency_ms)

    def median_ms(self) -> float:
        return nearest_rank_ms(sorted(self.latencies_ms), 50)

    def max_ms(self) -> float:
        return max(self.latencies_ms, default=0.0)


def outcome(response: Response) -> str:
    """The answer as a label: the HTTP status, followed by the first error's code when the
    body carries one (GraphQL `errors[0].extensions.code` or a REST `error.code`); a
    cancelled GraphQL operation (`timeoutSeconds`) is `TIMEOUT`."""
    body = response.body
    if len(body) > _SMALL_BODY and b'"errors"' not in body:
        return str(response.status)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return str(response.status)
    code = _error_code(payload)
    return str(response.status) if code is None else f"{response.status} {code}"


def _error_code(payload: object) -> str | None:
    if not isinstance(payload, dict):
        return None
    errors = payload.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        extensions = errors[0].get("extensions") or {}
        if "timeoutSeconds" in extensions:
            return "TIMEOUT"
        return str(extensions.get("code", "ERROR"))
    error = payload.get("error")
    if isinstance(error, dict) and "code" in error:
        return str(error["code"])
    return None


def is_refusal(label: str) -> bool:
    """True when the labelled answer refused the request: a 4xx, or a GraphQL error whose
    code is not one of SERVICE_TIME_CODES. Full answers, timeouts, 5xx and broken
    connections are service time."""
    status, _, code = label.partition(" ")
    if not status.isdigit():
        return False
    if 400 <= int(status) < 500:
        return True
    return int(status) == 200 and code != "" and code not in SERVICE_TIME_CODES


async def _client(
    index: int, plan: AttackPlan, tallies: dict[str, DocumentTally], serials: Iterator[int]
) -> None:
    token = plan.tokens[index % len(plan.tokens)]
    headers = {"Authorization": f"Bearer {token}"}
    position = index
    while time.time() < plan.stop_at:
        document = plan.documents[position % len(plan.documents)]
        position += 1
        # A fresh connection per request: a refused 10 MB upload may close it midway, and a
        # reused connection would send the request again.
        connection = HttpConnection(plan.base_url)
        request = connection.request_bytes(
            document.path, document.body_for(next(serials)), headers, document.method
        )
        # Cancelled while waiting (the grace period is over), the request counts with its wait.
        label, received = UNFINISHED, 0
        started = time.perf_counter()
        try:
            response = await connection.send(request)
            label, received = outcome(response), len(response.body)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as error:
            label = type(error).__name__
        finally:
            await connection.close()
            tallies[document.name].add(label, (time.perf_counter() - started) * 1000, received)


async def attack(plan: AttackPlan) -> dict[str, DocumentTally]:
    """Run the attack plan; returns the tally per document name. Requests still unanswered
    `GRACE_SECONDS` after `stop_at` are cancelled and counted as `UNFINISHED`."""
    tallies = {document.name: DocumentTally() for document in plan.documents}
    serials = itertools.count(1)
    delay = plan.start_at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    tasks = [asyncio.create_task(_client(i, plan, tallies, serials)) for i in range(plan.clients)]
    timeout = max(0.0, plan.stop_at - time.time()) + GRACE_SECONDS
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()  # a client that failed unexpectedly fails the run
    return tallies


def _attack_sync(plan: AttackPlan) -> dict[str, DocumentTally]:
    return asyncio.run(attack(plan))


async def attack_in_process(plan: AttackPlan) -> dict[str, DocumentTally]:
    """`attack(plan)` in a separate (spawned) process."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return await asyncio.get_running_loop().run_in_executor(pool, _attack_sync, plan)
