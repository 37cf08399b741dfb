"""Which months must exist, what retention may drop, which request ids may be forgotten:
pure functions of the clock and the settings (all instants aware UTC)."""

from __future__ import annotations

from datetime import datetime, timedelta

from models.request_log_partitions import add_months, month_start

# Months created ahead of the current one, so the default partition never fills up.
MONTHS_AHEAD = 2
# Request ids are remembered this long beyond the late-arrival window: slack for clocks that
# disagree between replicas, and for a window widened a little later.
REQUEST_ID_MARGIN = timedelta(days=7)


def months_to_prepare(now: datetime, late_arrival_days: int) -> list[datetime]:
    """First instants of every month a record accepted now may fall in (the late-arrival
    window back, MONTHS_AHEAD ahead), oldest first."""
    month = month_start(now - timedelta(days=late_arrival_days))
    last = add_months(month_start(now), MONTHS_AHEAD)
    months = []
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    return months


def retention_cutoff(
    now: datetime, retention_months: int, late_arrival_days: int
) -> datetime | None:
    """Raw logs before this instant (a month start) may be dropped; None keeps everything.

    Keeps the current month and the `retention_months` whole months before it; a month the
    late-arrival window still reaches into is kept too, so an accepted record never lands in
    a month that was already dropped.
    """
    if retention_months <= 0:
        return None
    cutoff = add_months(month_start(now), -retention_months)
    window_start = now - timedelta(days=late_arrival_days)
    while cutoff > window_start:
        cutoff = add_months(cutoff, -1)
    return cutoff


def request_ids_prunable_before(now: datetime, late_arrival_days: int) -> datetime:
    """Request ids of logs older than this may be forgotten: validation rejects any record
    older than the late-arrival window, so such an id can never be claimed again."""
    return now - timedelta(days=late_arrival_days) - REQUEST_ID_MARGIN
