"""Subscription: live dashboard cards, new request logs and fired alerts.

Each field checks its permission and the filter like the matching query, takes one of the
token's subscription slots, then joins the coalescing hub of its (feed, organization, filter,
scope) key (live/hub.py): every subscriber with the same key shares one computation per
interval.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Hashable
from datetime import datetime
from functools import partial
from typing import Annotated, Any, TypeVar

import strawberry

from auth.tokens import TokenError, authenticate
from graph.context import Context, Info
from graph.errors import RateLimitedError
from graph.inputs.filters import UsageFilter, to_log_filter
from graph.permissions import CanRead, IsAdminOrOwner, require
from graph.types.live import LiveAlertsType, LiveRequestLogsType, LiveUsageType
from live.hub import HUBS, Feed, HubTiming, Subscriber
from live.slots import SubscriptionSlots, TooManySubscriptions
from models.organization import Organization
from resolvers.errors import ForbiddenError
from resolvers.live_feeds import FiredAlertsFeed, NewLogsFeed, UsageFeed
from resolvers.scope import LogFilter, Scope, check_filter
from settings import Settings

T = TypeVar("T")


class SlowConsumerError(Exception):
    """Raised in a subscription whose client does not read its messages (HTTP streams)."""


def _filter_key(f: UsageFilter | None) -> Hashable:
    """The filter as given (a relative period stays relative), as a hashable value."""
    if f is None:
        return None

    def items(values: list[Any] | None) -> tuple[str, ...] | None:
        return None if values is None else tuple(sorted(str(v) for v in values))

    return (
        None if f.period is None else str(f.period),
        None if f.from_ is None else f.from_.isoformat(),
        None if f.to is None else f.to.isoformat(),
        f.timezone,
        items(f.models),
        items(f.api_key_ids),
        items(f.member_ids),
        items(f.status_classes),
        items(f.status_codes),
        items(f.endpoints),
        f.only_mine,
    )


def _shared_scope(scope: Scope, only_mine: bool) -> Scope:
    """The scope with what does not change the rows dropped, so that Admins and Owners of
    one organization share a hub (the viewer matters only for "My Logs Only")."""
    if only_mine or scope.member_id is not None:
        return scope
    return Scope(scope.organization_id, None, None, scope.sees_team)


async def _checked_filter(
    info: Info, usage_filter: UsageFilter | None
) -> Callable[[Organization, datetime], LogFilter]:
    """Validate the filter now (BAD_USER_INPUT, FORBIDDEN) and return how a hub resolves it
    at each computation."""
    org = await Organization.get(id=info.context.scope.organization_id)
    check_filter(info.context.scope, to_log_filter(usage_filter, org, info.context.now))

    def filter_at(organization: Organization, now: datetime) -> LogFilter:
        return to_log_filter(usage_filter, organization, now)

    return filter_at


def _viewer_key(context: Context) -> Hashable:
    """Who sees a pushed object: subscribers with the same key may share one shaped object
    (and its executed results), because nothing they would derive from it differs."""
    viewer = context.viewer
    return (viewer.organization_id, viewer.member_id, viewer.role, viewer.scopes)


async def _stream(
    info: Info, key: Hashable, make_feed: Callable[[], Feed], shape: Callable[[Any], T]
) -> AsyncGenerator[T]:
    """The hub's messages for this subscriber, shaped by `shape`, until the client leaves.
    A message is shaped once for every subscriber of the hub with the same viewer (the
    shaped object is shared, and so is its execution: graph/types/live.py)."""
    context = info.context
    shape_key = ("shape", _viewer_key(context))
    settings = context.request.app.state.settings
    assert isinstance(settings, Settings)
    slots = context.request.app.state.subscription_slots
    assert isinstance(slots, SubscriptionSlots)
    try:
        slot = await slots.take(context.viewer.token_id, settings.max_subscriptions_per_token)
    except TooManySubscriptions as exc:
        raise RateLimitedError(str(exc), limit=settings.max_subscriptions_per_token) from None
    overflowed = False

    def on_overflow() -> None:
        nonlocal overflowed
        overflowed = True
        if context.live is not None:
            context.live.close(1013, "Slow consumer: messages were not read in time")

    subscriber = Subscriber(settings.subscription_queue_messages, on_overflow)
    timing = HubTiming(
        settings.subscription_interval_seconds, settings.subscription_refresh_seconds
    )
    hub = HUBS.join(key, context.scope.organization_id, make_feed, timing, subscriber)
    # HTTP streams re-check their token here; WebSockets do it per connection.
    recheck = None if context.live is not None else settings.subscription_auth_recheck_seconds
    try:
        while True:
            try:
                message = await asyncio.wait_for(subscriber.queue.get(), recheck)
            except TimeoutError:
                await _still_authenticated(context)
                continue
            if overflowed:
                raise SlowConsumerError("Slow consumer: messages were not read in time")
            yield hub.shared(message, shape_key, partial(shape, message))
    finally:
        hub.remove(subscriber)
        slots.give_back(slot)


FILTER_DESCRIPTION = "Which requests, as in Organization.usage; a relative period moves with time."


async def _still_authenticated(context: Context) -> None:
    """Raise ForbiddenError when the HTTP stream's token no longer authenticates as the
    same member and role (revoked, member removed, role changed)."""
    try:
        viewer = await authenticate(context.request.headers.get("authorization"))
    except TokenError as exc:
        raise ForbiddenError(f"Forbidden: {exc.reason}") from None
    before = context.viewer
    if (viewer.member_id, viewer.role, viewer.scopes) != (
        before.member_id,
        before.role,
        before.scopes,
    ):
        raise ForbiddenError("Forbidden: the token's member or role changed; subscribe again")


@strawberry.type(
    description=(
        "Live updates over graphql-transport-ws (WebSocket, token in connection_init) or "
        "HTTP streams (multipart subscriptions, server-sent events); see docs/readme/live.md."
    )
)
class Subscription:
    @strawberry.subscription(
        description=(
            "The dashboard cards (totals, currentSpend) of a filter: the current figures at "
            "once, then whenever they change, at most once per interval. A Member's cover "
            "their own requests; naming another member is FORBIDDEN."
        ),
        extensions=require(CanRead),
    )
    async def usage(
        self,
        info: Info,
        filter: Annotated[
            UsageFilter | None, strawberry.argument(description=FILTER_DESCRIPTION)
        ] = None,
    ) -> AsyncGenerator[LiveUsageType]:
        scope = info.context.scope
        filter_at = await _checked_filter(info, filter)
        shared = _shared_scope(scope, filter is not None and filter.only_mine)
        key = ("usage", shared, _filter_key(filter))
        own_only = not scope.sees_team
        async for cards in _stream(
            info,
            key,
            lambda: UsageFeed(shared, filter_at),
            lambda data: LiveUsageType.from_data(data, own_only=own_only),
        ):
            yield cards

    @strawberry.subscription(
        description=(
            "Request logs matching a filter as they are ingested, newest first, at most one "
            "message per interval. A Member receives only their own."
        ),
        extensions=require(CanRead),
    )
    async def request_logs(
        self,
        info: Info,
        filter: Annotated[
            UsageFilter | None, strawberry.argument(description=FILTER_DESCRIPTION)
        ] = None,
    ) -> AsyncGenerator[LiveRequestLogsType]:
        scope = info.context.scope
        filter_at = await _checked_filter(info, filter)
        shared = _shared_scope(scope, filter is not None and filter.only_mine)
        key = ("logs", shared, _filter_key(filter))
        loaders = info.context.loaders
        async for logs in _stream(
            info,
            key,
            lambda: NewLogsFeed(shared, filter_at),
            lambda data: LiveRequestLogsType.from_data(data, loaders),
        ):
            yield logs

    @strawberry.subscription(
        description="Alerts of the organization as they fire (Admins and Owners).",
        extensions=require(IsAdminOrOwner),
    )
    async def alerts(self, info: Info) -> AsyncGenerator[LiveAlertsType]:
        scope = info.context.scope
        if not scope.sees_team:
            raise ForbiddenError("Only Admins and Owners can see this.")
        shared = _shared_scope(scope, only_mine=False)
        async for alerts in _stream(
            info, ("alerts", shared), lambda: FiredAlertsFeed(shared), LiveAlertsType.from_data
        ):
            yield alerts
