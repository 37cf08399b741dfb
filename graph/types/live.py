"""What subscriptions push: the dashboard cards, new request logs, fired alerts.

Built from one shared computation per organization, filter and scope (resolvers/live_feeds.py),
shaped once per message for the subscribers that see it alike (graph/subscription.py); each
object carries `shared_results`, so subscribers with the same operation and viewer share one
execution of their selection (graph/library_executor.py).
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import strawberry

from graph.dataloaders import Loaders
from graph.library_executor import SharedResults
from graph.types.alert import AlertEventType
from graph.types.cost_summary import CostSummary
from graph.types.current_spend import CurrentSpend
from graph.types.request_log import RequestLogType
from graph.types.request_log_connection import preloaded_objects
from resolvers.live_feeds import LiveAlerts, LiveLogs, LiveUsage


@strawberry.type(
    name="LiveUsage",
    description=(
        "The dashboard cards for a filter, pushed when they change (at most once per "
        "AIZE_SUBSCRIPTION_INTERVAL_SECONDS). A Member's figures cover their own requests."
    ),
)
class LiveUsageType:
    totals: CostSummary = strawberry.field(description="Key metrics of the filter's range.")
    current_spend: CurrentSpend = strawberry.field(
        description="Spend in the current billing period against the monthly budget."
    )
    from_: datetime = strawberry.field(
        name="from", description="Range start of `totals`, in the filter's timezone."
    )
    to: datetime = strawberry.field(description="Range end of `totals` (exclusive).")
    computed_at: datetime = strawberry.field(description="When these figures were read (UTC).")
    shared_results: strawberry.Private[SharedResults] = dataclasses.field(
        default_factory=SharedResults
    )

    @classmethod
    def from_data(cls, data: LiveUsage, own_only: bool) -> LiveUsageType:
        tz = data.log_filter.timezone
        return cls(
            totals=CostSummary.from_measures(data.totals),
            current_spend=CurrentSpend.from_data(data.spend, own_only=own_only),
            from_=data.log_filter.time_range.start.astimezone(tz),
            to=data.log_filter.time_range.end.astimezone(tz),
            computed_at=data.computed_at,
        )


@strawberry.type(
    name="LiveRequestLogs",
    description="Request logs committed since the previous message that match the filter.",
)
class LiveRequestLogsType:
    logs: list[RequestLogType] = strawberry.field(
        description="Newest first, at most 100 per message."
    )
    truncated: bool = strawberry.field(
        description="More matching logs arrived than one message carries; read the rest "
        "with Organization.requestLogs."
    )
    computed_at: datetime = strawberry.field(description="When these logs were read (UTC).")
    shared_results: strawberry.Private[SharedResults] = dataclasses.field(
        default_factory=SharedResults
    )

    @classmethod
    def from_data(cls, data: LiveLogs, loaders: Loaders) -> LiveRequestLogsType:
        org = data.organization
        keys, members = preloaded_objects(data.page)
        logs = []
        for log in data.page.page.rows:
            node = RequestLogType.from_model(log, show_bodies=org.log_bodies, loaders=loaders)
            if keys is not None:
                node.preload_key(keys.get(log.api_key_id))
            if members is not None and log.member_id is not None:
                node.preload_member(members.get(log.member_id))
            logs.append(node)
        return cls(logs=logs, truncated=data.truncated, computed_at=data.computed_at)


@strawberry.type(name="LiveAlerts", description="Alerts fired since the previous message.")
class LiveAlertsType:
    alerts: list[AlertEventType] = strawberry.field(
        description="Newest first, at most 100 per message."
    )
    computed_at: datetime = strawberry.field(description="When these alerts were read (UTC).")
    shared_results: strawberry.Private[SharedResults] = dataclasses.field(
        default_factory=SharedResults
    )

    @classmethod
    def from_data(cls, data: LiveAlerts) -> LiveAlertsType:
        return cls(
            alerts=[AlertEventType.from_record(a, data.organization) for a in data.alerts],
            computed_at=data.computed_at,
        )
