"""UsageFilter: the filter every usage and log question takes, and its conversion to the
read side's LogFilter (ids decoded, period resolved in the right timezone)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import strawberry

from graph.errors import BadUserInputError
from graph.inputs.amounts import amount_nanos
from graph.types.enum_values import describe_values
from ingestion.providers import MAX_PROVIDER_LENGTH, normalize_provider, provider_name_problem
from models.attribution import normalize_end_user, normalize_tag
from models.global_ids import decode_global_id_of
from models.organization import Organization
from resolvers.billing_policy import billing_policy
from resolvers.periods import Period, parse_timezone, resolve_range
from resolvers.scope import LogFilter, StatusClass

PeriodEnum = strawberry.enum(
    Period,
    name="Period",
    description=(
        "A relative time window; CURRENT_BILLING_PERIOD is the whole billing period; "
        "LIFETIME is everything stored up to now (from 1970-01-01T00:00:00Z: the seed's "
        "lifetime Total Requests, Tokens and Cost), read from the day rollups. A LIFETIME "
        "trend starts in 1970 (leading buckets empty): use MONTH, or from/to."
    ),
)

describe_values(
    PeriodEnum,
    {
        "LAST_HOUR": "The 60 minutes up to now.",
        "LAST_24_HOURS": "The 24 hours up to now.",
        "LAST_7_DAYS": "The 7 days (168 hours) up to now.",
        "LAST_30_DAYS": "The 30 days up to now (the default).",
        "CURRENT_BILLING_PERIOD": "The organization's current billing period, to its end.",
        "LIFETIME": "Everything up to now (from 1970: every request ever stored).",
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


# Values one tag or end-user list of a filter may name.
MAX_FILTER_TAGS = 50
MAX_FILTER_END_USERS = 100


@strawberry.input(
    name="TagFilter",
    description=(
        "Requests by their tags (normalised like ingested tags: trimmed, lowercased). `any`: "
        "carrying at least one of these; `all`: carrying every one of these; both: both "
        f"conditions. At most {MAX_FILTER_TAGS} tags per list; an empty list matches nothing."
    ),
)
class TagFilter:
    any_: list[str] | None = strawberry.field(
        default=None, name="any", description="Requests carrying at least one of these tags."
    )
    all_: list[str] | None = strawberry.field(
        default=None, name="all", description="Requests carrying every one of these tags."
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
    providers: list[str] | None = strawberry.field(
        default=None,
        description=(
            'Providers, e.g. ["openai", "anthropic"] (case-insensitive; "unknown" matches '
            f"requests nobody named a provider for); each at most {MAX_PROVIDER_LENGTH} bytes."
        ),
    )
    only_mine: bool = strawberry.field(
        default=False, description='"My Logs Only": just the caller\'s own requests.'
    )
    provider_models: list[str] | None = strawberry.field(
        default=None, description='Provider models actually used, e.g. "gpt-4-0613".'
    )
    min_latency_ms: int | None = strawberry.field(
        default=None,
        description=(
            "Only requests whose latency is at least this many ms (inclusive). Any threshold "
            "makes usage questions read raw logs instead of rollups (priced higher)."
        ),
    )
    max_latency_ms: int | None = strawberry.field(
        default=None, description="Only requests whose latency is at most this many ms."
    )
    min_customer_cost: Decimal | None = strawberry.field(
        default=None,
        description="Only requests whose customer cost is at least this many USD (exact).",
    )
    min_total_tokens: int | None = strawberry.field(
        default=None, description="Only requests with at least this many tokens in total."
    )
    tags: TagFilter | None = strawberry.field(
        default=None,
        description=(
            "Requests by tag (any / all). A Member's tags are their own requests' tags only."
        ),
    )
    end_users: list[str] | None = strawberry.field(
        default=None,
        description=(
            "The application's end-user ids (the record's `endUser`, trimmed; exact, "
            f"case-sensitive); at most {MAX_FILTER_END_USERS}."
        ),
    )


def _decode_ids(ids: list[strawberry.ID] | None, type_name: str) -> tuple[int, ...] | None:
    """Decode global ids; an id of another type or tenant can never match (-1 never exists)."""
    if ids is None:
        return None
    return tuple(decode_global_id_of(str(i), type_name) or -1 for i in ids)


def _providers(names: list[str] | None) -> tuple[str, ...] | None:
    """The provider names as stored (lower-case); BadUserInputError naming the entry that
    is not a provider name."""
    if names is None:
        return None
    normalized = tuple(normalize_provider(n) for n in names)
    for index, name in enumerate(normalized):
        problem = provider_name_problem(name)
        if problem is not None:
            raise BadUserInputError(f"filter.providers[{index}]: {problem}")
    return normalized


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
    _check_thresholds(f)
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
        providers=_providers(f.providers),
        only_mine=f.only_mine,
        provider_models=None if f.provider_models is None else tuple(f.provider_models),
        min_latency_ms=f.min_latency_ms,
        max_latency_ms=f.max_latency_ms,
        min_customer_cost_nanos=(
            None
            if f.min_customer_cost is None
            else amount_nanos(f.min_customer_cost, "filter.minCustomerCost")
        ),
        min_total_tokens=f.min_total_tokens,
        tags_any=_tags(f.tags.any_ if f.tags else None, "filter.tags.any"),
        tags_all=_tags(f.tags.all_ if f.tags else None, "filter.tags.all"),
        end_users=_end_users(f.end_users),
    )


def _check_thresholds(f: UsageFilter) -> None:
    """BadUserInputError naming the threshold that is negative, or a latency range whose
    minimum exceeds its maximum."""
    for name, value in (
        ("minLatencyMs", f.min_latency_ms),
        ("maxLatencyMs", f.max_latency_ms),
        ("minCustomerCost", f.min_customer_cost),
        ("minTotalTokens", f.min_total_tokens),
    ):
        if value is not None and value < 0:
            raise BadUserInputError(f"filter.{name}: must be 0 or more, got {value}")
    low, high = f.min_latency_ms, f.max_latency_ms
    if low is not None and high is not None and low > high:
        raise BadUserInputError(f"filter.maxLatencyMs: {high} is below filter.minLatencyMs {low}")


def _tags(tags: list[str] | None, argument: str) -> tuple[str, ...] | None:
    """The tags in normal form, distinct; BadUserInputError naming the argument and index."""
    if tags is None:
        return None
    if len(tags) > MAX_FILTER_TAGS:
        raise BadUserInputError(f"{argument}: at most {MAX_FILTER_TAGS} tags, got {len(tags)}")
    normal: dict[str, None] = {}
    for index, tag in enumerate(tags):
        try:
            normal[normalize_tag(tag)] = None
        except ValueError as error:
            raise BadUserInputError(f"{argument}[{index}]: {error}") from None
    return tuple(normal)


def _end_users(end_users: list[str] | None) -> tuple[str, ...] | None:
    if end_users is None:
        return None
    if len(end_users) > MAX_FILTER_END_USERS:
        raise BadUserInputError(
            f"filter.endUsers: at most {MAX_FILTER_END_USERS} end users, got {len(end_users)}"
        )
    normal: dict[str, None] = {}
    for index, end_user in enumerate(end_users):
        try:
            value = normalize_end_user(end_user)
        except ValueError as error:
            raise BadUserInputError(f"filter.endUsers[{index}]: {error}") from None
        if value is None:
            raise BadUserInputError(f"filter.endUsers[{index}]: must not be empty")
        normal[value] = None
    return tuple(normal)
