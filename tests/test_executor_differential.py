"""The fast executor against graphql-core's own (AIZE_FAST_EXECUTOR=false) on the same data:
the fuzz corpus's queries (tests/test_fuzz_graphql.py's generated Query operations and
tests/test_fuzz_regressions.py's documents) and the benchmark's dashboard and log page
questions (bench/dashboard_queries.py) get byte-for-byte the same answers: data, error
messages, codes, paths and locations.

Generated mutations are not replayed: the first service's answer changes the data the
second one would answer from. The regression documents that are mutations are refused
before they change anything, so they are compared.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import schemathesis
from graphql import get_introspection_query
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import Case
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.generation.feedback import FeedbackSources

from bench.dashboard_queries import (
    DASHBOARD_QUERY,
    DASHBOARD_QUERY_OBJECTS,
    LOG_PAGE_MODEL,
    LOG_PAGE_QUERY,
    Window,
)
from graph.execution import AizeExecutor
from graph.library_executor import LibraryExecutor
from settings import Settings
from tests.factories import make_record, store
from tests.http_clients import client_for
from tests.test_fuzz_graphql import ID_QUERIES, INGEST_OPERATIONS, Tenant, _seed_tenant
from tests.test_fuzz_regressions import COMPARISON, DEPOSIT
from web.app import create_app

EXAMPLES_PER_OPERATION = int(os.environ.get("AIZE_FUZZ_EXAMPLES", "12"))

# tests/test_fuzz_regressions.py's documents that change nothing (refused, or queries).
REGRESSIONS: list[tuple[str, dict[str, Any]]] = [
    ("mutation { depositFunds(amount: 1.5) { id } }", {}),
    (DEPOSIT, {"amount": "1E+30"}),
    (DEPOSIT, {"amount": "1e999999999"}),
    (DEPOSIT, {"amount": "1e-999999999"}),
    (COMPARISON, {"from": "0001-01-01T00:00:00Z"}),
    (COMPARISON, {"from": "0001-01-01T00:00:00+05:00"}),
    (COMPARISON, {"from": "2020-01-01T00:00:00Z"}),
]


@dataclasses.dataclass
class Pair:
    """The same database served twice: the fast executor and graphql-core's own."""

    fast: httpx.AsyncClient
    library: httpx.AsyncClient
    headers: dict[str, str]

    async def answers(self, body: dict[str, Any], token: str | None = None) -> tuple[Any, Any]:
        """Both services' (status, JSON) for one request (as the owner unless another
        token is given), sent to each in turn."""
        content = orjson.dumps(body)
        headers = (
            self.headers if token is None else {**self.headers, "Authorization": f"Bearer {token}"}
        )
        answers = []
        for http in (self.fast, self.library):
            response = await http.post("/graphql", content=content, headers=headers)
            answers.append((response.status_code, response.json()))
        return answers[0], answers[1]


@asynccontextmanager
async def serving_both(db: Settings, token: str) -> AsyncIterator[Pair]:
    roomy = dataclasses.replace(
        db,
        rate_limit_capacity=10**9,
        rate_limit_refill_per_second=10**9,
        rate_limit_org_capacity=10**9,
        rate_limit_ingest_capacity=10**9,
    )
    fast_app = create_app(roomy, manage_database=False)
    library_app = create_app(dataclasses.replace(roomy, fast_executor=False), manage_database=False)
    for app, executor in ((fast_app, AizeExecutor), (library_app, LibraryExecutor)):
        graphql = next(route.endpoint for route in app.routes if route.path == "/graphql")
        assert graphql.graphql.schema.execution_context_class is executor
    async with client_for(fast_app) as fast, client_for(library_app) as library:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        pair = Pair(fast, library, headers)
        # The token's last-used write happens on the first request: before any comparison.
        await pair.answers({"query": "{ viewer { role } }"})
        yield pair


async def _tenant_with_failed_logs() -> Tenant:
    """The fuzz test's tenant, plus 60 failed requests of the log page's model (two pages)."""
    tenant = await _seed_tenant()
    org = tenant.org
    keys = await org.api_keys.all()
    members = await org.members.all()
    now = datetime.now(UTC)
    await store(
        *(
            make_record(
                org,
                keys[i % len(keys)],
                members[i % len(members)] if i % 3 else None,
                now - timedelta(hours=1, minutes=i),
                model=LOG_PAGE_MODEL,
                status_code=(429, 500, 404)[i % 3],
                provider_cost_nanos=1_000_000 + i * 7_919,
                latency_ms=100 + i,
            )
            for i in range(60)
        )
    )
    return tenant


async def test_the_dashboard_and_log_pages_answer_alike_on_both_executors(db: Settings) -> None:
    tenant = await _tenant_with_failed_logs()
    window = Window.last_30_days(datetime.now(UTC) + timedelta(hours=1), "America/New_York")
    async with serving_both(db, tenant.owner_token) as pair:
        for query in (DASHBOARD_QUERY, DASHBOARD_QUERY_OBJECTS):
            fast, library = await pair.answers(
                {"query": query, "variables": {"filter": window.usage_filter()}}
            )
            assert fast == library
            assert fast[0] == 200 and "errors" not in fast[1], fast
            assert fast[1]["data"]["organization"]["usage"]["totals"]["requests"] == 75

        after = None
        rows = 0
        for _ in range(2):
            variables = {"filter": window.log_filter(), "after": after}
            fast, library = await pair.answers({"query": LOG_PAGE_QUERY, "variables": variables})
            assert fast == library
            page = fast[1]["data"]["organization"]["requestLogs"]
            rows += len(page["edges"])
            after = page["pageInfo"]["endCursor"]
        assert rows == 60


async def test_the_fuzz_regressions_answer_alike_on_both_executors(db: Settings) -> None:
    tenant = await _seed_tenant()
    async with serving_both(db, tenant.owner_token) as pair:
        for query, variables in REGRESSIONS:
            fast, library = await pair.answers({"query": query, "variables": variables})
            assert fast == library, query
        # Errors of execution (a resolver's, with path and locations) and of validation.
        for query in (
            '{ organization { usage(filter: {from: "0001-01-01T00:00:00Z"}) '
            "{ totals { requests } } } }",
            "{ organization { nope } }",
            "{ organization { requestLogs(first: -1) { edges { cursor } } } }",
        ):
            fast, library = await pair.answers({"query": query})
            assert fast == library, query
            assert fast[1].get("errors"), (query, fast)


def _fuzz_queries(schema: Any, pool: Any, compare: Callable[[Case[Any]], None]) -> list[str]:
    """Every Query operation's generated examples through `compare` (in this worker
    thread); returns the failures."""
    failures: list[str] = []
    feedback = FeedbackSources(extra_data_source=pool)
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"schemathesis cannot fuzz an operation: {result.err()}")
            continue
        operation = result.ok()
        if not operation.label.startswith("Query."):
            continue

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(feedback=feedback))
        def run(case: Case[Any]) -> None:
            compare(case)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    return failures


async def test_the_fuzz_corpus_answers_alike_on_both_executors(db: Settings) -> None:
    tenant = await _seed_tenant()
    loop = asyncio.get_running_loop()
    async with serving_both(db, tenant.owner_token) as pair:
        _, introspection = await pair.answers({"query": get_introspection_query()})
        schema = schemathesis.graphql.from_dict(introspection[1])
        pool = schema.create_extra_data_source()
        for query in ID_QUERIES:
            seeded = await pair.fast.post("/graphql", json={"query": query}, headers=pair.headers)
            seed_operation = schema.find_operation_by_label("Query.organization")
            assert seed_operation is not None
            pool.record_response(
                operation=seed_operation,
                response=Response.from_any(seeded),
                case=seed_operation.Case(body=query),
            )
        compared: Counter[str] = Counter()
        with_errors: Counter[str] = Counter()

        def compare(case: Case[Any]) -> None:
            body = case.as_transport_kwargs(base_url="http://test/graphql")["json"]
            token = tenant.ingest_token if case.operation.label in INGEST_OPERATIONS else None
            fast, library = asyncio.run_coroutine_threadsafe(
                pair.answers(body, token), loop
            ).result(timeout=60)
            compared[case.operation.label] += 1
            if "errors" in fast[1]:
                with_errors[case.operation.label] += 1
            assert fast == library, f"{body}\nfast: {fast}\nlibrary: {library}"

        failures = await asyncio.to_thread(_fuzz_queries, schema, pool, compare)

    print(f"compared {sum(compared.values())} answers {dict(compared)}, errors {dict(with_errors)}")
    assert len(compared) >= 5, compared
    assert not failures, "\n\n".join(failures)
