"""AlertEvent type: one fired alert (a key limit or budget threshold, a low balance)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TypeAlias

import strawberry

from graph.context import Info
from graph.permissions import TEAM_ONLY, IsAdminOrOwner, require
from graph.scalars import usd
from graph.types.alert_delivery import AlertDeliveryType
from graph.types.api_key import ApiKeyType
from graph.types.connection import Connection, connection_from_page
from graph.types.enum_values import describe_values
from graph.types.member import MemberType
from graph.types.node import Node
from models.alert import AlertKind
from models.global_ids import decode_global_id_of, encode_global_id
from models.organization import Organization
from resolvers.alerts import AlertFilter, AlertRecord, alert_page, alert_period, count_alerts
from resolvers.billing_policy import billing_policy
from resolvers.pagination import PageRequest

AlertKindEnum = strawberry.enum(
    AlertKind,
    name="AlertKind",
    description=(
        "KEY_LIMIT: a key reached 75/90/100% of its monthly limit. BUDGET: the organization "
        "reached 75/90/100% of its monthly budget. LOW_BALANCE: the wallet fell under its "
        "threshold. DAILY_SPEND: a day's spend reached a rule's threshold. UNUSUAL_ACTIVITY: "
        "spend or requests far above the usual for the time of week. ERROR_RATE: a spike in "
        "the share of 4xx/5xx answers. docs/readme/alerts.md describes each."
    ),
)

describe_values(
    AlertKindEnum,
    {
        "KEY_LIMIT": "A key reached 75%, 90% or 100% of its monthly limit.",
        "BUDGET": "The organization reached 75%, 90% or 100% of its monthly budget.",
        "LOW_BALANCE": "The wallet's balance fell under the threshold.",
        "DAILY_SPEND": "A day's spend reached a rule's threshold.",
        "UNUSUAL_ACTIVITY": (
            "Spend or requests in a window were a rule's factor above the"
            " usual for that time of week."
        ),
        "ERROR_RATE": "The share of failed requests in a window reached a rule's threshold.",
        "LIMIT_REQUEST": "An Admin asked for a key limit that needs an Owner's approval.",
    },
)


@strawberry.type(
    name="AlertEvent",
    description=(
        "A fired alert, stored once per period or episode (a Node: fetch it by id where the "
        "alerts list would show it)."
    ),
)
class AlertEventType(Node):
    kind: AlertKindEnum = strawberry.field(  # type: ignore[valid-type]
        description=(
            "What fired: a key limit, the budget, the balance, a usage rule or a limit request."
        )
    )
    threshold: str = strawberry.field(
        description=(
            'Percent for KEY_LIMIT/BUDGET ("75", "90", "100") and ERROR_RATE ("5"); USD for '
            'LOW_BALANCE and DAILY_SPEND ("10.00"); a factor for UNUSUAL_ACTIVITY ("3x").'
        )
    )
    period_key: str = strawberry.field(
        description=(
            "What it fired once for: the billing period start (ISO 8601, UTC) for KEY_LIMIT "
            'and BUDGET, the low-balance episode ("episode-3") for LOW_BALANCE; for usage '
            'alerts the rule and the local day ("rule-7/2024-05-03", DAILY_SPEND) or the '
            'episode start ("rule-7/2024-05-03T14:00:00Z").'
        )
    )
    period_start: datetime | None = strawberry.field(description="Billing period start.")
    period_end: datetime | None = strawberry.field(description="Billing period end (exclusive).")
    value: Decimal | None = strawberry.field(
        description=(
            "USD spend (KEY_LIMIT, BUDGET; DAILY_SPEND: the day's; UNUSUAL_ACTIVITY: the "
            "window's) or balance (LOW_BALANCE) when it fired; null for ERROR_RATE."
        )
    )
    message: str = strawberry.field(
        description="A sentence saying what happened, with the figures."
    )
    fired_at: datetime = strawberry.field(description="When the alert fired (UTC).")
    acknowledged_at: datetime | None = strawberry.field(
        description="When someone first acknowledged it (UTC); null until then."
    )
    pk: strawberry.Private[int]
    subject_pk: strawberry.Private[int | None]
    acknowledged_by_pk: strawberry.Private[int | None]

    @strawberry.field(description="The key a KEY_LIMIT alert is about; null for the org.")
    async def api_key(self, info: Info) -> ApiKeyType | None:
        if self.subject_pk is None:
            return None
        key = await info.context.loaders.api_key_by_id.load(self.subject_pk)
        return ApiKeyType.from_model(key) if key else None

    @strawberry.field(description="Who acknowledged it.")
    async def acknowledged_by(self, info: Info) -> MemberType | None:
        if self.acknowledged_by_pk is None:
            return None
        member = await info.context.loaders.member_by_id.load(self.acknowledged_by_pk)
        return MemberType.from_model(member) if member else None

    @strawberry.field(
        description=f"Where it was sent and how that went (Admins/Owners). {TEAM_ONLY}",
        extensions=require(IsAdminOrOwner),
    )
    async def deliveries(self, info: Info) -> list[AlertDeliveryType] | None:
        records = await info.context.loaders.deliveries_by_event_id.load(self.pk)
        return [AlertDeliveryType.from_record(r) for r in records]

    @classmethod
    def from_record(cls, record: AlertRecord, org: Organization) -> AlertEventType:
        period = alert_period(record, billing_policy(org))
        return cls(
            id=strawberry.ID(encode_global_id("AlertEvent", record.id)),
            kind=record.kind,
            threshold=record.threshold,
            period_key=record.period_key,
            period_start=None if period is None else period.start,
            period_end=None if period is None else period.end,
            value=None if record.value_nanos is None else usd(record.value_nanos),
            message=record.message,
            fired_at=record.fired_at,
            acknowledged_at=record.acknowledged_at,
            pk=record.id,
            subject_pk=record.subject_api_key_id,
            acknowledged_by_pk=record.acknowledged_by_id,
        )


AlertEventConnection: TypeAlias = Connection[AlertEventType]

ALERTS_DESCRIPTION = (
    "Fired alerts, newest first. Admins/Owners see all; a Member sees alerts about their own "
    "keys only. `first`: 1 to 100 (default 50); `after`: the previous page's `endCursor`."
)


def decode_alert_id(global_id: strawberry.ID) -> int:
    """The alert's primary key; -1 (never found) for an id of another type or undecodable."""
    return decode_global_id_of(str(global_id), "AlertEvent") or -1


async def resolve_alerts(
    info: Info,
    org: Organization,
    first: int | None,
    after: str | None,
    kinds: Sequence[AlertKind] | None,
    unacknowledged_only: bool,
) -> AlertEventConnection:
    """One page of the alerts the viewer may see."""
    scope = info.context.scope
    alert_filter = AlertFilter(
        kinds=None if kinds is None else tuple(AlertKind(k) for k in kinds),
        unacknowledged_only=unacknowledged_only,
    )
    page = await alert_page(scope, alert_filter, PageRequest.parse(first, after))

    async def count_rows() -> int:
        return await count_alerts(scope, alert_filter)

    return connection_from_page(page, lambda r: AlertEventType.from_record(r, org), count_rows)
