"""Record administrative changes in the audit trail.

Every mutation, CLI command or sync that changes who may spend what (keys, members, roles,
limits, budgets, markup, fees, settings, schedules) calls `record_change` inside the
transaction that makes the change, with the values before and after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from auth.viewer import Viewer
from models.audit import AuditEntry
from models.timestamps import format_instant

# A change stored per field: {"old": ..., "new": ...}.
Changes = Mapping[str, tuple[Any, Any]]
# Most fields one entry may hold: what the API promises for `AuditEntry.changes` (the query
# cost counts it before running). The widest change (organization settings) has 9.
MAX_CHANGED_FIELDS = 20


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change: a member through a token, or the server's operator (both None)."""

    member_id: int | None
    token_id: int | None
    via: str

    @classmethod
    def of(cls, viewer: Viewer, via: str = "graphql") -> Actor:
        return cls(member_id=viewer.member_id, token_id=viewer.token_id, via=via)

    @classmethod
    def operator(cls, via: str = "cli") -> Actor:
        """A change made on the server (a CLI command), not through a token."""
        return cls(member_id=None, token_id=None, via=via)


def json_value(value: Any) -> Any:
    """A value as the trail stores it: money and times as strings, enums by value."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return format_instant(value, value.tzinfo)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_value(item) for item in value]
        return sorted(items) if isinstance(value, set | frozenset) else items
    return value


async def record_change(
    organization_id: int,
    actor: Actor,
    action: str,
    subject_type: str,
    subject_id: int | None,
    changes: Changes,
    *,
    connection: BaseDBAsyncClient | None = None,
) -> AuditEntry | None:
    """Store one change; fields whose old and new values are equal are left out, and a
    change with nothing left is not stored (None). Pass the change's own transaction as
    `connection` so both commit or roll back together."""
    stored = {
        name: {"old": json_value(old), "new": json_value(new)}
        for name, (old, new) in changes.items()
        if json_value(old) != json_value(new)
    }
    if not stored:
        return None
    if len(stored) > MAX_CHANGED_FIELDS:
        raise ValueError(f"an audit entry holds at most {MAX_CHANGED_FIELDS} fields")
    return await AuditEntry.create(
        organization_id=organization_id,
        actor_member_id=actor.member_id,
        actor_token_id=actor.token_id,
        via=actor.via,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        changes=stored,
        using_db=connection,
    )
