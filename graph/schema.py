"""The schema: Query (and Mutation) entry points, extensions, scalar overrides."""

from __future__ import annotations

import logging
from decimal import Decimal
from functools import cache
from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from graph.context import Info
from graph.executor_choice import executor_class
from graph.extensions import SCHEMA_EXTENSIONS
from graph.mutations.alert_rules import AlertRuleMutations
from graph.mutations.alerts import AlertMutations
from graph.mutations.api_keys import ApiKeyMutations
from graph.mutations.budgets import BudgetMutations
from graph.mutations.directory import DirectoryMutations
from graph.mutations.governance import GovernanceMutations
from graph.mutations.ingest import IngestMutations
from graph.mutations.members import MemberMutations
from graph.mutations.organization_settings import OrganizationSettingsMutations
from graph.mutations.report_schedules import ReportScheduleMutations
from graph.mutations.wallet import WalletMutations
from graph.node import resolve_node, resolve_nodes
from graph.permissions import CanIngest, CanRead, require
from graph.relay import MAX_NODE_IDS
from graph.scalars import SCALAR_MAP
from graph.subscription import Subscription
from graph.types.api_key import ApiKeyType
from graph.types.key_access import KEY_ACCESS_DESCRIPTION, KeyAccessType, resolve_key_access
from graph.types.member import MemberType
from graph.types.node import Node
from graph.types.organization import OrganizationType
from graph.types.request_log import RequestLogType
from graph.types.viewer import ViewerType
from models.organization import Organization
from settings import Settings

log = logging.getLogger("aize.graphql")


@strawberry.type(description="The entry points: the viewer, their organization, any object by id.")
class Query:
    @strawberry.field(description="Who is calling: member, role, organization.")
    def viewer(self, info: Info) -> ViewerType:
        return ViewerType.from_context(info)

    @strawberry.field(
        description="The caller's organization (a token belongs to exactly one).",
        extensions=require(CanRead),
    )
    async def organization(self, info: Info) -> OrganizationType:
        org = info.context.viewer.organization
        if org is None or org.id != info.context.scope.organization_id:
            org = await Organization.get(id=info.context.scope.organization_id)
        return OrganizationType.from_model(org)

    @strawberry.field(
        description="Any object by global id; ids outside your scope answer null.",
        extensions=require(CanRead),
    )
    async def node(
        self,
        info: Info,
        id: Annotated[
            strawberry.ID,
            strawberry.argument(description="A global id from any object of this API."),
        ],
    ) -> Node | None:
        return await resolve_node(info, str(id))

    @strawberry.field(
        description=(
            f"Several objects by global id (at most {MAX_NODE_IDS}), in the order asked: "
            "each id outside your scope, unknown or undecodable answers null, as with `node`."
        ),
        extensions=require(CanRead),
    )
    async def nodes(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(description=f"Global ids, 0 to {MAX_NODE_IDS}."),
        ],
    ) -> list[Node | None]:
        return await resolve_nodes(info, [str(i) for i in ids])

    @strawberry.field(description=KEY_ACCESS_DESCRIPTION, extensions=require(CanIngest))
    async def key_access(
        self,
        info: Info,
        model: Annotated[
            str, strawberry.argument(description="The model alias the request asks for.")
        ],
        api_key_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The key's global id (or give apiKeyPrefix)."),
        ] = None,
        api_key_prefix: Annotated[
            str | None,
            strawberry.argument(description="The key's public prefix (or give apiKeyId)."),
        ] = None,
        estimated_cost: Annotated[
            Decimal | None,
            strawberry.argument(
                description=(
                    "What the request will likely cost in USD; checked against limits and budget."
                )
            ),
        ] = None,
    ) -> KeyAccessType:
        return await resolve_key_access(info, model, api_key_id, api_key_prefix, estimated_cost)


# Each domain adds its mutations as a type in graph/mutations/<domain>.py, listed here.
_MUTATION_TYPES: tuple[type, ...] = (
    IngestMutations,
    WalletMutations,
    BudgetMutations,
    AlertMutations,
    AlertRuleMutations,
    ApiKeyMutations,
    MemberMutations,
    OrganizationSettingsMutations,
    DirectoryMutations,
    ReportScheduleMutations,
    GovernanceMutations,
)
Mutation = strawberry.type(
    merge_types("Mutation", _MUTATION_TYPES),
    description="Changes: ingest, money, keys, members, alerts, reports, settings, directory sync.",
)


class AizeSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorCodes already logged unexpected errors with their traceback and error id;
        # expected ones (FORBIDDEN, BAD_USER_INPUT, RATE_LIMITED...) are the client's business
        # and must not flood the server log at ERROR level.
        for error in errors:
            code = (error.extensions or {}).get("code", "")
            log.info("graphql error %s at %s: %s", code, error.path, error.message)


def build_schema(*, fast_executor: bool = True) -> AizeSchema:
    """The product schema, run by the fast executor (graph/execution.py) or, with
    fast_executor false or where it cannot run, by graphql-core's own
    (graph/executor_choice.py)."""
    return AizeSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[ApiKeyType, MemberType, OrganizationType, RequestLogType],
        # Error codes, query limits, rate limit, timeout: see graph/extensions/__init__.py.
        extensions=SCHEMA_EXTENSIONS,
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        execution_context_class=executor_class(fast=fast_executor),
    )


schema = build_schema()


@cache
def library_executor_schema() -> AizeSchema:
    """The same schema on graphql-core's own executor (AIZE_FAST_EXECUTOR=false), built
    once, when first needed."""
    return build_schema(fast_executor=False)


def schema_for(settings: Settings) -> AizeSchema:
    """The schema a service with `settings` runs: AIZE_FAST_EXECUTOR chooses the executor."""
    return schema if settings.fast_executor else library_executor_schema()
