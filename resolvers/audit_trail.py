"""Reading the audit trail: filtered pages, newest first by id, and what each actor was.

Every read starts from `Scope.audit_entries()` (the organization's entries, Admins and Owners
only). Pages are keyset pages of the one pagination helper; like the wallet ledger, the
cursor's id alone orders them (ids follow the order the changes committed in closely enough,
and they never repeat or skip a row when new entries arrive).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.queryset import QuerySet

from models.access_token import AccessToken
from models.audit import AuditEntry
from resolvers.errors import BadInputError
from resolvers.pagination import KeysetCursor, Page, PageRequest, build_page
from resolvers.scope import Scope

__all__ = [
    "MAX_FILTER_ITEMS",
    "AuditFilter",
    "AuditRecord",
    "audit_page",
    "audit_record_by_id",
    "count_audit_entries",
    "token_prefixes",
]

MAX_FILTER_ITEMS = 100
_SUBJECT_TYPE_LENGTH = 32
_ACTION_LENGTH = 64
# Audit entry ids are BIGINT.
_MAX_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which entries: created in [start, end) (aware), with one of `actions`, by one of
    `actor_member_ids`, about `subject_type` (and `subject_id`). None: no restriction."""

    start: datetime | None = None
    end: datetime | None = None
    actions: tuple[str, ...] | None = None
    actor_member_ids: tuple[int, ...] | None = None
    subject_type: str | None = None
    subject_id: int | None = None

    def checked(self) -> AuditFilter:
        """The filter if it is well formed; BadInputError naming the field otherwise."""
        for name, instant in (("from", self.start), ("to", self.end)):
            if instant is not None and instant.tzinfo is None:
                raise BadInputError(f"filter.{name}: give a UTC offset (e.g. 2026-05-01T00:00Z)")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise BadInputError("filter.to: must be after filter.from")
        for name, items in (("actions", self.actions), ("actorMemberIds", self.actor_member_ids)):
            if items is not None and len(items) > MAX_FILTER_ITEMS:
                raise BadInputError(f"filter.{name}: at most {MAX_FILTER_ITEMS} items")
        if self.actions is not None and any(len(a) > _ACTION_LENGTH for a in self.actions):
            raise BadInputError(f"filter.actions: at most {_ACTION_LENGTH} characters each")
        if self.subject_type is not None and len(self.subject_type) > _SUBJECT_TYPE_LENGTH:
            raise BadInputError(f"filter.subjectType: at most {_SUBJECT_TYPE_LENGTH} characters")
        return self


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry as read: `changes` is {field: {"old": value, "new": value}}."""

    id: int
    created_at: datetime
    actor_member_id: int | None
    actor_token_id: int | None
    via: str
    action: str
    subject_type: str
    subject_id: int | None
    changes: dict[str, Any]

    @property
    def position(self) -> KeysetCursor:
        return KeysetCursor(timestamp=self.created_at, id=self.id)


def _query(scope: Scope, audit_filter: AuditFilter) -> QuerySet[AuditEntry]:
    query = scope.audit_entries()
    wanted = audit_filter.checked()
    if wanted.start is not None:
        query = query.filter(created_at__gte=wanted.start)
    if wanted.end is not None:
        query = query.filter(created_at__lt=wanted.end)
    if wanted.actions is not None:
        query = query.filter(action__in=list(wanted.actions))
    if wanted.actor_member_ids is not None:
        query = query.filter(actor_member_id__in=list(wanted.actor_member_ids))
    if wanted.subject_type is not None:
        query = query.filter(subject_type=wanted.subject_type)
    if wanted.subject_id is not None:
        query = query.filter(subject_id=wanted.subject_id)
    return query


async def audit_page(
    scope: Scope, audit_filter: AuditFilter, request: PageRequest
) -> Page[AuditRecord]:
    """One page of matching entries, newest first (by id). ForbiddenError for a Member."""
    query = _query(scope, audit_filter)
    if request.after is not None:
        query = query.filter(id__lt=request.after.id)
    rows = await query.order_by("-id").limit(request.size + 1)
    return build_page([_record(row) for row in rows], request, lambda r: r.position)


async def count_audit_entries(scope: Scope, audit_filter: AuditFilter) -> int:
    """How many entries match (all pages)."""
    return await _query(scope, audit_filter).count()


async def audit_record_by_id(scope: Scope, entry_id: int) -> AuditRecord | None:
    """The entry; None when missing, another organization's, or the viewer is a Member."""
    if not scope.sees_team or not 1 <= entry_id <= _MAX_ID:
        return None
    row = await scope.audit_entries().filter(id=entry_id).first()
    return None if row is None else _record(row)


async def token_prefixes(scope: Scope, records: Sequence[AuditRecord]) -> dict[int, str]:
    """token id -> the token's visible prefix, for the tokens that made `records` (one query;
    a deleted token is missing)."""
    ids = {r.actor_token_id for r in records if r.actor_token_id is not None}
    if not ids:
        return {}
    rows = await scope.filter(AccessToken).filter(id__in=sorted(ids)).values_list("id", "prefix")
    return {int(token_id): str(prefix) for token_id, prefix in rows}


def _record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        created_at=row.created_at,
        actor_member_id=row.actor_member_id,
        actor_token_id=row.actor_token_id,
        via=row.via,
        action=row.action,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        changes=dict(row.changes),
    )
