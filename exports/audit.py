"""Audit trail export rows, streamed newest first in keyset chunks through the scope.

The rows are exactly those `Organization.auditTrail` pages through for the same filter, in
the same order (id DESC), read `CHUNK_ROWS` at a time with the pagination helper's cursor,
so memory holds one chunk whatever the trail's length. Actor names, emails and token
prefixes come from maps loaded once per export.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from exports.formats import Column, ColumnKind, Row, text
from models.access_token import AccessToken
from models.global_ids import encode_global_id
from models.timestamps import format_instant
from resolvers.audit_trail import AuditFilter, AuditRecord, audit_page
from resolvers.pagination import KeysetCursor, PageRequest
from resolvers.scope import Scope

CHUNK_ROWS = 5_000

AUDIT_COLUMNS: tuple[Column, ...] = (
    Column("id"),
    Column("createdAt"),
    Column("actorMemberId"),
    text("actorName"),
    text("actorEmail"),
    Column("tokenPrefix"),
    Column("via"),
    Column("action"),
    Column("subjectType"),
    Column("subjectId"),
    Column("changes", ColumnKind.JSON),
)


@dataclass(frozen=True, slots=True)
class AuditExport:
    """An export ready to stream: its columns, and its rows chunk by chunk."""

    columns: tuple[Column, ...]
    chunks: AsyncIterator[list[Row]]


async def audit_export(
    scope: Scope, audit_filter: AuditFilter, *, chunk_rows: int = CHUNK_ROWS
) -> AuditExport:
    """The organization's audit entries matching the filter, newest first, as export rows
    (times RFC 3339 UTC with 6 fractional digits, ids global as in the API, `changes` as
    {field: {old, new}}). Raises ForbiddenError (a Member) or BadInputError (a bad filter)
    at once; entries are read as the chunks are iterated."""
    audit_filter.checked()
    people = {
        member_id: (name, email)
        for member_id, name, email in await scope.members().values_list("id", "name", "email")
    }
    prefixes = {
        int(token_id): str(prefix)
        for token_id, prefix in await scope.filter(AccessToken).values_list("id", "prefix")
    }
    return AuditExport(AUDIT_COLUMNS, _chunks(scope, audit_filter, chunk_rows, people, prefixes))


async def _chunks(
    scope: Scope,
    audit_filter: AuditFilter,
    chunk_rows: int,
    people: dict[int, tuple[str, str]],
    prefixes: dict[int, str],
) -> AsyncIterator[list[Row]]:
    after: KeysetCursor | None = None
    while True:
        page = await audit_page(scope, audit_filter, PageRequest(size=chunk_rows, after=after))
        if not page.rows:
            return
        yield [_row(record, people, prefixes) for record in page.rows]
        if not page.has_next_page:
            return
        after = page.rows[-1].position


def _row(record: AuditRecord, people: dict[int, tuple[str, str]], prefixes: dict[int, str]) -> Row:
    member_id = record.actor_member_id
    # A removed member keeps their id in the trail, without a name or email.
    person = people.get(member_id) if member_id is not None else None
    name, email = person if person is not None else (None, None)
    token = record.actor_token_id
    return [
        encode_global_id("AuditEntry", record.id),
        format_instant(record.created_at),
        None if member_id is None else encode_global_id("Member", member_id),
        name,
        email,
        None if token is None else prefixes.get(token),
        record.via,
        record.action,
        record.subject_type,
        None
        if record.subject_id is None
        else encode_global_id(record.subject_type, record.subject_id),
        record.changes,
    ]
