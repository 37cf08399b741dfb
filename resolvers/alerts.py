"""Fired alert events, read through the scope, and their acknowledgement.

Admins and Owners see every event of their organization. A Member sees only events about
API keys they own (their key's limit warnings); organization-wide ones (budget, wallet) are
team money and stay hidden. Pages are newest first by (fired_at, id) with the one keyset
helper in `resolvers.pagination`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from models.alert import AlertKind
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from resolvers.billing_policy import BillingPolicy
from resolvers.errors import NotFoundError
from resolvers.pagination import KeysetCursor, Page, PageRequest, build_page, keyset_older_than
from resolvers.periods import TimeRange
from resolvers.scope import Scope

__all__ = [
    "AlertFilter",
    "AlertRecord",
    "acknowledge_alert",
    "alert_page",
    "alert_period",
    "alerts_by_ids",
    "count_alerts",
]

_COLUMNS = (
    "id, kind, api_key_id_subject, threshold, period_key, value_nanos, message, fired_at, "
    "acknowledged_at, acknowledged_by_id"
)


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which events to list: None kinds = every kind."""

    kinds: tuple[AlertKind, ...] | None = None
    unacknowledged_only: bool = False


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One fired event; `subject_api_key_id` None when it is about the whole organization,
    `value_nanos` the spend or balance (nano-USD) when it fired, times aware UTC."""

    id: int
    kind: AlertKind
    subject_api_key_id: int | None
    threshold: str
    period_key: str
    value_nanos: int | None
    message: str
    fired_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by_id: int | None

    @property
    def position(self) -> KeysetCursor:
        return KeysetCursor(timestamp=self.fired_at, id=self.id)


def alert_period(record: AlertRecord, billing: BillingPolicy) -> TimeRange | None:
    """The billing period (UTC) a KEY_LIMIT or BUDGET event belongs to; None for events
    keyed by something else (a low-balance episode)."""
    if record.kind not in (AlertKind.KEY_LIMIT, AlertKind.BUDGET):
        return None
    try:
        start = datetime.fromisoformat(record.period_key)
    except ValueError:
        return None
    if start.tzinfo is None:
        return None
    return billing.period(start)


def _conditions(scope: Scope, alert_filter: AlertFilter, params: Params) -> list[str]:
    conditions = scope.key_subject_conditions(params, "api_key_id_subject")
    if alert_filter.kinds is not None:
        if not alert_filter.kinds:
            conditions.append("1 = 0")
        else:
            kinds = sorted({k.value for k in alert_filter.kinds})
            conditions.append(f"kind IN ({params.add_list(kinds)})")
    if alert_filter.unacknowledged_only:
        conditions.append("acknowledged_at IS NULL")
    return conditions


async def alert_page(
    scope: Scope, alert_filter: AlertFilter, request: PageRequest
) -> Page[AlertRecord]:
    """One page of the events the viewer may see, newest first."""
    params = Params(current_dialect())
    conditions = _conditions(scope, alert_filter, params)
    if request.after is not None:
        conditions.append(keyset_older_than(request.after, params, time_column="fired_at"))
    rows = await fetch_all(
        f"SELECT {_COLUMNS} FROM alert_event WHERE "
        + " AND ".join(conditions)
        + f" ORDER BY fired_at DESC, id DESC LIMIT {params.add(request.size + 1)}",
        params,
    )
    return build_page([_record(row) for row in rows], request, lambda r: r.position)


async def alerts_by_ids(scope: Scope, alert_ids: list[int]) -> dict[int, AlertRecord]:
    """The events among `alert_ids` the viewer may see (as the list shows them), by id;
    others (another organization's, a colleague's key's for a Member) are simply absent."""
    if not alert_ids:
        return {}
    params = Params(current_dialect())
    conditions = _conditions(scope, AlertFilter(), params)
    conditions.append(f"id IN ({params.add_list(sorted(set(alert_ids)))})")
    rows = await fetch_all(
        f"SELECT {_COLUMNS} FROM alert_event WHERE " + " AND ".join(conditions), params
    )
    records = [_record(row) for row in rows]
    return {record.id: record for record in records}


async def count_alerts(scope: Scope, alert_filter: AlertFilter) -> int:
    """How many events the viewer may see match the filter (all pages)."""
    params = Params(current_dialect())
    conditions = _conditions(scope, alert_filter, params)
    rows = await fetch_all(
        "SELECT COUNT(*) AS total FROM alert_event WHERE " + " AND ".join(conditions), params
    )
    return int(rows[0]["total"])


async def acknowledge_alert(scope: Scope, alert_id: int) -> AlertRecord:
    """Mark the event acknowledged by the viewer (the first acknowledgement is kept).
    Admins/Owners only (ForbiddenError); NotFoundError outside the organization."""
    scope.require_team("acknowledging alerts")
    params = Params(current_dialect())
    update = (
        f"UPDATE alert_event SET acknowledged_at = {params.add(datetime.now(UTC))}, "
        f"acknowledged_by_id = {params.add(scope.viewer_member_id)} WHERE "
    )
    conditions = [f"id = {params.add(alert_id)}", *scope.where(params)]
    await fetch_all(
        update + " AND ".join(conditions) + " AND acknowledged_at IS NULL RETURNING id", params
    )
    params = Params(current_dialect())
    conditions = [f"id = {params.add(alert_id)}", *scope.where(params)]
    rows = await fetch_all(
        f"SELECT {_COLUMNS} FROM alert_event WHERE " + " AND ".join(conditions), params
    )
    if not rows:
        raise NotFoundError("id: no such alert")
    return _record(rows[0])


def _optional_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _record(row: dict[str, object]) -> AlertRecord:
    subject = int(str(row["api_key_id_subject"]))
    acknowledged = row["acknowledged_at"]
    return AlertRecord(
        id=int(str(row["id"])),
        kind=AlertKind(str(row["kind"])),
        subject_api_key_id=subject or None,
        threshold=str(row["threshold"]),
        period_key=str(row["period_key"]),
        value_nanos=_optional_int(row["value_nanos"]),
        message=str(row["message"]),
        fired_at=parse_db_datetime(row["fired_at"]),
        acknowledged_at=None if acknowledged is None else parse_db_datetime(acknowledged),
        acknowledged_by_id=_optional_int(row["acknowledged_by_id"]),
    )
