"""RequestLog: one gateway call, priced, with every field of the usage page's log record;
RequestIdSeen: the request ids already stored, which make ingestion exactly-once.

On PostgreSQL `request_log` is partitioned by month of `timestamp` (UTC), created by
migration 0006 and kept by `maintenance/` (docs/readme/growth.md); SQLite keeps one plain
table. A partitioned table can only enforce uniqueness on keys that include the partition
key, so the uniqueness of the gateway's request id (per organization) lives in
`request_id_seen`, a plain table on both backends: ingest claims each id there (`ON CONFLICT
DO NOTHING`) in the same transaction as the log rows, and only newly claimed ids are written
and counted.

The columns ingest writes and the API shows are declared, with their public names, in
models/request_log_columns.py (LOG_ROW); a column added here must be added there
(tests/test_request_log_columns.py says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index, PartialIndex
from tortoise.models import Model

if TYPE_CHECKING:
    from models.api_key import ApiKey
    from models.member import Member
    from models.organization import Organization


class RequestLog(Model):
    # Unique through its sequence; on PostgreSQL the primary key is (id, timestamp), because
    # a partitioned table's keys must contain the partition key.
    id = fields.BigIntField(primary_key=True)
    # The gateway's id for the call; unique per organization through RequestIdSeen.
    request_id = fields.UUIDField()
    # No foreign key constraints (db_constraint=False): checking three foreign keys was half
    # the cost of inserting a log. Ingest validation guarantees the key and member belong to
    # the token's organization, and organizations, keys and members are never deleted (keys
    # are revoked), so the constraints guarded nothing the write path does not already.
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization",
        related_name="request_logs",
        on_delete=fields.CASCADE,
        db_index=False,
        db_constraint=False,
    )
    api_key: fields.ForeignKeyRelation[ApiKey] = fields.ForeignKeyField(
        "models.ApiKey",
        related_name="request_logs",
        on_delete=fields.CASCADE,
        db_index=False,
        db_constraint=False,
    )
    member: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="request_logs",
        null=True,
        on_delete=fields.SET_NULL,
        db_index=False,
        db_constraint=False,
    )
    timestamp = fields.DatetimeField()
    model = fields.CharField(max_length=100)
    provider_model = fields.CharField(max_length=100)
    endpoint = fields.CharField(max_length=200)
    input_tokens = fields.BigIntField()
    output_tokens = fields.BigIntField()
    total_tokens = fields.BigIntField()
    provider_cost_nanos = fields.BigIntField()
    markup_nanos = fields.BigIntField()
    fixed_fee_nanos = fields.BigIntField()
    customer_cost_nanos = fields.BigIntField()
    # False when no catalog price existed at ingest; `reprice` fixes it later.
    priced = fields.BooleanField(default=True)
    latency_ms = fields.IntField()
    status_code = fields.SmallIntField()
    error_message = fields.TextField(null=True)
    metadata: fields.Field[dict[str, object] | None] = fields.JSONField(null=True)
    request_body = fields.TextField(null=True)
    response_body = fields.TextField(null=True)
    # Who served the call, lower-case ("openai", "anthropic"; "unknown" when neither the
    # gateway nor the price catalog said): decided at ingest (ingestion.providers) and
    # kept, so a later catalog change never moves history. Migration 0016 back-filled it.
    provider = fields.CharField(max_length=50, default="unknown", db_default="unknown")
    # The record's tags (models.attribution), a JSON array of distinct strings sorted;
    # NULL without tags. jsonb on PostgreSQL, JSON text on SQLite.
    tags: fields.Field[list[str] | None] = fields.JSONField(null=True)
    # The application's end-user id (OpenAI's `user`), NULL without one.
    end_user = fields.CharField(max_length=128, null=True)
    ingested_at = fields.DatetimeField(auto_now_add=True)
    # Token classes in the canonical meaning (docs/readme/pricing.md): the cache counts are
    # part of input_tokens, reasoning_tokens part of output_tokens.
    cache_read_tokens = fields.BigIntField(default=0, db_default=0)
    cache_write_5m_tokens = fields.BigIntField(default=0, db_default=0)
    cache_write_1h_tokens = fields.BigIntField(default=0, db_default=0)
    reasoning_tokens = fields.BigIntField(default=0, db_default=0)
    request_units = fields.BigIntField(default=0, db_default=0)
    # Provider cost per class (nano-USD) and what caching saved (signed nano-USD).
    input_cost_nanos = fields.BigIntField(default=0, db_default=0)
    cache_read_cost_nanos = fields.BigIntField(default=0, db_default=0)
    cache_write_cost_nanos = fields.BigIntField(default=0, db_default=0)
    output_cost_nanos = fields.BigIntField(default=0, db_default=0)
    reasoning_cost_nanos = fields.BigIntField(default=0, db_default=0)
    request_cost_nanos = fields.BigIntField(default=0, db_default=0)
    cache_savings_nanos = fields.BigIntField(default=0, db_default=0)

    organization_id: int
    api_key_id: int
    member_id: int | None

    class Meta:
        table = "request_log"
        # Every read is tenant-scoped and newest-first, so indexes lead with the organization.
        indexes = (
            Index(fields=("organization_id", "timestamp", "id"), name="request_log_org_ts"),
            Index(
                fields=("organization_id", "api_key_id", "timestamp"), name="request_log_org_key_ts"
            ),
            Index(
                fields=("organization_id", "member_id", "timestamp"), name="request_log_org_mem_ts"
            ),
            # Also request_log_failed_ts (organization_id, timestamp, id) WHERE status_code
            # >= 300, for pages of failed requests: created by migration 0008, since a
            # PartialIndex here can only say `column = value`.
            # Only `reprice` looks for unpriced logs, and they are rare: a partial index costs
            # an insert nothing for a priced log.
            PartialIndex(
                fields=("organization_id", "id"),
                name="request_log_unpriced",
                condition={"priced": False},
            ),
        )


class RequestIdSeen(Model):
    """A stored request id, claimed by ingest in the transaction that stores the log.

    Entries older than the late-arrival window (plus a margin) are pruned by maintenance: a
    record that old is rejected by validation before it could be claimed again. (No semicolon
    in the first line: it becomes the table comment, and SQLite's migration runner splits
    statements on semicolons.)

    The database key is (organization_id, request_id), set by migration 0025: idempotency is
    per organization. The ORM declares `request_id` as its primary key only because it has
    no composite keys; the table is only used through SQL (ingestion/, maintenance/).
    """

    request_id = fields.UUIDField(primary_key=True)
    organization_id = fields.IntField()
    # The log's own timestamp (UTC), which decides when the entry may be pruned.
    timestamp = fields.DatetimeField()

    class Meta:
        table = "request_id_seen"
        indexes = (Index(fields=("timestamp",), name="request_id_seen_ts"),)
