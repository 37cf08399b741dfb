"""Organization type: the tenant, and the root of every analytics question."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import strawberry

from admin.alert_rules import list_alert_rules
from admin.organization_settings import organization_pricing
from admin.report_schedules import list_report_schedules
from graph.context import Info
from graph.inputs.audit_filter import AuditTrailFilter
from graph.inputs.filters import UsageFilter
from graph.inputs.log_order import RequestLogOrder
from graph.permissions import TEAM_ONLY, CanRead, IsAdminOrOwner, require
from graph.scalars import usd
from graph.types.alert import (
    ALERTS_DESCRIPTION,
    AlertEventConnection,
    AlertKindEnum,
    resolve_alerts,
)
from graph.types.alert_rule import AlertRuleType
from graph.types.api_key import ApiKeyType
from graph.types.audit_entry import (
    AUDIT_TRAIL_DESCRIPTION,
    AuditEntryConnection,
    resolve_audit_trail,
)
from graph.types.billing_policy import BillingPeriodPolicyType
from graph.types.current_spend import CurrentSpend
from graph.types.enum_values import describe_values
from graph.types.enums import TierEnum
from graph.types.limit_request import (
    LIMIT_REQUESTS_DESCRIPTION,
    LimitRequestConnection,
    LimitRequestStatusEnum,
    resolve_limit_requests,
)
from graph.types.member import MemberType
from graph.types.node import Node
from graph.types.organization_pricing import PRICING_HISTORY_DESCRIPTION, PricingVersionType
from graph.types.report import (
    REPORTS_DESCRIPTION,
    ReportConnection,
    ReportKindEnum,
    resolve_reports,
)
from graph.types.report_schedule import ReportScheduleType
from graph.types.request_log import RequestLogType
from graph.types.request_log_connection import (
    LOGS_AFTER,
    LOGS_BEFORE,
    LOGS_FIRST,
    LOGS_LAST,
    ORDER_BY_DESCRIPTION,
    REQUEST_LOGS_DESCRIPTION,
    SEARCH_DESCRIPTION,
    LogPageArguments,
    RequestLogConnection,
    resolve_request_log,
    resolve_request_logs,
)
from graph.types.rollup_lag import RollupLagType
from graph.types.usage import UsageReport, resolve_current_spend, resolve_usage
from graph.types.wallet import WalletType
from models.global_ids import encode_global_id
from models.organization import BudgetEnforcement, Organization, Tier
from pricing.cost import basis_points_to_percent
from resolvers.api_keys import list_api_keys
from resolvers.billing_policy import billing_policy
from resolvers.members import list_members
from resolvers.pagination import DEFAULT_LISTED_ROWS, MAX_LISTED_ROWS
from resolvers.rollup_lag import rollup_lag
from resolvers.usage import check_limit
from resolvers.wallet import wallet_summary

BudgetEnforcementEnum = strawberry.enum(
    BudgetEnforcement,
    name="BudgetEnforcement",
    description=(
        "ALERT_ONLY: reaching the budget fires BUDGET alerts. BLOCK: keyAccess also refuses "
        "(402 BUDGET_EXCEEDED) once the period's spend reaches the budget."
    ),
)

describe_values(
    BudgetEnforcementEnum,
    {
        "ALERT_ONLY": "Reaching the budget fires BUDGET alerts only.",
        "BLOCK": "keyAccess also refuses requests once the budget is reached.",
    },
)


@strawberry.type(name="Organization", description="The caller's organization.")
class OrganizationType(Node):
    name: str = strawberry.field(description="The organization's display name.")
    slug: str = strawberry.field(description="The organization's short unique name, as in URLs.")
    tier: TierEnum = strawberry.field(  # type: ignore[valid-type]
        description="The plan: FREE, TEAM, BUSINESS or ENTERPRISE (decides the billing period)."
    )
    timezone: str = strawberry.field(description="IANA zone; trends and periods use it.")
    billing_anchor_day: int = strawberry.field(description="Day of month periods start on.")
    log_bodies: bool = strawberry.field(description="Whether request bodies are kept.")
    created_at: datetime = strawberry.field(description="When it was created (UTC).")
    pk: strawberry.Private[int]
    # The row this type was built from, so fields need not load the organization again.
    model: strawberry.Private[Organization]

    @strawberry.field(description="Markup on provider cost in effect now, percent.")
    async def markup_percent(self) -> Decimal:
        terms = (await organization_pricing(self.pk)).at(datetime.now(UTC))
        return basis_points_to_percent(terms.markup_bps)

    @strawberry.field(description="USD added to every successful request, in effect now.")
    async def fixed_fee(self) -> Decimal:
        return usd((await organization_pricing(self.pk)).at(datetime.now(UTC)).fixed_fee_nanos)

    @strawberry.field(description=PRICING_HISTORY_DESCRIPTION, extensions=require(CanRead))
    async def pricing_history(
        self,
        limit: Annotated[
            int, strawberry.argument(description="Most versions to list, newest first (1-100).")
        ] = DEFAULT_LISTED_ROWS,
    ) -> list[PricingVersionType]:
        # The latest `limit` versions, oldest first: a bounded list for the cost model.
        check_limit(limit, maximum=MAX_LISTED_ROWS)
        history = (await organization_pricing(self.pk)).history()[-limit:]
        return [PricingVersionType.from_terms(terms) for terms in history]

    @strawberry.field(
        description=(
            "USD; null means none. Null for Members too: the budget is team information "
            "(as `currentSpend.budget`)."
        )
    )
    def monthly_budget(self, info: Info) -> Decimal | None:
        # Every path to an organization (organization, viewer.organization, node,
        # setMonthlyBudget) builds this type, so this one field decides for all of them.
        nanos = self.model.monthly_budget_nanos
        if nanos is None or not info.context.viewer.sees_team:
            return None
        return usd(nanos)

    @strawberry.field(
        description=(
            "How billing periods run for this organization's tier (calendar month, anchor "
            "day or Enterprise contract); budgets, key limits and currentSpend follow it."
        )
    )
    def billing_period_policy(self) -> BillingPeriodPolicyType:
        return BillingPeriodPolicyType.from_policy(billing_policy(self.model))

    @strawberry.field(
        description=(
            "What reaching the monthly budget does (ALERT_ONLY or BLOCK); null for Members "
            "(budget settings are team information)."
        )
    )
    def budget_enforcement(self, info: Info) -> BudgetEnforcementEnum | None:  # type: ignore[valid-type]
        if not info.context.viewer.sees_team:
            return None
        return BudgetEnforcement(self.model.budget_enforcement)

    @strawberry.field(
        description=(
            "USD: a key limit an Admin sets above it (or clears) waits for an Owner's approval; "
            "null: no approval needed. Null for Members too."
        )
    )
    def limit_approval_threshold(self, info: Info) -> Decimal | None:
        nanos = self.model.limit_approval_threshold_nanos
        if nanos is None or not info.context.viewer.sees_team:
            return None
        return usd(nanos)

    @strawberry.field(description=LIMIT_REQUESTS_DESCRIPTION, extensions=require(IsAdminOrOwner))
    async def limit_requests(
        self,
        info: Info,
        status: Annotated[
            LimitRequestStatusEnum | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only requests in this status; all by default."),
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=(
                    "How many items to return from the start of the page (1-100; 50 by default)."
                )
            ),
        ] = 50,
        after: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "A cursor (`pageInfo.endCursor` of the previous page): return the items"
                    " after it."
                )
            ),
        ] = None,
    ) -> LimitRequestConnection | None:
        return await resolve_limit_requests(info, status, first, after)

    @strawberry.field(
        description=(
            "API keys: all for Admins/Owners, a Member's own keys for a Member; the first "
            f"`limit` (1-{MAX_LISTED_ROWS}) by creation."
        ),
        extensions=require(CanRead),
    )
    async def api_keys(
        self,
        info: Info,
        limit: Annotated[
            int, strawberry.argument(description="Most keys to list (1-100).")
        ] = DEFAULT_LISTED_ROWS,
    ) -> list[ApiKeyType]:
        check_limit(limit, maximum=MAX_LISTED_ROWS)
        keys = await list_api_keys(info.context.scope, limit)
        return [ApiKeyType.from_model(k) for k in keys]

    @strawberry.field(
        description=(
            "Members: everyone for Admins/Owners, only yourself for a Member; the first "
            f"`limit` (1-{MAX_LISTED_ROWS}) by creation."
        ),
        extensions=require(CanRead),
    )
    async def members(
        self,
        info: Info,
        limit: Annotated[
            int, strawberry.argument(description="Most members to list (1-100).")
        ] = DEFAULT_LISTED_ROWS,
    ) -> list[MemberType]:
        check_limit(limit, maximum=MAX_LISTED_ROWS)
        members = await list_members(info.context.scope, limit)
        return [MemberType.from_model(m) for m in members]

    @strawberry.field(
        description=(
            "Usage analytics for `filter` (default LAST_30_DAYS): totals, trend, breakdown, "
            "latency, errors, comparison. A Member sees only their own requests."
        ),
        extensions=require(CanRead),
    )
    async def usage(
        self,
        info: Info,
        filter: Annotated[
            UsageFilter | None,
            strawberry.argument(
                description=(
                    "Which requests count: range, timezone, models, keys, members, status "
                    "(the last 30 days by default)."
                )
            ),
        ] = None,
    ) -> UsageReport:
        return await resolve_usage(info, self.model, filter)

    @strawberry.field(
        description="Spend in the current billing period against the monthly budget.",
        extensions=require(CanRead),
    )
    async def current_spend(self, info: Info) -> CurrentSpend:
        return await resolve_current_spend(info, self.model)

    @strawberry.field(
        description=(
            "How far the rollup folder is behind: requests not folded into the rollups yet "
            f"(usage figures count them already) (Admins/Owners). {TEAM_ONLY}"
        ),
        extensions=require(IsAdminOrOwner),
    )
    async def rollup_lag(self, info: Info) -> RollupLagType | None:
        return RollupLagType.from_lag(await rollup_lag(info.context.scope))

    @strawberry.field(
        description=f"The prepaid wallet: balance, threshold, ledger (Admins/Owners). {TEAM_ONLY}",
        extensions=require(IsAdminOrOwner),
    )
    def wallet(self, info: Info) -> WalletType | None:
        return WalletType.from_summary(wallet_summary(info.context.scope, self.model))

    @strawberry.field(description=ALERTS_DESCRIPTION, extensions=require(CanRead))
    async def alerts(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=(
                    "How many items to return from the start of the page (1-100; 50 by default)."
                )
            ),
        ] = 50,
        after: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "A cursor (`pageInfo.endCursor` of the previous page): return the items"
                    " after it."
                )
            ),
        ] = None,
        kinds: Annotated[
            list[AlertKindEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only alerts of these kinds; all by default."),
        ] = None,
        unacknowledged_only: Annotated[
            bool,
            strawberry.argument(description="True lists only alerts nobody has acknowledged yet."),
        ] = False,
    ) -> AlertEventConnection:
        return await resolve_alerts(info, self.model, first, after, kinds, unacknowledged_only)

    @strawberry.field(
        description=(
            "Alert rules: usage rules and where alerts are delivered (Admins/Owners), oldest "
            f"first. {TEAM_ONLY}"
        ),
        extensions=require(IsAdminOrOwner),
    )
    async def alert_rules(self, info: Info) -> list[AlertRuleType] | None:
        return [AlertRuleType.from_model(r) for r in await list_alert_rules(info.context.scope)]

    @strawberry.field(description=REQUEST_LOGS_DESCRIPTION, extensions=require(CanRead))
    async def request_logs(
        self,
        info: Info,
        filter: Annotated[
            UsageFilter | None,
            strawberry.argument(
                description=(
                    "Which requests count: range, timezone, models, keys, members, status "
                    "(the last 30 days by default)."
                )
            ),
        ] = None,
        first: Annotated[int | None, strawberry.argument(description=LOGS_FIRST)] = None,
        after: Annotated[str | None, strawberry.argument(description=LOGS_AFTER)] = None,
        last: Annotated[int | None, strawberry.argument(description=LOGS_LAST)] = None,
        before: Annotated[str | None, strawberry.argument(description=LOGS_BEFORE)] = None,
        order_by: Annotated[
            RequestLogOrder | None, strawberry.argument(description=ORDER_BY_DESCRIPTION)
        ] = None,
        search: Annotated[str | None, strawberry.argument(description=SEARCH_DESCRIPTION)] = None,
    ) -> RequestLogConnection:
        return await resolve_request_logs(
            info.context.scope,
            self.model,
            filter,
            LogPageArguments(first, after, last, before, order_by, search),
            info,
        )

    @strawberry.field(
        description=(
            "One request log by the gateway's request id (the UUID it sent at ingest); null "
            "when there is none the viewer may see: a Member finds only their own requests."
        ),
        extensions=require(CanRead),
    )
    async def request_log(
        self,
        info: Info,
        request_id: Annotated[
            UUID, strawberry.argument(description="The gateway's UUID for the request.")
        ],
    ) -> RequestLogType | None:
        return await resolve_request_log(info.context.scope, self.model, request_id, info)

    @strawberry.field(description=REPORTS_DESCRIPTION, extensions=require(IsAdminOrOwner))
    async def reports(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=(
                    "How many items to return from the start of the page (1-100; 50 by default)."
                )
            ),
        ] = 50,
        after: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "A cursor (`pageInfo.endCursor` of the previous page): return the items"
                    " after it."
                )
            ),
        ] = None,
        kinds: Annotated[
            list[ReportKindEnum] | None,  # type: ignore[valid-type]
            strawberry.argument(description="Only reports of these kinds; all by default."),
        ] = None,
    ) -> ReportConnection | None:
        return await resolve_reports(info.context.scope, first, after, kinds)

    @strawberry.field(
        description=(
            "The organization's own report schedules (Admins/Owners); empty when it follows "
            f"the server-wide AIZE_REPORTS_SCHEDULE. {TEAM_ONLY}"
        ),
        extensions=require(IsAdminOrOwner),
    )
    async def report_schedules(self, info: Info) -> list[ReportScheduleType] | None:
        schedules = await list_report_schedules(info.context.scope)
        return [ReportScheduleType.from_model(s) for s in schedules]

    @strawberry.field(description=AUDIT_TRAIL_DESCRIPTION, extensions=require(IsAdminOrOwner))
    async def audit_trail(
        self,
        info: Info,
        filter: Annotated[
            AuditTrailFilter | None,
            strawberry.argument(description="Which entries: time range, actions, actors, subject."),
        ] = None,
        first: Annotated[
            int | None,
            strawberry.argument(
                description=(
                    "How many items to return from the start of the page (1-100; 50 by default)."
                )
            ),
        ] = 50,
        after: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "A cursor (`pageInfo.endCursor` of the previous page): return the items"
                    " after it."
                )
            ),
        ] = None,
    ) -> AuditEntryConnection | None:
        return await resolve_audit_trail(info.context.scope, filter, first, after)

    @classmethod
    def from_model(cls, org: Organization) -> OrganizationType:
        return cls(
            id=strawberry.ID(encode_global_id("Organization", org.id)),
            name=org.name,
            slug=org.slug,
            tier=Tier(org.tier),
            timezone=org.timezone,
            billing_anchor_day=org.billing_anchor_day,
            log_bodies=org.log_bodies,
            created_at=org.created_at,
            pk=org.id,
            model=org,
        )
