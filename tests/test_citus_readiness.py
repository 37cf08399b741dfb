"""What sharding by organization on Citus needs of the schema and of the statements
(docs/SCALING.md). Citus does not install here, so these tests check its rules directly:

- every tenant table (a table with `organization_id`) has `organization_id` in its primary
  key and in every unique key (Citus enforces uniqueness only within one shard);
- every statement the service runs against a tenant table names `organization_id`: in its
  WHERE or JOIN for reads, updates and deletes, among the columns of an insert. Without it
  Citus sends the statement to every shard.

The statements are PostgreSQL's own record: a throwaway cluster (tests/pg_cluster.py) logs
every statement it executes (`log_statement=all`, csvlog) while the real service (uvicorn)
answers a workload over HTTP: bulk and GraphQL ingest, the gateway's `keyAccess`, the usage
page, a log page, subscriptions (an Owner's and a Member's usage cards, new logs pushed
after an ingest), keys, members and current spend, the exports (request logs, usage trend
and breakdown, audit trail), the administration mutations (alert rules, budget and budget
enforcement, key limits with an Admin's limit requests approved and rejected by the Owner,
a key's label, status and allowed models, members invited, re-roled and removed, report
schedules, organization settings, wallet deposits and refunds, alert acknowledgement), the
directory sync (bulk and GraphQL: create, update, remove and revoke), and its background
work (alert worker with a webhook and an e-mail delivery to a real SMTP server, the report
scheduler storing a report and e-mailing it, maintenance, the folder); then the operator's
CLI against the same database (tokens, the directory commands, a report for cron, an export,
repricing, the fold status, a maintenance run). The check is textual (no SQL parser is
installed; a SELECT's column list, a RETURNING list and ORDER BY / GROUP BY lists do not
count as naming the column); the exceptions, and the tables and keys that do not yet follow
the rules, are allow-listed below with the reason, and an entry that no longer matches
anything fails the test, so the lists only shrink.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from bench.dashboard_queries import DASHBOARD_QUERY, LOG_PAGE_QUERY
from bench.service import start_service
from models.database import PRIMARY_APPLICATION_NAME
from tests.alert_receivers import SmtpReceiver
from tests.directory_support import post_directory
from tests.ingest_support import post_bulk
from tests.live_clients import Subscription, session
from tests.pg_cluster import ClusterUnavailable, PgCluster
from tests.polling import until

IN_CI = bool(os.environ.get("CI"))
ALERT_EMAIL = "ops@example.com"
REPORT_EMAIL = "reports@example.com"

# Tables without organization_id, and how Citus would hold them.
NOT_TENANT_TABLES = {
    "organization": "the tenants themselves: distributed by `id`, co-located with the rest",
    "model_price": "the price catalog, shared by every tenant: a reference table",
    "service_lease": "the background-work lease: a reference table (one row per lease)",
    "tortoise_migrations": "migration bookkeeping: a coordinator-local table",
}
# Tables with organization_id that are not distributed by it, and why.
REFERENCE_TABLES_WITH_ORGANIZATION = {
    "access_token_lookup": (
        "token hash -> organization, read before the organization is known (auth/tokens.py, "
        "migration 0026): a reference table, so the lookup is local on every node"
    ),
}
# Primary and unique keys without organization_id: "table: primary key|unique (columns)".
# Only contract changes would be left here (migrations 0021, 0024, 0025 and 0026 keyed every
# other one): none is left.
KEY_ALLOW_LIST: dict[str, str] = {}

# Foreign keys between tenant tables whose ON DELETE sets the reference to NULL. PostgreSQL
# 15 clears only that column (`SET NULL (x_id)`, migration 0024), but Citus refuses SET NULL
# on any foreign key holding the distribution column (citusdata/citus#7132, open): in a
# Citus deployment each becomes a plain key and the deleting statement clears the references
# first (docs/SCALING.md). "table (column) -> referenced table".
_SET_NULL_IN_CITUS = (
    "a member is only removed softly (removed_at) by the service; its hard delete comes with "
    "its organization's, which cascades: Citus needs the clearing done by the statement"
)
SET_NULL_FOREIGN_KEYS = {
    "alert_event (acknowledged_by_id) -> member": _SET_NULL_IN_CITUS,
    "alert_event (rule_id) -> alert_rule": (
        "deleting an alert rule keeps its events: the service's delete clears their rule_id "
        "first (admin/alert_rules.py), but a key's hard delete cascades to its rules, and "
        "without SET NULL their events would block it (docs/SCALING.md)"
    ),
    "api_key (owner_id) -> member": _SET_NULL_IN_CITUS,
    "wallet_entry (created_by_id) -> member": _SET_NULL_IN_CITUS,
}

_KEYS_SQL = """
SELECT c.relname AS table_name, ix.indisprimary AS is_primary,
       ARRAY(SELECT a.attname::text FROM unnest(ix.indkey[0:ix.indnkeyatts - 1]) AS k
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k) AS columns
FROM pg_index ix
JOIN pg_class c ON c.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND (ix.indisprimary OR ix.indisunique)
"""
_FOREIGN_KEYS_SQL = """
SELECT c.relname AS table_name, r.relname AS referenced,
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
             ORDER BY k.i) AS columns,
       ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n
             ORDER BY k.i) AS referenced_columns,
       con.confdeltype = 'n' AS sets_null
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_class r ON r.oid = con.confrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND con.contype = 'f' AND con.conparentid = 0
  AND NOT c.relispartition
"""
_TENANT_TABLES_SQL = """
SELECT c.relname AS table_name,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
               AND a.attname = 'organization_id' AND NOT a.attisdropped) AS tenant
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
"""

# Statements on tenant tables that do not name organization_id, by a pattern of their text,
# with why (all of them are multi-shard in Citus: correct, just not routed to one shard).
_PARTITION_DDL = (
    "maintenance creates next months' request_log partitions: DDL, which Citus propagates "
    "to every shard (create_time_partitions in a Citus deployment)"
)
STATEMENT_ALLOW_LIST: dict[str, str] = {
    r"^UPDATE alert_delivery SET attempts = attempts \+ 1, .* WHERE id IN \(SELECT id FROM "
    r"alert_delivery WHERE status = ": (
        "the alert worker claims due deliveries of every organization at once (FOR UPDATE "
        "SKIP LOCKED): one multi-shard statement per poll, by design"
    ),
    r"^UPDATE alert_rule SET next_evaluation_at = .* WHERE id IN \(SELECT id FROM alert_rule "
    r"WHERE enabled = ": (
        "the alert worker claims the usage rules due for evaluation in every organization at "
        "once (FOR UPDATE SKIP LOCKED): one multi-shard statement per poll, by design"
    ),
    r'^SELECT .* FROM "access_token" WHERE "revoked_at" IS NULL AND "prefix"=': (
        "the operator's `aize-analytics revoke-token <prefix>` finds the token by its shown "
        "prefix in every organization (the operator names no organization): one multi-shard "
        "read per command; the revocation itself names the organization"
    ),
    r"^SELECT organization_id, kind, period_start FROM report WHERE period_start >= ": (
        "the report scheduler reads which reports of every organization are stored, once "
        "per turn: one multi-shard read, by design"
    ),
    r'^SELECT .* FROM "report_schedule" ORDER BY "organization_id"': (
        "the report scheduler reads every organization's schedules once per turn: one "
        "multi-shard read, by design"
    ),
    r"^SELECT count\(\*\) AS pending, min\(queued_at\) AS oldest FROM fold_pending$": (
        "the fold lag of the whole service (`aize-analytics fold --status`, /metrics): one "
        "multi-shard read per command or scrape; an organization's own lag names it"
    ),
    r"^ALTER TABLE request_log ATTACH PARTITION ": _PARTITION_DDL,
    r"^CREATE INDEX request_log_\w+_p\d{4}_\d{2} ON request_log_p": _PARTITION_DDL,
    r"^CREATE TABLE request_log_p\d{4}_\d{2} \(LIKE request_log ": _PARTITION_DDL,
    r"^WITH moved AS \(DELETE FROM request_log_default WHERE timestamp >= ": (
        "maintenance moves rows that arrived before their month's partition existed out of "
        "the default partition: multi-shard, rare (a partition created late)"
    ),
}


@pytest.fixture(scope="module")
def logged_cluster() -> Iterator[PgCluster]:
    """A throwaway cluster that logs every statement to csvlog."""
    try:
        cluster = PgCluster.create()
    except ClusterUnavailable as exc:
        if IN_CI:
            pytest.fail(f"cannot create a throwaway PostgreSQL cluster: {exc} (required under CI)")
        pytest.skip(f"cannot create a throwaway PostgreSQL cluster: {exc}")
    try:
        cluster.start(
            "logging_collector=on",
            "log_destination=csvlog",
            "log_directory=log",
            "log_filename=statements",
            "log_statement=all",
            "log_timezone=UTC",
        )
        yield cluster
    finally:
        cluster.destroy()


def _cli(cluster: PgCluster, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env={**os.environ, "AIZE_DATABASE_URL": cluster.url, "AIZE_LOG_LEVEL": "warning"},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _statements(cluster: PgCluster, application_name: str, since: datetime) -> list[str]:
    """Every statement sessions named `application_name` ran from `since` (UTC) on, as
    logged (csvlog)."""
    mark = since.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    log = cluster.data_dir / "log" / "statements.csv"
    found = []
    with Path(log).open(newline="", errors="replace") as lines:
        for row in csv.reader(lines):
            # csvlog: message is column 14, application_name column 23 (from 1).
            # log_time (column 1) is "YYYY-MM-DD HH:MM:SS.mmm UTC" (log_timezone=UTC).
            if len(row) < 23 or row[22] != application_name or row[0][:23] < mark:
                continue
            message = row[13]
            match = re.match(r"(?:statement|execute [^:]*): (.*)", message, re.DOTALL)
            if match:
                found.append(match.group(1).strip())
    return found


async def _catalog(cluster: PgCluster) -> tuple[set[str], list[asyncpg.Record]]:
    conn = await asyncpg.connect(cluster.url.replace("postgres://", "postgresql://"))
    try:
        tables = await conn.fetch(_TENANT_TABLES_SQL)
        keys = await conn.fetch(_KEYS_SQL)
    finally:
        await conn.close()
    tenant = {row["table_name"] for row in tables if row["tenant"]}
    others = {row["table_name"] for row in tables if not row["tenant"]}
    assert others == set(NOT_TENANT_TABLES), "a table without organization_id: say why"
    assert set(REFERENCE_TABLES_WITH_ORGANIZATION) <= tenant, "a reference table is gone"
    tenant -= set(REFERENCE_TABLES_WITH_ORGANIZATION)
    return tenant, list(keys)


async def _workload(cluster: PgCluster, smtp: SmtpReceiver) -> datetime:
    """Run the workload; returns when the service started (after migrations and seeding,
    which are tools run beside the service, not the service)."""
    _cli(cluster, "migrate")
    tokens = json.loads(_cli(cluster, "demo", "--requests", "100", "--json"))
    started = datetime.now(UTC)
    settings = {
        "AIZE_ALERT_WORKER": "true",
        "AIZE_ALERT_POLL_SECONDS": "0.2",
        "AIZE_MAINTENANCE_INTERVAL_SECONDS": "0.5",
        # Alert and report e-mails go to a real SMTP server on 127.0.0.1.
        "AIZE_SMTP_HOST": "127.0.0.1",
        "AIZE_SMTP_PORT": str(smtp.port),
        "AIZE_SMTP_FROM": "alerts@aize.test",
        "AIZE_SMTP_STARTTLS": "false",
        # The scheduler makes the reports organizations schedule themselves.
        "AIZE_REPORTS_SCHEDULE": "organizations",
        "AIZE_REPORTS_CHECK_SECONDS": "0.5",
    }
    process, url = await start_service(cluster.url, 1, settings)
    owner = {"Authorization": f"Bearer {tokens['owner']}"}
    ingest = {"Authorization": f"Bearer {tokens['ingest']}"}
    record = {
        "timestamp": datetime.now(UTC).isoformat(),
        "apiKeyPrefix": "sk-aize-66a078",
        "model": "gpt-4o",
        "endpoint": "/v1/chat/completions",
        "inputTokens": 10,
        "outputTokens": 2,
        "latencyMs": 100,
        "statusCode": 200,
    }
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            bulk = await post_bulk(
                http, tokens["ingest"], [{**record, "requestId": str(uuid.uuid4())}]
            )
            assert bulk.json()["accepted"] == 1
            for query, variables, headers in (
                (
                    "mutation($r: [RequestLogInput!]!) { ingestRequestLogs(records: $r) "
                    "{ accepted } }",
                    {"r": [{**record, "requestId": str(uuid.uuid4())}]},
                    ingest,
                ),
                (
                    '{ keyAccess(apiKeyPrefix: "sk-aize-66a078", model: "gpt-4o") { allowed } }',
                    {},
                    ingest,
                ),
                (DASHBOARD_QUERY, {"filter": {"period": "LAST_30_DAYS"}}, owner),
                (LOG_PAGE_QUERY, {"filter": {"period": "LAST_30_DAYS"}}, owner),
                (
                    "{ organization { currentSpend { spend } apiKeys { id label } "
                    "members { id } } }",
                    {},
                    owner,
                ),
            ):
                answer = await http.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
                assert "errors" not in answer.json(), answer.text
            export = await http.get("/export/request-logs.csv?period=LAST_7_DAYS", headers=owner)
            assert export.status_code == 200, export.text
            await _live(http, url, tokens, record)
            await _administration(http, owner, smtp)
            await _settings_and_wallet(http, owner, {"Authorization": f"Bearer {tokens['admin']}"})
            await _directory(http, owner, tokens["directory"])
            await _reports(http, owner, smtp)
            for path in (
                "/export/usage/trend.csv?period=LAST_7_DAYS",
                "/export/usage/breakdown.jsonl?period=LAST_7_DAYS&by=MODEL",
                "/export/audit.csv",
            ):
                exported = await http.get(path, headers=owner)
                assert exported.status_code == 200, f"{path}: {exported.text}"
        # The operator's tool against the same database: a token issued and revoked, the
        # directory commands, a report for cron, exports, repricing, the fold and the
        # maintenance commands.
        _cli(cluster, "create-token", "1", "--ingest", "--name", "citus workload")
        _cli(cluster, "revoke-token", _cli(cluster, "create-token", "1", "--ingest")[:12])
        _operator_commands(cluster)
    finally:
        process.terminate()
        await process.wait()
    return started


async def _graphql(
    http: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: object
) -> dict[str, Any]:
    answer = await http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body: dict[str, Any] = answer.json()
    assert "errors" not in body, answer.text
    return body["data"]


async def _administration(
    http: httpx.AsyncClient, owner: dict[str, str], smtp: SmtpReceiver
) -> None:
    """The administration mutations: alert rules (one with a webhook and an e-mail, which
    fires and is delivered by the worker: the webhook's target is unreachable, so it is
    retried; the e-mail arrives), the budget and a key's limit, a member invited and removed
    (their tokens revoked), a report schedule set and removed."""
    org = await _graphql(http, owner, "{ organization { apiKeys { id } } }")
    key_id = org["organization"]["apiKeys"][0]["id"]
    created = await _graphql(
        http,
        owner,
        "mutation($i: CreateAlertRuleInput!) { createAlertRule(input: $i) { rule { id } } }",
        i={
            "kind": "DAILY_SPEND",
            "spendThreshold": "0.000001",
            "webhookUrl": "https://hooks.example.invalid/aize",
            "email": ALERT_EMAIL,
        },
    )
    rule_id = created["createAlertRule"]["rule"]["id"]
    await _graphql(
        http,
        owner,
        'mutation($id: ID!) { updateAlertRule(id: $id, input: {spendThreshold: "0.000002"}) '
        "{ rule { id } } }",
        id=rule_id,
    )
    keyed = await _graphql(
        http,
        owner,
        "mutation($k: ID!) { createAlertRule(input: {kind: DAILY_SPEND, apiKeyId: $k, "
        'spendThreshold: "5", email: "ops@example.com"}) { rule { id } } }',
        k=key_id,
    )
    await _graphql(
        http,
        owner,
        "mutation($id: ID!) { deleteAlertRule(id: $id) }",
        id=keyed["createAlertRule"]["rule"]["id"],
    )
    await _graphql(http, owner, 'mutation { setMonthlyBudget(amount: "5000") { id } }')
    await _graphql(
        http,
        owner,
        'mutation($k: ID!) { setApiKeyLimit(apiKeyId: $k, monthlyLimit: "250") { id } }',
        k=key_id,
    )
    invited = await _graphql(
        http,
        owner,
        'mutation { inviteMember(email: "citus@example.com", role: MEMBER) { id } }',
    )
    await _graphql(
        http,
        owner,
        "mutation($id: ID!) { removeMember(id: $id) { id } }",
        id=invited["inviteMember"]["id"],
    )
    schedule = await _graphql(
        http,
        owner,
        "mutation { setReportSchedule(input: {kind: WEEKLY, hour: 6, weekday: 1, "
        'emails: ["ops@example.com"]}) { schedule { id } } }',
    )
    await _graphql(
        http,
        owner,
        "mutation($id: ID!) { removeReportSchedule(id: $id) }",
        id=schedule["setReportSchedule"]["schedule"]["id"],
    )
    # The worker fires the webhook rule (the records ingested above are today's spend, over
    # its threshold) and attempts the delivery; then the alert is acknowledged and its rule
    # deleted (which clears the event's rule first).
    alert_id = await until("a webhook delivery attempted", lambda: _attempted(http, owner))
    await until("the alert's e-mail received", lambda: _mailed(smtp, ALERT_EMAIL))
    await _graphql(
        http, owner, "mutation($id: ID!) { acknowledgeAlert(id: $id) { id } }", id=alert_id
    )
    await _graphql(http, owner, "mutation($id: ID!) { deleteAlertRule(id: $id) }", id=rule_id)


async def _attempted(http: httpx.AsyncClient, owner: dict[str, str]) -> str | None:
    found = await _graphql(
        http,
        owner,
        "{ organization { alerts(kinds: [DAILY_SPEND]) "
        "{ edges { node { id deliveries { target attempts } } } } } }",
    )
    for edge in found["organization"]["alerts"]["edges"]:
        for delivery in edge["node"]["deliveries"] or []:
            if (
                delivery["target"].startswith("https://hooks.example.invalid")
                and delivery["attempts"]
            ):
                return str(edge["node"]["id"])
    return None


async def _live(
    http: httpx.AsyncClient, url: str, tokens: dict[str, str], record: dict[str, Any]
) -> None:
    """Subscriptions over graphql-transport-ws: an Owner's usage cards and new logs, and a
    Member's cards, pushed after a bulk ingest."""
    ws_url = url.replace("http://", "ws://") + "/graphql"
    cards = "subscription { usage { totals { requests customerCost } } }"
    logs = "subscription { requestLogs { logs { requestId model } } }"
    async with (
        session(ws_url, tokens["owner"]) as owner_live,
        session(ws_url, tokens["member"]) as member_live,
    ):
        owner_cards = Subscription(owner_live, cards)
        member_cards = Subscription(member_live, cards)
        owner_logs = Subscription(owner_live, logs)
        await owner_cards.next()
        await member_cards.next()
        request_id = str(uuid.uuid4())
        sent = await post_bulk(http, tokens["ingest"], [{**record, "requestId": request_id}])
        assert sent.json()["accepted"] == 1, sent.text
        pushed: list[str] = []
        while request_id not in pushed:  # logs ingested just before may come first
            pushed = [log["requestId"] for log in (await owner_logs.next())["requestLogs"]["logs"]]
        await owner_cards.next()
        for subscription in (owner_cards, member_cards, owner_logs):
            await subscription.cancel()


async def _mailed(smtp: SmtpReceiver, address: str) -> bool | None:
    return True if any(address in sent for sent in smtp.recipients) else None


async def _settings_and_wallet(
    http: httpx.AsyncClient, owner: dict[str, str], admin: dict[str, str]
) -> None:
    """Organization settings and governance, the wallet, a key's administration, and limit
    requests: an Admin's limit above the approval threshold waits for the Owner, who
    approves one and rejects the next; a member's role changed."""
    await _graphql(
        http,
        owner,
        'mutation { updateOrganizationSettings(input: {name: "Acme AI (Citus)", '
        'markupPercent: "12.5", fixedFee: "0.001", logBodies: false, '
        'lowBalanceThreshold: "20"}) { id } }',
    )
    await _graphql(http, owner, 'mutation { depositFunds(amount: "250", note: "top-up") { id } }')
    await _graphql(http, owner, 'mutation { refundFunds(amount: "10.5") { id } }')
    await _graphql(http, owner, 'mutation { setLowBalanceThreshold(amount: "15") { balance } }')
    await _graphql(http, owner, "mutation { setBudgetEnforcement(mode: BLOCK) { id } }")
    await _graphql(http, owner, "mutation { setBudgetEnforcement(mode: ALERT_ONLY) { id } }")
    await _graphql(http, owner, 'mutation { setLimitApprovalThreshold(amount: "100") { id } }')
    org = await _graphql(http, owner, "{ organization { apiKeys { id } } }")
    key_id = org["organization"]["apiKeys"][-1]["id"]
    await _graphql(
        http,
        owner,
        'mutation($k: ID!) { updateApiKey(id: $k, label: "citus key", allowedModels: null) '
        "{ id } }",
        k=key_id,
    )
    for status in ("BLOCKED", "ACTIVE"):
        await _graphql(
            http,
            owner,
            "mutation($k: ID!, $s: ApiKeyStatus!) { setApiKeyStatus(apiKeyId: $k, status: $s, "
            'reason: "citus") { id } }',
            k=key_id,
            s=status,
        )
    for models in (["gpt-4o"], None):
        await _graphql(
            http,
            owner,
            "mutation($k: ID!, $m: [String!]) { setApiKeyAllowedModels(apiKeyId: $k, "
            "models: $m) { id } }",
            k=key_id,
            m=models,
        )
    limit = (
        "mutation($k: ID!, $l: Decimal) { setApiKeyLimit(apiKeyId: $k, monthlyLimit: $l) "
        "{ pendingLimitRequest { id } } }"
    )
    await _graphql(http, owner, limit, k=key_id, l="50")
    asked = await _graphql(http, admin, limit, k=key_id, l="500000")
    request_id = asked["setApiKeyLimit"]["pendingLimitRequest"]["id"]
    await _graphql(
        http, owner, "mutation($id: ID!) { approveLimitRequest(id: $id) { id } }", id=request_id
    )
    asked = await _graphql(http, admin, limit, k=key_id, l="900000")
    await _graphql(
        http,
        owner,
        'mutation($id: ID!) { rejectLimitRequest(id: $id, reason: "too much") { id } }',
        id=asked["setApiKeyLimit"]["pendingLimitRequest"]["id"],
    )
    await _graphql(
        http,
        owner,
        "{ organization { limitRequests { edges { node { id } } } "
        "wallet { balance entries { edges { node { id } } } } "
        "auditTrail { edges { node { id } } } } }",
    )
    invited = await _graphql(
        http, owner, 'mutation { inviteMember(email: "role@example.com") { id } }'
    )
    await _graphql(
        http,
        owner,
        "mutation($id: ID!) { changeMemberRole(id: $id, role: ADMIN) { id } }",
        id=invited["inviteMember"]["id"],
    )


async def _directory(http: httpx.AsyncClient, owner: dict[str, str], directory_token: str) -> None:
    """The directory sync, bulk and through GraphQL: members and keys created, then the same
    records changed (updates by the gateway's ids), then one removed and one revoked."""
    member = {"type": "member", "externalId": "citus-u1", "email": "dir@example.com"}
    key = {"type": "apiKey", "externalId": "citus-k1", "prefix": "sk-citus-0001"}
    for batch in (
        [member, {**key, "ownerExternalId": "citus-u1"}],
        [{**member, "name": "Dir Ector", "role": "ADMIN"}, {**key, "label": "renamed"}],
        [{**member, "removed": True}, {**key, "status": "REVOKED"}],
    ):
        sent = await post_directory(http, directory_token, batch)
        assert sent.status_code == 200, sent.text
        assert sent.json()["rejected"] == [], sent.text
    synced = (
        "mutation($r: [DirectoryRecordInput!]!) { syncDirectory(records: $r) "
        "{ created updated unchanged rejected { reason } } }"
    )
    for label in ("first", "second"):
        await _graphql(
            http,
            owner,
            synced,
            r=[
                {"type": "MEMBER", "externalId": "citus-u2", "email": "dir2@example.com"},
                {
                    "type": "API_KEY",
                    "externalId": "citus-k2",
                    "prefix": "sk-citus-0002",
                    "label": label,
                },
            ],
        )


async def _reports(http: httpx.AsyncClient, owner: dict[str, str], smtp: SmtpReceiver) -> None:
    """A daily report the organization schedules: the scheduler inside the service makes
    the most recent due one, stores it and the worker e-mails it; then it is listed and
    downloaded."""
    await _graphql(
        http,
        owner,
        "mutation { setReportSchedule(input: {kind: DAILY, hour: 0, "
        f'emails: ["{REPORT_EMAIL}"]}}) {{ schedule {{ id }} }} }}',
    )
    await until("the report's e-mail received", lambda: _mailed(smtp, REPORT_EMAIL))
    listed = await _graphql(http, owner, "{ organization { reports { edges { node { id } } } } }")
    report_id = listed["organization"]["reports"]["edges"][0]["node"]["id"]
    for suffix in ("html", "csv"):
        downloaded = await http.get(f"/reports/{report_id}.{suffix}", headers=owner)
        assert downloaded.status_code == 200, downloaded.text


def _operator_commands(cluster: PgCluster) -> None:
    """The operator's CLI: directory commands (add, update, list, remove, revoke), a report
    for cron, exports, repricing, the fold's status and a maintenance run."""
    org = "acme-ai"
    _cli(cluster, "member", "add", org, "cli@example.com", "--external-id", "citus-u3")
    _cli(cluster, "member", "update", org, "cli@example.com", "--name", "C. Li")
    _cli(cluster, "key", "add", org, "sk-citus-0003", "--owner", "cli@example.com")
    _cli(cluster, "key", "update", org, "sk-citus-0003", "--label", "cli key", "--team")
    _cli(cluster, "key", "list", org, "--json")
    _cli(cluster, "member", "list", org, "--json")
    _cli(cluster, "key", "revoke", org, "sk-citus-0003", "--reason", "done")
    _cli(cluster, "member", "remove", org, "cli@example.com")
    _cli(cluster, "report", "--period", "weekly", "--org", org)
    _cli(cluster, "export", "request-logs", "--org", org, "--output", os.devnull)
    _cli(cluster, "reprice", "--org", org)
    _cli(cluster, "fold", "--status")
    _cli(cluster, "maintain")


@pytest.fixture(scope="module")
async def served_statements(logged_cluster: PgCluster) -> list[str]:
    smtp = SmtpReceiver()
    smtp.start()
    try:
        started = await _workload(logged_cluster, smtp)
    finally:
        smtp.stop()
    return _statements(logged_cluster, PRIMARY_APPLICATION_NAME, started)


def _violations(keys: list[asyncpg.Record], tenant: set[str]) -> set[str]:
    found = set()
    for row in keys:
        if row["table_name"] in tenant and "organization_id" not in row["columns"]:
            kind = "primary key" if row["is_primary"] else "unique"
            found.add(f"{row['table_name']}: {kind} ({', '.join(row['columns'])})")
    return found


@pytest.mark.postgres_only
async def test_every_tenant_key_holds_organization_id(logged_cluster: PgCluster) -> None:
    _cli(logged_cluster, "migrate")
    tenant, keys = await _catalog(logged_cluster)
    violations = _violations(keys, tenant)
    assert violations - set(KEY_ALLOW_LIST) == set(), "a key without organization_id"
    assert set(KEY_ALLOW_LIST) - violations == set(), "allow-listed, but fixed: remove it"


async def _foreign_keys(cluster: PgCluster) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(cluster.url.replace("postgres://", "postgresql://"))
    try:
        return list(await conn.fetch(_FOREIGN_KEYS_SQL))
    finally:
        await conn.close()


@pytest.mark.postgres_only
async def test_every_foreign_key_between_tenants_pairs_the_organizations(
    logged_cluster: PgCluster,
) -> None:
    """Citus accepts a foreign key between two distributed tables only when the distribution
    columns are paired in it (organization_id with organization_id, or with organization's
    own id), so a row references rows of its own organization only, on its own shard."""
    _cli(logged_cluster, "migrate")
    tenant, _ = await _catalog(logged_cluster)
    foreign_keys = await _foreign_keys(logged_cluster)
    unpaired, sets_null = [], set()
    for row in foreign_keys:
        if row["table_name"] not in tenant:
            continue
        pairs = set(zip(row["columns"], row["referenced_columns"], strict=True))
        if row["referenced"] in tenant:
            wanted = ("organization_id", "organization_id")
        elif row["referenced"] == "organization":
            wanted = ("organization_id", "id")
        else:
            continue  # a reference table: Citus accepts any key into one
        own = ", ".join(c for c in row["columns"] if c != "organization_id")
        described = f"{row['table_name']} ({own}) -> {row['referenced']}"
        if wanted not in pairs:
            unpaired.append(described)
        if row["sets_null"] and row["referenced"] in tenant:
            sets_null.add(described)
    assert len(foreign_keys) >= 20  # the catalog query sees the schema's keys
    assert unpaired == [], "a foreign key that does not pair organization_id"
    assert sets_null - set(SET_NULL_FOREIGN_KEYS) == set(), "a new SET NULL key: say why"
    assert set(SET_NULL_FOREIGN_KEYS) - sets_null == set(), "listed, but changed: remove it"


def _routing_text(statement: str) -> str:
    """The part of a statement that can route it: without a SELECT's column list (the ORM
    lists organization_id among the columns it reads), without a trailing RETURNING list,
    and without ORDER BY and GROUP BY lists (ordering or grouping by organization_id reads
    every shard all the same)."""
    text = re.sub(r"\bRETURNING\b[^()]*$", "", statement, flags=re.IGNORECASE | re.DOTALL)
    if re.match(r"\s*SELECT\b", text, re.IGNORECASE):
        text = re.sub(r"^.*?\bFROM\b", "FROM", text, count=1, flags=re.IGNORECASE | re.DOTALL)
    return re.sub(
        r"\b(?:ORDER|GROUP)\s+BY\b[^()]*?(?=\b(?:LIMIT|OFFSET|FOR|HAVING)\b|\)|$)",
        "",
        text,
        flags=re.IGNORECASE | re.DOTALL,
    )


def _names_table(statement: str, table: str) -> bool:
    return (
        re.search(rf'(?<![\w"])"?{table}(?:_p\d{{4}}_\d{{2}})?"?(?![\w"])', statement) is not None
    )


@pytest.mark.postgres_only
async def test_every_statement_on_a_tenant_table_names_organization_id(
    logged_cluster: PgCluster, served_statements: list[str]
) -> None:
    tenant, _ = await _catalog(logged_cluster)
    assert len(served_statements) > 50  # the workload ran through this log
    unrouted: dict[str, list[str]] = {}
    for statement in served_statements:
        tables = sorted(t for t in tenant if _names_table(statement, t))
        if tables and "organization_id" not in _routing_text(statement):
            unrouted.setdefault(" ".join(statement.split()), tables)
    allowed = {
        text
        for text in unrouted
        if any(re.search(pattern, text) for pattern in STATEMENT_ALLOW_LIST)
    }
    not_allowed = sorted(f"{unrouted[t]}: {t[:300]}" for t in unrouted if t not in allowed)
    assert not_allowed == [], "statements without organization_id:\n" + "\n".join(not_allowed)
    stale = [p for p in STATEMENT_ALLOW_LIST if not any(re.search(p, t) for t in unrouted)]
    assert stale == [], "allow-listed statements the service no longer runs: remove them"
