"""The values a usage group is keyed by, shared by breakdown groups, trend series and
latency groups. Keys and members resolve through the request's dataloaders (one query for
all groups), within the viewer's scope."""

from __future__ import annotations

from typing import TypedDict

import strawberry

from graph.context import Info
from graph.types.api_key import ApiKeyType
from graph.types.member import MemberType
from resolvers.usage_dimensions import NO_MEMBER, GroupKey, UsageDimension


@strawberry.interface(
    name="DimensionValues",
    description=(
        "The group's value for each dimension it is grouped by; the others are null. In a "
        "MEMBER group, `member` null with `hasMember` false means requests made with a team "
        'key and no member. A TAG group\'s `tag` is "" for untagged requests and an '
        'END_USER group\'s `endUser` "" for requests without an end user. A request with '
        "two tags counts in both tag groups, so TAG groups do not add up to the total."
    ),
)
class DimensionValues:
    model: str | None = strawberry.field(description="Model alias (MODEL).")
    provider_model: str | None = strawberry.field(description="Provider model (PROVIDER_MODEL).")
    status_code: int | None = strawberry.field(description="HTTP status code (STATUS_CODE).")
    endpoint: str | None = strawberry.field(description="Endpoint path (ENDPOINT).")
    provider: str | None = strawberry.field(
        description='Provider, lower-case, e.g. "openai" or "unknown" (PROVIDER).'
    )
    tag: str | None = strawberry.field(description='Tag (TAG); "" for untagged requests.')
    end_user: str | None = strawberry.field(
        description='The application\'s end-user id (END_USER); "" for requests without one.'
    )
    has_member: bool | None = strawberry.field(
        description="MEMBER groups: false for requests without a member; null otherwise."
    )
    api_key_pk: strawberry.Private[int | None]
    member_pk: strawberry.Private[int | None]

    @strawberry.field(description="The key (API_KEY).")
    async def api_key(self, info: Info) -> ApiKeyType | None:
        if self.api_key_pk is None:
            return None
        key = await info.context.loaders.api_key_by_id.load(self.api_key_pk)
        return ApiKeyType.from_model(key) if key else None

    @strawberry.field(description="The member (MEMBER); null for requests without one.")
    async def member(self, info: Info) -> MemberType | None:
        if self.member_pk is None or self.member_pk == NO_MEMBER:
            return None
        member = await info.context.loaders.member_by_id.load(self.member_pk)
        return MemberType.from_model(member) if member else None


class DimensionFields(TypedDict):
    """Constructor arguments shared by every DimensionValues type."""

    model: str | None
    provider_model: str | None
    status_code: int | None
    endpoint: str | None
    provider: str | None
    tag: str | None
    end_user: str | None
    has_member: bool | None
    api_key_pk: int | None
    member_pk: int | None


def dimension_values(dimensions: tuple[UsageDimension, ...], key: GroupKey) -> DimensionFields:
    """Constructor arguments of a DimensionValues type for one group."""
    values = dict(zip(dimensions, key, strict=True))

    def text(dimension: UsageDimension) -> str | None:
        value = values.get(dimension)
        return None if value is None else str(value)

    def number(dimension: UsageDimension) -> int | None:
        value = values.get(dimension)
        return None if value is None else int(value)

    member = number(UsageDimension.MEMBER)
    return DimensionFields(
        model=text(UsageDimension.MODEL),
        provider_model=text(UsageDimension.PROVIDER_MODEL),
        status_code=number(UsageDimension.STATUS_CODE),
        endpoint=text(UsageDimension.ENDPOINT),
        provider=text(UsageDimension.PROVIDER),
        tag=text(UsageDimension.TAG),
        end_user=text(UsageDimension.END_USER),
        has_member=None if member is None else member != NO_MEMBER,
        api_key_pk=number(UsageDimension.API_KEY),
        member_pk=member,
    )
