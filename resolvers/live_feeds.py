"""The live feeds a hub computes (live/hub.py): dashboard cards, new request logs, fired
alerts. Each reads through the scope builder, once per hub and interval, for every
subscriber of its key. Times are aware UTC."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from live.hub import Feed
from models.organization import Organization
from resolvers.alerts import AlertFilter, AlertRecord, alert_page
from resolvers.current_spend import CurrentSpend, current_spend
from resolvers.log_pages import LogPage, LogPageRequest, request_log_page
from resolvers.pagination import Page, PageRequest
from resolvers.periods import TimeRange
from resolvers.scope import LogFilter, Scope
from resolvers.usage import usage_totals
from resolvers.usage_measures import UsageMeasures

# The filter as the subscriber gave it, resolved against the organization and "now" (a
# relative period moves with time).
FilterAt = Callable[[Organization, datetime], LogFilter]

# Most logs and alerts one message carries (graph/cost_sizes.py bounds the fields alike).
MAX_LIVE_ROWS = 100
# How long a pushed log or alert id is remembered so it is never pushed twice.
_SENT_MEMORY = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class LiveUsage:
    """The dashboard cards at `computed_at`: totals of the filter and the billing period's
    spend (both in nano-USD inside)."""

    totals: UsageMeasures
    spend: CurrentSpend
    log_filter: LogFilter
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class LiveLogs:
    """Logs committed since the last message, newest first; `truncated` when more arrived
    than one message carries."""

    page: LogPage
    truncated: bool
    computed_at: datetime
    organization: Organization


@dataclass(frozen=True, slots=True)
class LiveAlerts:
    """Alerts fired since the last message, newest first."""

    alerts: list[AlertRecord]
    computed_at: datetime
    organization: Organization


class UsageFeed(Feed):
    replays_latest = True

    def __init__(self, scope: Scope, filter_at: FilterAt) -> None:
        self.scope = scope
        self.filter_at = filter_at
        self._last: tuple[UsageMeasures, int, int | None] | None = None

    async def compute(self, oldest: datetime | None, refresh: bool) -> LiveUsage | None:
        """The cards now; None when they equal the last ones pushed."""
        now = datetime.now(UTC)
        org = await Organization.get(id=self.scope.organization_id)
        log_filter = self.filter_at(org, now)
        totals = await usage_totals(self.scope, log_filter)
        spend = await current_spend(self.scope, org, now)
        figures = (totals, spend.spend_nanos, spend.budget_nanos)
        if figures == self._last:
            return None
        self._last = figures
        return LiveUsage(totals, spend, log_filter, now)


class _SentIds:
    """Ids already pushed, forgotten after _SENT_MEMORY."""

    def __init__(self) -> None:
        self._at: dict[int, datetime] = {}

    def fresh(self, ids: list[int], now: datetime) -> set[int]:
        """The ids not pushed before; remembers them as pushed now."""
        cutoff = now - _SENT_MEMORY
        if self._at and min(self._at.values()) < cutoff:
            self._at = {pk: at for pk, at in self._at.items() if at >= cutoff}
        new = {pk for pk in ids if pk not in self._at}
        for pk in new:
            self._at[pk] = now
        return new


class NewLogsFeed(Feed):
    def __init__(self, scope: Scope, filter_at: FilterAt) -> None:
        self.scope = scope
        self.filter_at = filter_at
        self._sent = _SentIds()

    async def compute(self, oldest: datetime | None, refresh: bool) -> LiveLogs | None:
        """The filter's logs with timestamps from `oldest` (the earliest a committed batch
        wrote) that were not pushed yet; None when there are none."""
        if oldest is None:
            return None
        now = datetime.now(UTC)
        org = await Organization.get(id=self.scope.organization_id)
        log_filter = self.filter_at(org, now)
        wanted = log_filter.time_range
        start = max(wanted.start, oldest)
        if start >= wanted.end:
            return None
        read = await request_log_page(
            self.scope,
            log_filter.with_range(TimeRange(start, wanted.end)),
            LogPageRequest(size=MAX_LIVE_ROWS),
            with_keys=True,
            with_members=True,
        )
        page = read.page
        fresh = self._sent.fresh([log.id for log in page.rows], now)
        kept = [i for i, log in enumerate(page.rows) if log.id in fresh]
        if not kept:
            return None
        shown = Page(
            rows=[page.rows[i] for i in kept],
            cursors=[page.cursors[i] for i in kept],
            has_next_page=False,
            has_previous_page=False,
        )
        return LiveLogs(
            LogPage(shown, read.api_keys, read.members),
            truncated=page.has_next_page,
            computed_at=now,
            organization=org,
        )


class FiredAlertsFeed(Feed):
    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._sent = _SentIds()
        self._baseline_taken = False

    async def compute(self, oldest: datetime | None, refresh: bool) -> LiveAlerts | None:
        """Alerts not seen by this hub before; the first computation only takes the
        baseline (what had fired before anyone subscribed)."""
        now = datetime.now(UTC)
        page = await alert_page(
            self.scope, AlertFilter(), PageRequest(size=MAX_LIVE_ROWS, after=None)
        )
        fresh = self._sent.fresh([alert.id for alert in page.rows], now)
        if not self._baseline_taken:
            self._baseline_taken = True
            return None
        alerts = [alert for alert in page.rows if alert.id in fresh]
        if not alerts:
            return None
        return LiveAlerts(alerts, now, await Organization.get(id=self.scope.organization_id))
