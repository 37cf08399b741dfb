"""Cost governance: key limits above the organization's approval threshold wait for an Owner.

An organization may set `limit_approval_threshold_nanos`. When an Admin raises a key's limit
above it (or clears the limit, which means no limit at all), the change becomes a PENDING
LimitRequest and a LIMIT_REQUEST alert fires; the key keeps its old limit until an Owner
approves. An Owner's own change applies at once: Owners are the ones who approve. Lowering a
limit never waits, even above the threshold: it only reduces what the key may spend.

A key has at most one pending request: a newer change for the key (a new request, an Owner's
change or a change under the threshold) marks the older one SUPERSEDED, so a late approval
cannot undo a later decision. Every step writes an audit entry in its own transaction.
Requests are looked up within the caller's organization only: another tenant's id is
NOT_FOUND exactly like a missing one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from alerts.events import AlertDraft, insert_alerts
from audit.trail import Actor, record_change
from models.alert import AlertKind
from models.api_key import ApiKey
from models.limit_request import LimitRequest, LimitRequestStatus
from models.organization import Organization
from pricing.money import format_optional_usd, format_usd
from resolvers.errors import BadInputError, NotFoundError
from resolvers.pagination import KeysetCursor, Page, PageRequest, build_page
from resolvers.scope import Scope
from spend.budgets import apply_api_key_limit, check_key_limit, find_key
from spend.state import lock_organization

__all__ = [
    "REASON_LENGTH",
    "LimitChange",
    "approve_limit_request",
    "change_api_key_limit",
    "count_limit_requests",
    "limit_request_by_id",
    "limit_request_page",
    "needs_approval",
    "pending_limit_requests",
    "reject_limit_request",
]

REASON_LENGTH = 500


@dataclass(frozen=True, slots=True)
class LimitChange:
    """The key after a limit change, and the request it became (None when it applied)."""

    key: ApiKey
    request: LimitRequest | None


def needs_approval(
    threshold_nanos: int | None, current_nanos: int | None, requested_nanos: int | None
) -> bool:
    """Whether a limit change must wait for an Owner: a threshold is set and the change
    raises the limit above it (None, no limit, counts as above every amount)."""
    if threshold_nanos is None:
        return False
    if requested_nanos is None:
        return current_nanos is not None
    if current_nanos is None:
        return False  # from no limit to any limit is a decrease
    return requested_nanos > threshold_nanos and requested_nanos > current_nanos


async def change_api_key_limit(
    actor: Actor,
    approves_own_changes: bool,
    organization_id: int,
    api_key_id: int,
    limit_nanos: int | None,
    now: datetime | None = None,
) -> LimitChange:
    """Set or clear the key's monthly limit (nano-USD), or, when it needs approval and the
    caller is not an Owner (`approves_own_changes`), file a PENDING request for it instead.
    NotFoundError for a key outside the organization."""
    check_key_limit(limit_nanos)
    at = now or datetime.now(UTC)
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        org = await Organization.filter(id=organization_id).using_db(conn).get()
        key = await find_key(conn, organization_id, api_key_id)
        old = key.monthly_limit_nanos
        await _supersede_pending(conn, actor, organization_id, api_key_id, at)
        if not approves_own_changes and needs_approval(
            org.limit_approval_threshold_nanos, old, limit_nanos
        ):
            request = await _file_request(conn, actor, org, key, limit_nanos, at)
            return LimitChange(key, request)
        await apply_api_key_limit(conn, organization_id, api_key_id, limit_nanos)
        await record_change(
            organization_id,
            actor,
            "apiKey.limit",
            "ApiKey",
            api_key_id,
            {"monthlyLimit": (format_optional_usd(old), format_optional_usd(limit_nanos))},
            connection=conn,
        )
    return LimitChange(
        await Scope.for_organization(organization_id).filter(ApiKey).get(id=api_key_id), None
    )


async def approve_limit_request(
    actor: Actor, organization_id: int, request_id: int, now: datetime | None = None
) -> LimitRequest:
    """Approve a PENDING request (Owners): the key gets the requested limit at once.
    BadInputError when it was already decided (of two concurrent approvals one wins)."""
    at = now or datetime.now(UTC)
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        request = await _decide(conn, actor, organization_id, request_id, at, approve=True)
        key = await find_key(conn, organization_id, request.api_key_id)
        await apply_api_key_limit(
            conn, organization_id, request.api_key_id, request.requested_limit_nanos
        )
        await record_change(
            organization_id,
            actor,
            "apiKey.limit",
            "ApiKey",
            request.api_key_id,
            {
                "monthlyLimit": (
                    format_optional_usd(key.monthly_limit_nanos),
                    format_optional_usd(request.requested_limit_nanos),
                )
            },
            connection=conn,
        )
    return request


async def reject_limit_request(
    actor: Actor,
    organization_id: int,
    request_id: int,
    reason: str | None,
    now: datetime | None = None,
) -> LimitRequest:
    """Reject a PENDING request (Owners), with an optional reason; the old limit stays.
    BadInputError when it was already decided."""
    if reason is not None and len(reason) > REASON_LENGTH:
        raise BadInputError(f"reason: at most {REASON_LENGTH} characters")
    at = now or datetime.now(UTC)
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        return await _decide(
            conn, actor, organization_id, request_id, at, approve=False, reason=reason
        )


async def limit_request_page(
    scope: Scope, status: LimitRequestStatus | None, request: PageRequest
) -> Page[LimitRequest]:
    """One page of the organization's requests, newest first; ForbiddenError for Members."""
    scope.require_team("limit requests")
    query = _listed(scope, status)
    if request.after is not None:
        query = query.filter(id__lt=request.after.id)
    rows = await query.order_by("-id").limit(request.size + 1)
    return build_page(rows, request, _position)


async def pending_limit_requests(
    scope: Scope, api_key_ids: Sequence[int]
) -> dict[int, LimitRequest]:
    """The PENDING request per key id among `api_key_ids` (at most one each); empty for a
    Member (requests are team information)."""
    if not scope.sees_team or not api_key_ids:
        return {}
    rows = await scope.filter(LimitRequest).filter(
        status=LimitRequestStatus.PENDING, api_key_id__in=list(api_key_ids)
    )
    return {row.api_key_id: row for row in rows}


async def limit_request_by_id(scope: Scope, request_id: int) -> LimitRequest | None:
    """The organization's request `request_id`, for Admins/Owners; None otherwise."""
    if not scope.sees_team:
        return None
    return await scope.filter(LimitRequest).filter(id=request_id).first()


async def count_limit_requests(scope: Scope, status: LimitRequestStatus | None) -> int:
    """How many requests match (all pages)."""
    scope.require_team("limit requests")
    return await _listed(scope, status).count()


def _listed(scope: Scope, status: LimitRequestStatus | None) -> QuerySet[LimitRequest]:
    query = scope.filter(LimitRequest)
    return query if status is None else query.filter(status=status)


def _position(request: LimitRequest) -> KeysetCursor:
    # Ids follow creation order; the cursor compares the id only.
    return KeysetCursor(timestamp=request.requested_at, id=request.id)


async def _file_request(
    conn: BaseDBAsyncClient,
    actor: Actor,
    org: Organization,
    key: ApiKey,
    limit_nanos: int | None,
    at: datetime,
) -> LimitRequest:
    request = await LimitRequest.create(
        organization_id=org.id,
        api_key_id=key.id,
        requested_by_member_id=actor.member_id,
        requested_by_token_id=actor.token_id,
        old_limit_nanos=key.monthly_limit_nanos,
        requested_limit_nanos=limit_nanos,
        requested_at=at,
        using_db=conn,
    )
    await record_change(
        org.id,
        actor,
        "limitRequest.create",
        "LimitRequest",
        request.id,
        {
            "apiKeyId": (None, key.id),
            "monthlyLimit": (
                format_optional_usd(key.monthly_limit_nanos),
                format_optional_usd(limit_nanos),
            ),
            "status": (None, LimitRequestStatus.PENDING),
        },
        connection=conn,
    )
    threshold = org.limit_approval_threshold_nanos
    assert threshold is not None  # only a set threshold makes a request
    message = (
        f"A limit of {_text(limit_nanos)} for API key '{key.label}' (now "
        f"{_text(key.monthly_limit_nanos)}) is above the approval threshold of "
        f"${format_usd(threshold)} and waits for an Owner's approval"
    )
    draft = AlertDraft(
        organization_id=org.id,
        kind=AlertKind.LIMIT_REQUEST,
        subject_api_key_id=key.id,
        threshold=format_usd(threshold),
        period_key=f"LimitRequest:{request.id}",
        value_nanos=limit_nanos,
        message=message[:1000],
        fired_at=at,
    )
    await insert_alerts(conn, [draft])
    return request


async def _supersede_pending(
    conn: BaseDBAsyncClient, actor: Actor, organization_id: int, api_key_id: int, at: datetime
) -> None:
    pending = await (
        Scope.for_organization(organization_id)
        .filter(LimitRequest)
        .filter(api_key_id=api_key_id, status=LimitRequestStatus.PENDING)
        .using_db(conn)
    )
    for request in pending:
        await (
            Scope.for_organization(organization_id)
            .filter(LimitRequest)
            .filter(id=request.id)
            .using_db(conn)
            .update(status=LimitRequestStatus.SUPERSEDED, decided_at=at)
        )
        await record_change(
            organization_id,
            actor,
            "limitRequest.supersede",
            "LimitRequest",
            request.id,
            {"status": (LimitRequestStatus.PENDING, LimitRequestStatus.SUPERSEDED)},
            connection=conn,
        )


async def _decide(
    conn: BaseDBAsyncClient,
    actor: Actor,
    organization_id: int,
    request_id: int,
    at: datetime,
    *,
    approve: bool,
    reason: str | None = None,
) -> LimitRequest:
    status = LimitRequestStatus.APPROVED if approve else LimitRequestStatus.REJECTED
    # Conditional on PENDING: of two concurrent decisions exactly one changes the row.
    changed = await (
        Scope.for_organization(organization_id)
        .filter(LimitRequest)
        .filter(id=request_id, status=LimitRequestStatus.PENDING)
        .using_db(conn)
        .update(status=status, decided_at=at, decided_by_member_id=actor.member_id, reason=reason)
    )
    request = (
        await Scope.for_organization(organization_id)
        .filter(LimitRequest)
        .filter(id=request_id)
        .using_db(conn)
        .first()
    )
    if request is None:
        raise NotFoundError("id: no such limit request")
    if not changed:
        raise BadInputError(f"id: this limit request is already {request.status.value}")
    await record_change(
        organization_id,
        actor,
        "limitRequest.approve" if approve else "limitRequest.reject",
        "LimitRequest",
        request_id,
        {"status": (LimitRequestStatus.PENDING, status), "reason": (None, reason)},
        connection=conn,
    )
    return request


def _text(nanos: int | None) -> str:
    return "no limit" if nanos is None else f"${format_usd(nanos)}"
