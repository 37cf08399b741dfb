"""Every tenant condition comes from the scope builder (resolvers/scope.py).

Two checks, one static and one at run time:

- The source check reads every module of the service (not tests/, bench/, nor models/, the
  model and migration layer) and fails on a tenant condition written outside the scope
  builder: an ORM lookup naming `organization_id` / `organization` (`filter`, `get`,
  `get_or_none`, `exclude`, ... or `Q(...)`), or SQL text putting a bound value on
  `organization_id` (`organization_id = ?`, `= $1`, `= {params.add(...)}`, `IN (...)`,
  `= ANY(...)`). The justified exceptions are allow-listed below with the reason, and an
  entry that no longer matches anything fails the test, so the list only shrinks.
- The run-time check sends a representative GraphQL workload as a Member, an Admin and an
  Owner (usage, the log page, keys, members, alerts, wallet, reports, schedules, rules,
  limit requests, the audit trail, node lookups) and reads every statement the database
  client ran (Tortoise logs each with its bound values). Every statement touching a tenant
  table (a model with an organization) must carry the tenant predicate bound to the
  viewer's organization. Since the source check allows that predicate only in the scope
  builder, a statement carrying it went through the scope.

tests/test_citus_readiness.py checks a related rule on PostgreSQL's own statement log for a
whole service run (background work included): there, that a statement names the
organization at all, for sharding; here, that the condition comes from the one place.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise import Tortoise

from bench.dashboard_queries import DASHBOARD_QUERY, LOG_PAGE_QUERY, Window
from models.api_key import ApiKey
from models.database import Params, current_dialect, fetch_all
from models.global_ids import encode_global_id
from models.member import Member, Role
from models.request_log import RequestLog
from resolvers.scope import (
    KEY_ROWS,
    KEY_ROWS_WITH_TEAM_KEYS,
    LOG_ROWS,
    MEMBER_ROWS,
    TENANT_COLUMN,
    Scope,
)
from tests.factories import gql, make_key, make_member, make_org, make_record, make_token, store
from tests.query_counter import count_queries

ROOT = Path(__file__).resolve().parent.parent
# Not the service's code (tests, benchmarks, tools) or the model and migration layer, which
# declares the tenant column rather than filtering on it.
SKIPPED_DIRECTORIES = {"tests", "bench", "models", "scripts", "docs", ".venv", "build"}
SCOPE_MODULE = "resolvers/scope.py"

# "path::function" -> why the tenant condition there is written by hand.
ALLOW_LIST: dict[str, str] = {
    "auth/tokens.py::authenticate": (
        "authentication runs before any viewer exists and below the read side (auth/ is "
        "under resolvers/ in tests/test_layers.py): the token store names the organization "
        "of the token it just found itself"
    ),
    "auth/tokens.py::revoke_token": ("the token store, below the read side, as above"),
    "auth/tokens.py::revoke_member_tokens": ("the token store, below the read side, as above"),
    "ingestion/folding.py::pending_log_ids": (
        "a reprice locks the pending rows of the organizations its batch touched at once "
        "(organization_id = ANY($1::integer[]), PostgreSQL only): one statement, one plan, "
        "whatever the number of organizations; the organizations come from the rows"
    ),
}

_LOOKUP_METHODS = {
    "filter",
    "exclude",
    "get",
    "get_or_none",
    "get_or_create",
    "update_or_create",
    "Q",
}
# A bound value on the tenant column: a placeholder, or the end of a literal part of an
# f-string (the value follows as {params.add(...)}).
_SQL_TENANT = re.compile(
    r"\b" + TENANT_COLUMN + r"\b\"?\s*(?:=\s*ANY\s*\(|IN\s*\(|=)\s*(?:\$\d+|\?|$)",
    re.IGNORECASE,
)


def _tenant_keyword(name: str | None) -> bool:
    if name is None:
        return False
    field_name = name.split("__", 1)[0]
    return field_name in {TENANT_COLUMN, "organization"}


class _Finder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.stack: list[str] = []
        self.found: list[tuple[str, int]] = []

    def _where(self) -> str:
        return ".".join(self.stack) or "<module>"

    def _scoped(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.stack.append(node.name)
        self.generic_visit(node)
        self.stack.pop()

    visit_FunctionDef = _scoped
    visit_AsyncFunctionDef = _scoped
    visit_ClassDef = _scoped

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if name in _LOOKUP_METHODS and any(_tenant_keyword(k.arg) for k in node.keywords):
            self.found.append((self._where(), node.lineno))
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and _SQL_TENANT.search(node.value):
            self.found.append((self._where(), node.lineno))


def _service_modules() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] in SKIPPED_DIRECTORIES or relative.parts[0].startswith("."):
            continue
        yield path


def hand_written_tenant_conditions() -> dict[str, list[int]]:
    """ "path::function" -> lines, for each tenant condition outside the scope builder."""
    found: dict[str, list[int]] = {}
    for path in _service_modules():
        relative = path.relative_to(ROOT).as_posix()
        if relative == SCOPE_MODULE:
            continue
        finder = _Finder()
        finder.visit(ast.parse(path.read_text(), filename=relative))
        for where, line in finder.found:
            found.setdefault(f"{relative}::{where}", []).append(line)
    return found


def test_tenant_conditions_are_written_only_by_the_scope_builder() -> None:
    found = hand_written_tenant_conditions()

    unexplained = {place: lines for place, lines in found.items() if place not in ALLOW_LIST}
    assert unexplained == {}, (
        "tenant conditions written by hand (use resolvers.scope: Scope.for_viewer / "
        "Scope.for_organization, then .filter(Model) or .where(params)): "
        f"{unexplained}"
    )
    assert sorted(set(ALLOW_LIST) - set(found)) == [], "stale allow-list entries"


def test_the_source_check_catches_hand_written_conditions() -> None:
    samples = {
        "ApiKey.filter(id=1, organization_id=org_id)": 1,
        "Member.get_or_none(organization__slug='a')": 1,
        "Q(organization_id=3)": 1,
        "sql = f'SELECT 1 FROM api_key WHERE organization_id = {params.add(3)}'": 1,
        "sql = 'SELECT 1 FROM api_key WHERE organization_id = $1'": 1,
        "sql = 'SELECT 1 FROM member WHERE \"organization_id\"=?'": 1,
        "sql = f'SELECT 1 FROM alert_rule WHERE organization_id IN ({ids})'": 1,
        "sql = 'DELETE FROM fold_pending WHERE organization_id = ANY($1::integer[])'": 1,
        # Inserts and joins name the column without a condition on a value.
        "ApiKey.create(organization_id=3, label='x')": 0,
        "sql = 'INSERT INTO report (organization_id, kind) VALUES (?, ?)'": 0,
        "sql = 'JOIN b ON b.organization_id = a.organization_id'": 0,
        "sql = 'ON CONFLICT (organization_id, request_id) DO NOTHING'": 0,
    }
    for source, expected in samples.items():
        finder = _Finder()
        finder.visit(ast.parse(source))
        assert len(finder.found) == expected, source


# One definition, two forms.


@pytest.mark.parametrize("sees_team", [False, True], ids=["member", "admin"])
async def test_each_rule_reads_the_same_rows_as_a_queryset_and_as_sql(
    db: object, sees_team: bool
) -> None:
    org, other = await make_org(), await make_org()
    viewer, colleague = await make_member(org, Role.MEMBER), await make_member(org, Role.MEMBER)
    stranger = await make_member(other, Role.MEMBER)
    own, theirs = await make_key(org, viewer), await make_key(org, colleague)
    team, foreign = await make_key(org, None), await make_key(other, stranger)
    now = datetime.now(UTC)
    await store(
        make_record(org, own, viewer, now),
        make_record(org, theirs, colleague, now),
        make_record(other, foreign, stranger, now),
    )
    logs = {m: (await RequestLog.get(member_id=m.id)).id for m in (viewer, colleague)}
    scope = Scope(org.id, None if sees_team else viewer.id, viewer.id, sees_team)
    expected = {
        (RequestLog, LOG_ROWS): set(logs.values()) if sees_team else {logs[viewer]},
        (Member, MEMBER_ROWS): {viewer.id, colleague.id} if sees_team else {viewer.id},
        (ApiKey, KEY_ROWS): {own.id, theirs.id, team.id} if sees_team else {own.id},
        (ApiKey, KEY_ROWS_WITH_TEAM_KEYS): (
            {own.id, theirs.id, team.id} if sees_team else {own.id, team.id}
        ),
    }

    for (model, rows), ids in expected.items():
        as_queryset = set(await scope.filter(model, rows).values_list("id", flat=True))
        params = Params(current_dialect())
        conditions = " AND ".join(scope.where(params, rows))
        table = model._meta.db_table
        as_sql = {
            int(r["id"])
            for r in await fetch_all(f"SELECT id FROM {table} WHERE {conditions}", params)
        }
        assert (as_queryset, as_sql) == (ids, ids), (model, rows)


# The run-time check.


def tenant_tables() -> set[str]:
    """Tables of the models with an organization (the registry the run-time check uses)."""
    tables = set()
    for app in Tortoise.apps.values():
        for model in app.values():
            if TENANT_COLUMN in model._meta.fields_db_projection.values():
                tables.add(model._meta.db_table)
    return tables


# Statements on tenant tables the workload runs without the tenant predicate, by a pattern
# of their text, with why. An entry no statement matches fails the test.
STATEMENT_ALLOW_LIST: dict[str, str] = {
    r"SELECT organization_id FROM access_token_lookup WHERE token_hash = [?$]": (
        "authentication: the bearer token's hash is looked up to learn whose it is "
        "(auth/tokens.py, the reference table of migration 0026); no organization is known "
        "before it, so no scope exists yet"
    ),
}

_TABLE_REFERENCE = re.compile(r"\b(?:FROM|JOIN|UPDATE|INTO)\s+\"?(\w+)\"?", re.IGNORECASE)
_PREDICATE = re.compile(
    r"\b" + TENANT_COLUMN + r"\"?\s*(?:=\s*ANY\s*\(|IN\s*\(|=)\s*(\$(\d+)|\?)", re.IGNORECASE
)


def _bound_tenants(query: str, values: tuple[Any, ...]) -> list[object]:
    """The values bound to each tenant predicate of the statement."""
    bound = []
    for match in _PREDICATE.finditer(query):
        if match.group(2) is not None:
            index = int(match.group(2)) - 1
        else:
            index = query.count("?", 0, match.start(1))
        bound.append(values[index] if index < len(values) else None)
    return bound


WORKLOAD = """
query Workload($filter: UsageFilter, $logFilter: UsageFilter) {
  viewer { member { name } }
  organization {
    name markupPercent monthlyBudget
    apiKeys { label owner { name } }
    members { name role }
    usage(filter: $filter) {
      totals { requests customerCost }
      breakdown(by: [MEMBER], limit: 5) { member { name } totals { requests } }
    }
    currentSpend { spend }
    requestLogs(filter: $logFilter, first: 5) {
      totalCount
      edges { node { id requestId apiKey { label } member { name } customerCost } }
    }
    alerts(first: 5) { totalCount edges { node { id kind } } }
  }
}
"""
TEAM_WORKLOAD = """
{
  organization {
    wallet { balance entries(first: 3) { totalCount edges { node { id } } } }
    alertRules { id }
    reports(first: 3) { totalCount }
    reportSchedules { id }
    limitRequests(first: 3) { totalCount }
    auditTrail(first: 3) { totalCount edges { node { id action } } }
  }
}
"""
NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id } }"


@dataclass
class Team:
    organization_id: int
    people: dict[Role, Member]
    node_ids: list[str]


@pytest.fixture
async def team(db: object) -> Team:
    """An organization with one person per role and their requests, beside another
    organization with its own (which no statement may reach)."""
    organizations = [await make_org(), await make_org()]
    people: dict[Role, Member] = {}
    node_ids = []
    now = datetime.now(UTC)
    for org in organizations:
        records = []
        for role in Role:
            person = await make_member(org, role, name=f"{role.value.title()} {org.id}")
            key = await make_key(org, person, label=f"{role.value} key {org.id}")
            records.append(make_record(org, key, person, now - timedelta(minutes=2)))
            node_ids += [encode_global_id("Member", person.id), encode_global_id("ApiKey", key.id)]
            if org is organizations[0]:
                people[role] = person
        await store(*records)
    return Team(organizations[0].id, people, node_ids)


async def _run(client: httpx.AsyncClient, token: str, query: str, **variables: Any) -> None:
    result = await gql(client, token, query, **variables)
    assert result.data is not None, result.errors


@pytest.mark.parametrize("role", list(Role))
async def test_every_statement_on_a_tenant_table_carries_the_scope(
    client: httpx.AsyncClient, team: Team, role: Role
) -> None:
    token = await make_token(team.people[role])
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(days=1)).isoformat(), "to": now.isoformat()}
    bench_window = Window.last_30_days(now, "UTC")
    tables = tenant_tables()

    with count_queries() as statements:
        await _run(client, token, WORKLOAD, filter=window, logFilter={**window, "onlyMine": True})
        await _run(client, token, DASHBOARD_QUERY, filter=bench_window.usage_filter())
        await _run(client, token, LOG_PAGE_QUERY, filter=bench_window.log_filter())
        await _run(client, token, NODES, ids=team.node_ids)
        if role is not Role.MEMBER:
            await _run(client, token, TEAM_WORKLOAD)

    touched = [
        (query, values)
        for query, values in statements.executed
        if {t.lower() for t in _TABLE_REFERENCE.findall(query)} & tables
    ]
    assert len(touched) >= 10
    allowed = {pattern: re.compile(pattern, re.DOTALL) for pattern in STATEMENT_ALLOW_LIST}
    used = {p for p, rx in allowed.items() for query, _ in touched if rx.search(query)}
    unscoped = [
        query
        for query, values in touched
        if not any(rx.search(query) for rx in allowed.values())
        and (
            not (bound := _bound_tenants(query, values))
            or any(value != team.organization_id for value in bound)
        )
    ]
    assert unscoped == []
    assert sorted(set(STATEMENT_ALLOW_LIST) - used) == [], "stale allow-list entries"
