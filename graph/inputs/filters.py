"""UsageFilter: the filter every usage and log question takes, and its conversion to the
read side's LogFilter (ids decoded, period resolved in the right timezone)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import strawberry

from graph.errors import BadUserInputError
from graph.relay import decode_global_id_of
from graph.types.enum_values import describe_values
from models.organization import Organization
from resolvers.billing_policy import billing_policy
from resolvers.periods import Period, parse_timezone, resolve_range
from resolvers.scope import LogFilter, StatusClass

PeriodEnum = strawberry.enum(
    Period,
    name="Period",
    description="A relative time window; CURRENT_BILLING_PERIOD is the whole billing period.",
)

describe_values(
    PeriodEnum,
    {
        "LAST_HOUR": "The 60 minutes up to now.",
        "LAST_24_HOURS": "The 24 hours up to now.",
        "LAST_7_DAYS": "The 7 days (168 hours) up to now.",
        "LAST_30_DAYS": "The 30 days up to now (the default).",
        "CURRENT_BILLING_PERIOD": "The organization's current billing period, to its end.",
    },
)
StatusClassEnum = strawberry.enum(
    StatusClass,
    name="StatusClass",
    description="SUCCESS = 2xx, CLIENT_ERROR = 4xx, SERVER_ERROR = 5xx.",
)

describe_values(
    StatusClassEnum,
    {
        "SUCCESS": "Answered 2xx.",
        "CLIENT_ERROR": "Answered 4xx.",
        "SERVER_ERROR": "Answered 5xx.",
    },
)


@strawberry.input(
    name="UsageFilter",
    description=(
        "Which requests to count. Give `period` or `from`/`to` (default: LAST_30_DAYS). "
        "Lists are OR within a list and AND across lists; an empty list matches nothing."
    ),
)
class UsageFilter:
    period: PeriodEnum | None = strawberry.field(  # type: ignore[valid-type]
        default=None,
        description=(
            "A named period (LAST_HOUR ... CURRENT_BILLING_PERIOD); instead of `from`/`to`."
        ),
    )
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Inclusive start (ISO 8601 with offset)."
    )
    to: datetime | None = strawberry.field(
        default=None, description="Exclusive end (default: now)."
    )
    timezone: str | None = strawberry.field(
        default=None, description="IANA zone for buckets and periods (default: the org's)."
    )
    models: list[str] | None = strawberry.field(default=None, description="Model aliases.")
    api_key_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only requests made with these keys (global ids)."
    )
    member_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Admins/Owners only, except a Member naming themselves."
    )
    status_classes: list[StatusClassEnum] | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="Only requests whose status is in these classes."
    )
    status_codes: list[int] | None = strawberry.field(
        default=None, description="Only requests answered with these HTTP status codes."
    )
    endpoints: list[str] | None = strawberry.field(
        default=None, description="Only requests to these gateway paths."
    )
    only_mine: bool = strawberry.field(
        default=False, description='"My Logs Only": just the caller\'s own requests.'
    )


def _decode_ids(ids: list[strawberry.ID] | None, type_name: str) -> tuple[int, ...] | None:
    """Decode global ids; an id of another type or tenant can never match (-1 never exists)."""
    if ids is None:
        return None
    return tuple(decode_global_id_of(str(i), type_name) or -1 for i in ids)


def to_log_filter(
    usage_filter: UsageFilter | None, org: Organization, now: datetime | None = None
) -> LogFilter:
    """The read side's LogFilter; raises BadUserInputError naming the bad argument."""
    f = usage_filter or UsageFilter()
    try:
        tz: ZoneInfo = parse_timezone(f.timezone) if f.timezone else ZoneInfo(org.timezone)
        time_range = resolve_range(
            None if f.period is None else Period(f.period),
            f.from_,
            f.to,
            now or datetime.now(UTC),
            tz,
            # The billing period is the organization's, in its own timezone, whatever
            # zone the filter shows the results in.
            billing=billing_policy(org).period,
        )
    except ValueError as exc:
        raise BadUserInputError(f"filter: {exc}") from None
    if f.status_codes is not None:
        bad = [c for c in f.status_codes if not 100 <= c <= 599]
        if bad:
            raise BadUserInputError(f"filter.statusCodes: {bad[0]} is not an HTTP status code")
    return LogFilter(
        time_range=time_range,
        timezone=tz,
        models=None if f.models is None else tuple(f.models),
        api_key_ids=_decode_ids(f.api_key_ids, "ApiKey"),
        member_ids=_decode_ids(f.member_ids, "Member"),
        status_classes=(
            None if f.status_classes is None else tuple(StatusClass(c) for c in f.status_classes)
        ),
        status_codes=None if f.status_codes is None else tuple(f.status_codes),
        endpoints=None if f.endpoints is None else tuple(f.endpoints),
        only_mine=f.only_mine,
    )
