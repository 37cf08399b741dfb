"""AlertRule type: a usage alert rule, or where built-in alerts are delivered."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from admin.alert_rules import rule_input_of
from alerts.targets import mask_webhook_url, secret_hint
from graph.context import Info
from graph.scalars import usd
from graph.types.alert import AlertKindEnum
from graph.types.api_key import ApiKeyType
from models.alert import AlertKind, AlertRule
from models.global_ids import decode_global_id_of, encode_global_id

_HUNDREDTH = Decimal("0.01")


@strawberry.type(
    name="AlertRule",
    description=(
        "DAILY_SPEND, UNUSUAL_ACTIVITY and ERROR_RATE rules are checked by the alert worker; "
        "KEY_LIMIT, BUDGET and LOW_BALANCE rules only say where those alerts are delivered. "
        "Settings a kind does not use are null."
    ),
)
class AlertRuleType:
    id: strawberry.ID = strawberry.field(
        description="The object's global id (use it with `node(id:)`)."
    )
    kind: AlertKindEnum = strawberry.field(description="What the rule watches.")  # type: ignore[valid-type]
    enabled: bool = strawberry.field(description="False pauses the rule without deleting it.")
    spend_threshold: Decimal | None = strawberry.field(
        description="DAILY_SPEND: USD of customer spend in one local day that fires it."
    )
    activity_factor: Decimal | None = strawberry.field(
        description="UNUSUAL_ACTIVITY: fires at this many times the usual activity (e.g. 3.00)."
    )
    error_rate_percent: Decimal | None = strawberry.field(
        description="ERROR_RATE: percent of 4xx+5xx answers in the window that fires it."
    )
    window_minutes: int | None = strawberry.field(
        description="UNUSUAL_ACTIVITY, ERROR_RATE: the trailing window checked."
    )
    min_requests: int | None = strawberry.field(
        description="UNUSUAL_ACTIVITY, ERROR_RATE: fewer requests in the window never fire."
    )
    webhook_url: str | None = strawberry.field(
        description="Scheme and host of the webhook; the path and query are shown as '…'."
    )
    webhook_secret_hint: str | None = strawberry.field(
        description="The last four characters of the signing secret."
    )
    email: str | None = strawberry.field(
        description="The address the rule's alerts are emailed to; null for none."
    )
    in_episode_since: datetime | None = strawberry.field(
        description=(
            "UNUSUAL_ACTIVITY, ERROR_RATE: when the running episode began (it fired then and "
            "stays quiet until a check is back under the threshold); null when quiet."
        )
    )
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    api_key_pk: strawberry.Private[int | None]

    @strawberry.field(description="The key the rule is limited to; null for the organization.")
    async def api_key(self, info: Info) -> ApiKeyType | None:
        if self.api_key_pk is None:
            return None
        key = await info.context.loaders.api_key_by_id.load(self.api_key_pk)
        return ApiKeyType.from_model(key) if key else None

    @classmethod
    def from_model(cls, rule: AlertRule) -> AlertRuleType:
        settings = rule_input_of(rule)
        factor = settings.activity_factor_bps
        rate = settings.error_rate_bps
        return cls(
            id=strawberry.ID(encode_global_id("AlertRule", rule.id)),
            kind=AlertKind(rule.kind),
            enabled=rule.enabled,
            spend_threshold=None
            if settings.spend_threshold_nanos is None
            else usd(settings.spend_threshold_nanos),
            activity_factor=None
            if factor is None
            else (Decimal(factor) / 10_000).quantize(_HUNDREDTH),
            error_rate_percent=None if rate is None else (Decimal(rate) / 100).quantize(_HUNDREDTH),
            window_minutes=settings.window_minutes,
            min_requests=settings.min_requests,
            webhook_url=None if rule.webhook_url is None else mask_webhook_url(rule.webhook_url),
            webhook_secret_hint=None
            if rule.webhook_secret is None
            else secret_hint(rule.webhook_secret),
            email=rule.email,
            in_episode_since=rule.episode_started_at,
            created_at=rule.created_at,
            api_key_pk=rule.api_key_id,
        )


def _scaled(bps: int, per_unit: int) -> Decimal:
    # Stored with at most 2 decimals of the unit, so this is exact.
    return (Decimal(bps) / per_unit).quantize(_HUNDREDTH)


@strawberry.type(name="AlertRulePayload", description="A created or changed alert rule.")
class AlertRulePayload:
    rule: AlertRuleType = strawberry.field(description="The rule as stored.")
    webhook_secret: str | None = strawberry.field(
        description=(
            "The signing secret this change set (generated, or the one you gave), shown only "
            "here and only once; null when the secret did not change."
        )
    )


def decode_rule_id(global_id: strawberry.ID) -> int:
    """The rule's primary key; -1 (never found) for an id of another type or undecodable."""
    return decode_global_id_of(str(global_id), "AlertRule") or -1
