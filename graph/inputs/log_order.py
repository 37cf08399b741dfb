"""RequestLogOrder: the order `Organization.requestLogs` returns logs in."""

from __future__ import annotations

import strawberry

from graph.types.enum_values import describe_values
from graph.types.usage_enums import SortDirectionEnum
from resolvers.log_order import LogOrder, LogOrderField
from resolvers.usage import SortDirection

LogOrderFieldEnum = strawberry.enum(
    LogOrderField,
    name="RequestLogOrderField",
    description=(
        "What request logs are sorted by, then by id in the same direction: TIMESTAMP "
        "(DESC = newest first, the default), CUSTOMER_COST, LATENCY (ms), TOTAL_TOKENS."
    ),
)

describe_values(
    LogOrderFieldEnum,
    {
        "TIMESTAMP": "When the request was made.",
        "CUSTOMER_COST": "What the customer pays for it, in USD.",
        "LATENCY": "How long it took, in milliseconds.",
        "TOTAL_TOKENS": "Its input plus output tokens.",
    },
)


@strawberry.input(
    name="RequestLogOrder",
    description=(
        "The order of request logs, e.g. {field: CUSTOMER_COST, direction: DESC} for the "
        "most expensive first. A cursor is only valid with the order it came from."
    ),
)
class RequestLogOrder:
    field: LogOrderFieldEnum = strawberry.field(  # type: ignore[valid-type]
        default=LogOrderField.TIMESTAMP, description="The sort value (default TIMESTAMP)."
    )
    direction: SortDirectionEnum = strawberry.field(  # type: ignore[valid-type]
        default=SortDirection.DESC, description="ASC or DESC (default DESC)."
    )

    def parsed(self) -> LogOrder:
        return LogOrder(LogOrderField(self.field), SortDirection(self.direction))
