"""Alert rules (what to watch) and alert events (what fired, once per period or episode)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.indexes import Index
from tortoise.models import Model

if TYPE_CHECKING:
    from models.api_key import ApiKey
    from models.member import Member
    from models.organization import Organization


class AlertKind(StrEnum):
    KEY_LIMIT = "KEY_LIMIT"
    BUDGET = "BUDGET"
    LOW_BALANCE = "LOW_BALANCE"
    DAILY_SPEND = "DAILY_SPEND"
    UNUSUAL_ACTIVITY = "UNUSUAL_ACTIVITY"
    ERROR_RATE = "ERROR_RATE"
    # An Admin asked for a key limit above the approval threshold: Owners decide.
    LIMIT_REQUEST = "LIMIT_REQUEST"


class AlertRule(Model):
    """A configured alert: a usage rule, or delivery targets for a built-in alert kind.

    DAILY_SPEND, UNUSUAL_ACTIVITY and ERROR_RATE rules are checked by the alert worker; a
    KEY_LIMIT, BUDGET or LOW_BALANCE rule only says where those events are delivered.
    """

    id = fields.IntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization", related_name="alert_rules", on_delete=fields.CASCADE
    )
    kind = fields.CharEnumField(AlertKind, max_length=20)
    api_key: fields.ForeignKeyNullableRelation[ApiKey] = fields.ForeignKeyField(
        "models.ApiKey", related_name="alert_rules", null=True, on_delete=fields.CASCADE
    )
    threshold_nanos = fields.BigIntField(null=True)
    # Basis points for rate thresholds (500 = 5.00% error rate, 30000 = 3x the norm).
    threshold_bps = fields.IntField(null=True)
    window_minutes = fields.IntField(default=60)
    min_requests = fields.IntField(default=50)
    enabled = fields.BooleanField(default=True)
    webhook_url = fields.CharField(max_length=2000, null=True)
    webhook_secret = fields.CharField(max_length=200, null=True)
    email = fields.CharField(max_length=320, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # Episode state of UNUSUAL_ACTIVITY and ERROR_RATE: when the current episode began
    # (null while the rule is quiet). An episode fires once and ends when a check is back
    # under the threshold.
    episode_started_at = fields.DatetimeField(null=True)
    # When the worker next checks the rule; claimed so only one replica checks it per turn.
    next_evaluation_at = fields.DatetimeField(null=True)

    organization_id: int
    api_key_id: int | None

    class Meta:
        table = "alert_rule"


class AlertEvent(Model):
    """One fired alert. The unique key makes each threshold fire once per period/episode."""

    id = fields.BigIntField(primary_key=True)
    organization: fields.ForeignKeyRelation[Organization] = fields.ForeignKeyField(
        "models.Organization",
        related_name="alert_events",
        on_delete=fields.CASCADE,
        db_index=False,
    )
    rule: fields.ForeignKeyNullableRelation[AlertRule] = fields.ForeignKeyField(
        "models.AlertRule", related_name="events", null=True, on_delete=fields.SET_NULL
    )
    kind = fields.CharEnumField(AlertKind, max_length=20)
    # What the alert is about: the organization (0) or an API key id.
    api_key_id_subject = fields.IntField(default=0)
    # The threshold crossed, as text ("75", "90", "100", "10.00").
    threshold = fields.CharField(max_length=40)
    # Which period or episode this belongs to (billing period start, day, window start).
    period_key = fields.CharField(max_length=40)
    value_nanos = fields.BigIntField(null=True)
    message = fields.CharField(max_length=1000)
    fired_at = fields.DatetimeField()
    acknowledged_at = fields.DatetimeField(null=True)
    acknowledged_by: fields.ForeignKeyNullableRelation[Member] = fields.ForeignKeyField(
        "models.Member",
        related_name="acknowledged_alerts",
        null=True,
        on_delete=fields.SET_NULL,
    )

    organization_id: int
    rule_id: int | None
    acknowledged_by_id: int | None

    class Meta:
        table = "alert_event"
        unique_together = (
            ("organization", "kind", "api_key_id_subject", "threshold", "period_key"),
        )
        indexes = (Index(fields=("organization_id", "fired_at"), name="alert_event_org_fired"),)
