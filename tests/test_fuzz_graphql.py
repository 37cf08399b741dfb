"""Fuzzing /graphql with schemathesis: generated queries and mutations never get a 5xx and
never see an internal error.

Schemathesis loads the schema by introspection and generates, for every Query and Mutation
field, documents with random arguments (custom scalars included) and random sub-selections.
Ids in arguments are often real ones (captured from a few queries before the run), so the
mutations also act on existing keys and alerts, not only on unknown ids. Each case is sent as
an Owner (ingest-only operations with an ingest token) to the real app, on the test database.

Every answer must:
- have a status below 500, and conform to the published schema (schemathesis' own check: no
  null where the schema promises a value);
- carry only coded errors (graph/errors.py) with no internals in their messages (stack
  traces, exception class names, SQL, driver names); an INTERNAL error would be the masked
  form of an unexpected exception, "Unexpected error." with an errorId, and is a failure
  too: every input a client can send must be answered with a code that tells what to fix.

The run is bounded: AIZE_FUZZ_EXAMPLES examples per operation (default 12), so the whole test
takes well under a minute; raise it for a longer exploratory run.

Why not `schemathesis.graphql.from_asgi`: its client runs the app on an event loop of its own
in another thread, while the test database's connection pool belongs to this test's loop.
So the schema is loaded with `from_dict` from an introspection answer, Hypothesis runs in a
worker thread, and each case is sent through httpx's ASGI transport on this test's loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import schemathesis
from graphql import NameNode, ObjectFieldNode, ObjectValueNode, ValueNode, get_introspection_query
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, CheckFunction
from schemathesis.core.result import Ok
from schemathesis.core.transport import Response
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.graphql import nodes
from schemathesis.specs.graphql.schemas import GraphQLSchema

from graph.errors import ErrorCode
from graph.extensions.error_codes import STABLE_CODES, UNEXPECTED_MESSAGE
from models.member import Role
from models.organization import Organization
from settings import Settings
from tests.factories import (
    make_ingest_token,
    make_key,
    make_member,
    make_org,
    make_record,
    make_token,
    store,
)
from tests.http_clients import client_for
from web.app import create_app

EXAMPLES_PER_OPERATION = int(os.environ.get("AIZE_FUZZ_EXAMPLES", "12"))
# Operations only an ingest token may call; every other one is sent as the Owner.
INGEST_OPERATIONS = frozenset({"Mutation.ingestRequestLogs", "Query.keyAccess"})
URL = "http://test/graphql"
# What a message must never show, unless the client wrote it into the query itself.
LEAKS = re.compile(
    r"Traceback|File \"|\.py\b|asyncpg|tortoise|aiosqlite|sqlite3|psycopg|pypika|strawberry"
    r"|\b(SELECT|INSERT|UPDATE|DELETE)\b .*\b(FROM|INTO|SET|WHERE)\b"
    r"|\b[A-Z][a-z]+[A-Za-z]*(Error|Exception)\b"
)


def _decimal_texts() -> st.SearchStrategy[str]:
    # Amounts as clients send them, and as they should not: too many decimals, signs,
    # exponents, huge and tiny magnitudes, non-numbers.
    plain = st.decimals(allow_nan=False, allow_infinity=False, places=9).map(str)
    wild = st.decimals(allow_nan=True, allow_infinity=True).map(str)
    edges = st.sampled_from(
        [
            "0",
            "-0",
            "0.000000001",
            "0.0000000001",
            "1E+30",
            "1e-30",
            "9" * 40,
            "1e999999999",
            "-1",
            " 12.5 ",
            "",
            "NaN",
            "Infinity",
            "0x10",
            "1,5",
            "١٢",
            "12.50 USD",
        ]
    )
    return st.one_of(plain, wild, edges, st.text(max_size=12))


def _json_object(fields: dict[str, ValueNode]) -> ObjectValueNode:
    return nodes.Object(
        [ObjectFieldNode(name=NameNode(value=name), value=value) for name, value in fields.items()]
    )


def _register_scalars() -> None:
    """Strategies for the schema's custom input scalars (DateTime and BigInt are built in)."""
    schemathesis.graphql.scalar(
        "Decimal",
        st.one_of(
            _decimal_texts().map(nodes.String),
            st.integers().map(nodes.Int),
            st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        ),
    )
    json_leaves = st.one_of(
        st.just(nodes.Null),
        st.booleans().map(nodes.Boolean),
        st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
        st.text(max_size=10).map(nodes.String),
    )
    schemathesis.graphql.scalar(
        "JSON",
        st.recursive(
            json_leaves,
            lambda inner: st.one_of(
                st.lists(inner, max_size=3).map(nodes.List),
                st.dictionaries(
                    st.from_regex(r"[a-z_]{1,8}", fullmatch=True), inner, max_size=3
                ).map(_json_object),
            ),
            max_leaves=6,
        ),
    )


_register_scalars()


@dataclasses.dataclass
class Tenant:
    org: Organization
    owner_token: str
    ingest_token: str


async def _seed_tenant() -> Tenant:
    """An organization with members of every role, a personal and a team key, and logs of
    a few models and statuses over the last days."""
    org = await make_org(name="Fuzzed", markup_bps=2500, fixed_fee_nanos=10_000_000)
    owner = await make_member(org, Role.OWNER)
    admin = await make_member(org, Role.ADMIN)
    member = await make_member(org, Role.MEMBER)
    personal = await make_key(org, member)
    team = await make_key(org, None)
    now = datetime.now(UTC)
    records = [
        make_record(
            org,
            key,
            who,
            now - timedelta(hours=hours),
            model=model,
            status_code=status,
        )
        for hours, (key, who, model, status) in enumerate(
            [
                (personal, member, "gpt-4", 200),
                (personal, member, "gpt-4o", 429),
                (team, None, "claude-3-opus", 200),
                (team, admin, "gpt-4", 500),
                (personal, member, "gpt-4o", 200),
            ]
            * 3
        )
    ]
    await store(*records)
    return Tenant(org, await make_token(owner), await make_ingest_token(org))


# Raising the low-balance threshold above the (negative) balance fires a LOW_BALANCE alert:
# acknowledgeAlert then has a real alert to act on.
FIRE_AN_ALERT = 'mutation { setLowBalanceThreshold(amount: "20") { isLow } }'
# Queries whose ids seed schemathesis' resource pool, so generated arguments use real ids.
ID_QUERIES = (
    "{ organization { id apiKeys { id } members { id } "
    "requestLogs(first: 20) { edges { node { id } } } "
    "alerts(first: 20) { edges { node { id } } } } }",
    "{ viewer { organization { id } } }",
)


def _error_problems(body: Any, sent: str) -> list[str]:
    """What is wrong with the errors of one answer (nothing: an empty list)."""
    if not isinstance(body, dict):
        return [f"the answer is not a JSON object: {body!r}"]
    errors = body.get("errors") or []
    if "error" in body:
        errors = [{"message": body["error"].get("message"), "extensions": body["error"]}]
    problems = []
    for error in errors:
        message = str(error.get("message"))
        extensions = error.get("extensions") or {}
        code = extensions.get("code")
        if code not in STABLE_CODES:
            problems.append(f"error without a stable code: {error}")
        if code == ErrorCode.INTERNAL:
            masked = message == UNEXPECTED_MESSAGE and re.fullmatch(
                r"[0-9a-f]{16}", str(extensions.get("errorId"))
            )
            problems.append(
                f"an unexpected exception ({'masked' if masked else 'NOT masked'}): {error}; "
                "the server log has its traceback under the errorId"
            )
        leaked = [m.group(0) for m in LEAKS.finditer(message) if m.group(0) not in sent]
        if leaked:
            problems.append(f"internals in an error message ({leaked}): {message!r}")
        if {"exception", "stacktrace", "traceback"} & {str(k).lower() for k in extensions}:
            problems.append(f"debug details in extensions: {extensions}")
    return problems


def no_server_error(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """No 5xx, whatever the query."""
    assert response.status_code < 500, f"HTTP {response.status_code}: {response.text[:2000]}"
    return None


def only_coded_errors(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every error has a stable code other than INTERNAL, and no internals in its text."""
    problems = _error_problems(response.json(), str(case.body))
    assert not problems, "\n".join(problems)
    return None


def conforms_to_schema(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Schemathesis' GraphQL response check: valid JSON, no null for a non-null field."""
    case.operation.validate_response(response, case=case)
    return None


CHECKS: list[CheckFunction] = [no_server_error, only_coded_errors, conforms_to_schema]

Send = Callable[[Case[Any]], httpx.Response]


def _fuzz_operations(schema: GraphQLSchema, pool: Any, send: Send) -> list[str]:
    """Run every operation's examples (in this worker thread); returns the failures."""
    failures: list[str] = []
    feedback = FeedbackSources(extra_data_source=pool)
    for result in schema.get_all_operations():
        if not isinstance(result, Ok):
            failures.append(f"schemathesis cannot fuzz an operation: {result.err()}")
            continue
        operation = result.ok()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
            print_blob=True,
        )
        @given(case=operation.as_strategy(feedback=feedback))
        def run(case: Case[Any]) -> None:
            response = send(case)
            case.validate_response(response, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them all
            failures.append(f"{operation.label}: {exc}")
    return failures


async def test_fuzzed_queries_and_mutations_get_no_5xx_and_no_internal_errors(
    db: Settings,
) -> None:
    tenant = await _seed_tenant()
    # A budget no fuzz run can spend: RATE_LIMITED answers would hide the rest of the run.
    roomy = dataclasses.replace(
        db,
        rate_limit_capacity=10**9,
        rate_limit_refill_per_second=10**9,
        rate_limit_org_capacity=10**9,
        rate_limit_ingest_capacity=10**9,
    )
    owner = {"Authorization": f"Bearer {tenant.owner_token}"}
    ingest = {"Authorization": f"Bearer {tenant.ingest_token}"}
    loop = asyncio.get_running_loop()
    async with client_for(create_app(roomy, manage_database=False)) as http:
        introspection = await http.post(
            "/graphql", json={"query": get_introspection_query()}, headers=owner
        )
        assert introspection.status_code == 200, introspection.text
        schema = schemathesis.graphql.from_dict(introspection.json())
        pool = schema.create_extra_data_source()
        fired = await http.post("/graphql", json={"query": FIRE_AN_ALERT}, headers=owner)
        assert fired.json()["data"] == {"setLowBalanceThreshold": {"isLow": True}}, fired.text
        for query in ID_QUERIES:
            seeded = await http.post("/graphql", json={"query": query}, headers=owner)
            assert "errors" not in seeded.json(), seeded.text
            seed_operation = schema.find_operation_by_label("Query.organization")
            assert seed_operation is not None
            pool.record_response(
                operation=seed_operation,
                response=Response.from_any(seeded),
                case=seed_operation.Case(body=query),
            )

        sent: Counter[str] = Counter()

        def send(case: Case[Any]) -> httpx.Response:
            sent[case.operation.label] += 1
            headers = ingest if case.operation.label in INGEST_OPERATIONS else owner
            kwargs = case.as_transport_kwargs(base_url=URL, headers=headers)
            request = http.request(
                kwargs["method"], kwargs["url"], json=kwargs["json"], headers=kwargs["headers"]
            )
            # The app and the database pool live on this test's loop, Hypothesis in a thread.
            return asyncio.run_coroutine_threadsafe(request, loop).result(timeout=60)

        failures = await asyncio.to_thread(_fuzz_operations, schema, pool, send)

    operations = len(list(schema.get_all_operations()))
    assert operations >= 10, "the schema lost its operations?"
    print(f"fuzz: {sum(sent.values())} requests over {len(sent)} operations: {dict(sent)}")
    assert not failures, "\n\n".join(failures)
