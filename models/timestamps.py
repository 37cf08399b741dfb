"""Timestamps as text: RFC 3339 with exactly six fractional digits, everywhere.

One format for the API's DateTime scalar, CSV and JSON-lines exports, reports, alert
payloads and the audit trail: `2026-01-01T00:00:00.000000+00:00`. Python's
`datetime.isoformat()` drops the fraction when the microseconds are zero, so a column
would mix `…T00:58:00+00:00` with `…T00:57:19.131543+00:00`, which `pandas.to_datetime`
refuses; `isoformat(timespec="microseconds")` never does.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

# The fractional precision of every rendered timestamp: microseconds, 6 digits.
TIMESPEC = "microseconds"


def format_instant(instant: datetime, zone: tzinfo = UTC) -> str:
    """`instant` in `zone` (UTC by default) as RFC 3339 with 6 fractional digits and the
    zone's offset at that instant ("2026-03-08T01:00:00.000000-05:00"). Naive datetimes are
    refused rather than guessed."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime cannot be rendered as an instant")
    return instant.astimezone(zone).isoformat(timespec=TIMESPEC)


def format_wall_time(instant: datetime, zone: tzinfo) -> str:
    """The wall-clock time `instant` shows in `zone`, without an offset and with 6
    fractional digits ("2026-03-08T01:00:00.000000"): one column of these never mixes
    offsets across a DST change (the instant itself goes in a UTC column beside it)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime cannot be rendered as an instant")
    return instant.astimezone(zone).replace(tzinfo=None).isoformat(timespec=TIMESPEC)
