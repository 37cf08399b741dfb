"""Error analysis: failed requests by status code and by message pattern."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypedDict
from zoneinfo import ZoneInfo

import strawberry

from graph.context import Info
from graph.scalars import BigInt
from graph.types.api_key import ApiKeyType
from resolvers.error_analysis import TOP_AFFECTED, ErrorAnalysis, ErrorGroup
from resolvers.usage import check_limit


@strawberry.type(name="AffectedApiKey", description="A key and its failed requests.")
class AffectedApiKey:
    requests: BigInt = strawberry.field(
        description="Failed requests of the group made with this key."
    )
    api_key_pk: strawberry.Private[int]

    @strawberry.field(description="Null if the key is no longer visible to you.")
    async def api_key(self, info: Info) -> ApiKeyType | None:
        key = await info.context.loaders.api_key_by_id.load(self.api_key_pk)
        return ApiKeyType.from_model(key) if key else None


@strawberry.type(name="AffectedModel", description="A model alias and its failed requests.")
class AffectedModel:
    model: str = strawberry.field(description="The model alias the requests asked for.")
    requests: BigInt = strawberry.field(description="Failed requests of the group for this model.")


@strawberry.interface(
    name="ErrorGroup",
    description=(
        f"Failed requests sharing a trait. Times are in the report's timezone; the top "
        f"{TOP_AFFECTED} keys and models are the most affected first."
    ),
)
class ErrorGroupFields:
    count: BigInt = strawberry.field(description="Failed requests in the group.")
    first_seen: datetime = strawberry.field(
        description=(
            "The earliest failed request of the group in the range, in the filter's timezone."
        )
    )
    last_seen: datetime = strawberry.field(
        description="The latest failed request of the group in the range, in the filter's timezone."
    )
    top_api_keys: list[AffectedApiKey] = strawberry.field(
        description="The API keys with the most failed requests of the group, most first."
    )
    top_models: list[AffectedModel] = strawberry.field(
        description="The models with the most failed requests of the group, most first."
    )


class _GroupFields(TypedDict):
    count: BigInt
    first_seen: datetime
    last_seen: datetime
    top_api_keys: list[AffectedApiKey]
    top_models: list[AffectedModel]


def _group_fields(group: ErrorGroup, tz: ZoneInfo) -> _GroupFields:
    return _GroupFields(
        count=BigInt(group.count),
        first_seen=group.first_seen.astimezone(tz),
        last_seen=group.last_seen.astimezone(tz),
        top_api_keys=[
            AffectedApiKey(requests=BigInt(count), api_key_pk=key_id)
            for key_id, count in group.top_api_keys()
        ],
        top_models=[
            AffectedModel(model=model, requests=BigInt(count))
            for model, count in group.top_models()
        ],
    )


@strawberry.type(name="ErrorStatusGroup", description="Failed requests with one status code.")
class ErrorStatusGroup(ErrorGroupFields):
    status_code: int = strawberry.field(
        description="The HTTP status code the requests were answered with."
    )


@strawberry.type(
    name="ErrorPatternGroup",
    description=(
        "Failed requests whose messages share a pattern: quoted strings, UUIDs, hex ids and "
        "numbers replaced by <str>, <uuid>, <hex> and <num>."
    ),
)
class ErrorPatternGroup(ErrorGroupFields):
    pattern: str = strawberry.field(description='The normalized message ("(no message)").')
    status_codes: list[int] = strawberry.field(description="Status codes seen, ascending.")
    sample_message: str | None = strawberry.field(description="The most recent raw message.")


@strawberry.type(
    name="UsageErrors",
    description="Failed (non-2xx) requests matching the filter, from the raw logs.",
)
class UsageErrors:
    failed_requests: BigInt = strawberry.field(
        description="Requests not answered 2xx in the range."
    )
    status_groups: strawberry.Private[list[ErrorStatusGroup]]
    analysis: strawberry.Private[ErrorAnalysis]
    tz: strawberry.Private[ZoneInfo]

    @strawberry.field(description="Most failed requests first, ties by status code; `limit` 1-100.")
    def by_status_code(
        self,
        limit: Annotated[
            int, strawberry.argument(description="Most status codes to return (1-100).")
        ] = 20,
    ) -> list[ErrorStatusGroup]:
        check_limit(limit)
        return self.status_groups[:limit]

    @strawberry.field(description="Most failed requests first, ties by pattern; `limit` 1-100.")
    def by_pattern(
        self,
        limit: Annotated[
            int, strawberry.argument(description="Most message patterns to return (1-100).")
        ] = 20,
    ) -> list[ErrorPatternGroup]:
        check_limit(limit)
        return [
            ErrorPatternGroup(
                pattern=pattern,
                status_codes=sorted(group.status_codes),
                sample_message=group.sample_message,
                **_group_fields(group, self.tz),
            )
            for pattern, group in self.analysis.by_pattern[:limit]
        ]

    @classmethod
    def from_analysis(cls, analysis: ErrorAnalysis, tz: ZoneInfo) -> UsageErrors:
        return cls(
            failed_requests=BigInt(analysis.failed_requests),
            status_groups=[
                ErrorStatusGroup(status_code=code, **_group_fields(group, tz))
                for code, group in analysis.by_status_code
            ],
            analysis=analysis,
            tz=tz,
        )
