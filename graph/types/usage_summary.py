"""UsageSummary: one key's or one member's usage (requests, tokens, cost, models, errors)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import strawberry

from graph.context import Info
from graph.dataloaders.usage import UsageSubjectKey
from graph.inputs.filters import UsageFilter
from graph.scalars import BigInt, usd
from graph.types.cost_summary import CostSummary
from resolvers.usage import MAX_GROUPS, check_limit
from resolvers.usage_dimensions import UsageDimension
from resolvers.usage_summary import SubjectUsage

DEFAULT_MODELS_USED = 10


@strawberry.type(
    name="UsageSummary",
    description=(
        "Usage of one API key or member under the filter. For a Member viewer it covers only "
        "their own requests (e.g. on a team key)."
    ),
)
class UsageSummary:
    requests: BigInt = strawberry.field(description="Requests in the range.")
    failed: BigInt = strawberry.field(description="Requests not answered 2xx.")
    error_rate: Decimal | None = strawberry.field(
        description="failed / requests x 100 (percent, 9 decimals); null without requests."
    )
    input_tokens: BigInt = strawberry.field(description="Prompt (input) tokens in the range.")
    output_tokens: BigInt = strawberry.field(description="Completion (output) tokens in the range.")
    total_tokens: BigInt = strawberry.field(description="Input plus output tokens in the range.")
    cost: Decimal = strawberry.field(description="USD customer cost.")
    totals: CostSummary = strawberry.field(description="Every metric of the usage report.")
    all_models_used: strawberry.Private[list[str]]

    @strawberry.field(
        description=(
            "Model aliases used, most requests first (ties by alias): the first `limit` "
            f"(1-{MAX_GROUPS})."
        )
    )
    def models_used(
        self,
        limit: Annotated[
            int, strawberry.argument(description="Most model aliases to list (1-100).")
        ] = DEFAULT_MODELS_USED,
    ) -> list[str]:
        check_limit(limit)
        return self.all_models_used[:limit]

    @classmethod
    def from_usage(cls, usage: SubjectUsage) -> UsageSummary:
        totals = usage.totals
        return cls(
            requests=BigInt(totals.requests),
            failed=BigInt(totals.failed),
            error_rate=totals.error_rate_percent(),
            input_tokens=BigInt(totals.input_tokens),
            output_tokens=BigInt(totals.output_tokens),
            total_tokens=BigInt(totals.total_tokens),
            cost=usd(totals.customer_cost_nanos),
            all_models_used=usage.models_used(),
            totals=CostSummary.from_measures(totals),
        )


SUBJECT_USAGE_DESCRIPTION = (
    "Usage under `filter` (default LAST_30_DAYS): requests, tokens, cost, models used, "
    "error rate. Batched: one query for every key/member of the response."
)


async def resolve_subject_usage(
    info: Info, subject: UsageDimension, subject_id: int, usage_filter: UsageFilter | None
) -> UsageSummary:
    """ApiKey.usage / Member.usage through the per-request batching loader."""
    loader = info.context.loaders.usage_by_subject
    log_filter = await loader.log_filter(usage_filter)
    usage = await loader.load(UsageSubjectKey(subject, subject_id, log_filter))
    return UsageSummary.from_usage(usage)
