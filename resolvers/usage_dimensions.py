"""UsageDimension: what usage can be grouped by, and the column each reads on the raw log
and on the rollup tables (which share column names)."""

from __future__ import annotations

from enum import Enum
from typing import Any

from resolvers.attribution_sql import TAG_VALUE
from resolvers.errors import BadInputError
from resolvers.scope import Scope

# One group's values, in the order of the dimensions asked for (str or int each).
GroupKey = tuple[str | int, ...]


class UsageDimension(Enum):
    MODEL = "MODEL"
    PROVIDER_MODEL = "PROVIDER_MODEL"
    API_KEY = "API_KEY"
    MEMBER = "MEMBER"
    STATUS_CODE = "STATUS_CODE"
    ENDPOINT = "ENDPOINT"
    PROVIDER = "PROVIDER"
    # A request counts once in each of its tags (untagged: tag ""), so tag groups do not
    # add up to the total; END_USER groups do (no end user: "").
    TAG = "TAG"
    END_USER = "END_USER"

    @property
    def column(self) -> str:
        return _COLUMNS[self]

    def raw_expression(self) -> str:
        """SQL on request_log giving the same value as the rollup column (no member -> 0,
        no end user -> ""). TAG reads the tag column of `attribution_sql.tag_rows_join`."""
        if self is UsageDimension.MEMBER:
            return "COALESCE(member_id, 0)"
        if self is UsageDimension.END_USER:
            return "COALESCE(end_user, '')"
        if self is UsageDimension.TAG:
            return TAG_VALUE
        return self.column


_COLUMNS = {
    UsageDimension.MODEL: "model",
    UsageDimension.PROVIDER_MODEL: "provider_model",
    UsageDimension.API_KEY: "api_key_id",
    UsageDimension.MEMBER: "member_id",
    UsageDimension.STATUS_CODE: "status_code",
    UsageDimension.ENDPOINT: "endpoint",
    UsageDimension.PROVIDER: "provider",
    UsageDimension.TAG: "tag",
    UsageDimension.END_USER: "end_user",
}

# member_id 0 on the rollups means "no member" (a team key used without a person).
NO_MEMBER = 0


def normalize_group_value(dimension: UsageDimension, value: Any) -> str | int:
    """A grouped value as read back by either driver, as str (names) or int (ids, codes)."""
    if dimension in (UsageDimension.API_KEY, UsageDimension.MEMBER, UsageDimension.STATUS_CODE):
        return int(value or 0)
    return str(value)


def distinct_dimensions(
    dimensions: list[UsageDimension], argument: str
) -> tuple[UsageDimension, ...]:
    """The dimensions in the order given, without repeats; BadInputError naming `argument`
    when the list is empty."""
    if not dimensions:
        raise BadInputError(f"{argument}: give at least one dimension")
    return tuple(dict.fromkeys(dimensions))


def require_breakdown_access(scope: Scope, what: str) -> None:
    """Breakdowns (by any dimension) are Admin/Owner only, like the seed's "Cost breakdowns"
    row: a Member gets ForbiddenError even for their own usage."""
    scope.require_team(what)
