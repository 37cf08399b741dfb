"""Directory sync: the gateway's members and API keys, upserted by the gateway's own ids.

Every path (POST /directory/bulk, the syncDirectory mutation, the CLI's `key`/`member`
commands) comes here. A batch runs in ONE transaction that first locks the organization row,
so concurrent copies of a batch run one after the other: the second finds every row the
first wrote and answers UNCHANGED for each (unique (organization, external_id) constraints
stand behind it). Within a batch, members are applied before keys whatever their order, so
a key may name an owner created in the same batch.

What sync owns and what it does not:
- A member's email, name, role (MEMBER or ADMIN: Owners are the service's own business,
  never made, demoted or removed by sync) and removal.
- A key's prefix (fixed once stored), label, owner, allowed models, createdAt, and the
  gateway's status with its reason and revocation time. A status the gateway resends
  changes nothing; ACTIVE lifts only a block the gateway itself sent, never one the
  service set (a monthly limit, an administrator); a revoked key stays revoked.
- Not: monthly limits, budgets, markup (spend control is the service's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from audit.trail import Actor
from directory.records import Absent, KeyRecord, MemberRecord, parse_record
from directory.writer import Change, DirectoryWriter
from ingestion.retry import with_rollback_retry
from ingestion.submission import Rejection, Submitted
from ingestion.validation import InvalidRecord
from models.api_key import ApiKey
from models.member import Member
from resolvers.scope import Scope
from spend.state import lock_organization

__all__ = ["SyncOutcome", "change_key", "change_member", "sync_directory", "upsert_record"]

T = TypeVar("T")

# A unique violation means a writer that does not take the organization lock (a CLI
# command) slipped a row in between our read and our write: run the batch again on fresh rows.
_CONFLICT_ATTEMPTS = 3


@dataclass(slots=True)
class SyncOutcome:
    """A batch's verdict, returned only after commit: counts per outcome, and rejections."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def count(self, change: Change) -> None:
        if change is Change.CREATED:
            self.created += 1
        elif change is Change.UPDATED:
            self.updated += 1
        else:
            self.unchanged += 1


@dataclass(frozen=True, slots=True)
class _Parsed:
    item: Submitted
    record: MemberRecord | KeyRecord


async def sync_directory(
    organization_id: int,
    batch: Sequence[Submitted],
    actor: Actor,
    *,
    rejected: Sequence[Rejection] = (),
    may_set_owner: bool = False,
) -> SyncOutcome:
    """Upsert the batch's members and keys for the organization, in one transaction.

    `rejected` carries lines the caller could not parse; they are reported with the rest,
    sorted by position. Returns the counts of created, updated and unchanged records and
    every rejection (the good records of the batch are stored).
    """
    early = list(rejected)
    parsed = _parse(batch, early)

    async def once() -> SyncOutcome:
        outcome = SyncOutcome(rejected=list(early))
        async with in_transaction() as conn:
            await lock_organization(conn, organization_id)
            writer = DirectoryWriter(conn, organization_id, actor, may_set_owner=may_set_owner)
            await writer.load(p.record for p in parsed)
            members = [p for p in parsed if isinstance(p.record, MemberRecord)]
            keys = [p for p in parsed if isinstance(p.record, KeyRecord)]
            for entry in (*members, *keys):
                try:
                    if isinstance(entry.record, MemberRecord):
                        change, _ = await writer.upsert_member(entry.record)
                    else:
                        change, _ = await writer.upsert_key(entry.record)
                except InvalidRecord as exc:
                    outcome.rejected.append(_rejection(entry.item, exc))
                else:
                    outcome.count(change)
        outcome.rejected.sort(key=lambda r: r.position)
        return outcome

    return await _retried(once)


async def upsert_record(
    organization_id: int, record: MemberRecord | KeyRecord, actor: Actor
) -> tuple[Change, int]:
    """Upsert one record (the operator's CLI `add`: may make Owners): what happened and the
    row's id. Raises InvalidRecord when the change is refused."""

    async def once() -> tuple[Change, int]:
        async with in_transaction() as conn:
            await lock_organization(conn, organization_id)
            writer = DirectoryWriter(conn, organization_id, actor, may_set_owner=True)
            await writer.load([record])
            if isinstance(record, MemberRecord):
                return await writer.upsert_member(record)
            return await writer.upsert_key(record)

    return await _retried(once)


async def change_member(
    organization_id: int, member_id: int, record: MemberRecord, actor: Actor
) -> Change:
    """Apply `record` to the member with this id (the operator's CLI: may make Owners).
    Raises LookupError when the organization has no such member, InvalidRecord when the
    change is refused."""

    async def once() -> Change:
        async with in_transaction() as conn:
            await lock_organization(conn, organization_id)
            writer = DirectoryWriter(conn, organization_id, actor, may_set_owner=True)
            await writer.load([record])
            await writer.load_owners()
            member = (
                await Scope.for_organization(organization_id)
                .filter(Member)
                .filter(id=member_id)
                .using_db(conn)
                .first()
            )
            if member is None:
                raise LookupError(f"no member {member_id}")
            writer.remember_member(member)
            return await writer.update_member(member, record)

    return await _retried(once)


async def change_key(
    organization_id: int, api_key_id: int, record: KeyRecord, actor: Actor
) -> Change:
    """Apply `record` to the key with this id (the operator's CLI). Raises LookupError when
    the organization has no such key, InvalidRecord when the change is refused."""

    async def once() -> Change:
        async with in_transaction() as conn:
            await lock_organization(conn, organization_id)
            writer = DirectoryWriter(conn, organization_id, actor, may_set_owner=True)
            await writer.load([record])
            key = (
                await Scope.for_organization(organization_id)
                .filter(ApiKey)
                .filter(id=api_key_id)
                .using_db(conn)
                .first()
            )
            if key is None:
                raise LookupError(f"no API key {api_key_id}")
            writer.remember_key(key)
            return await writer.update_key(key, record)

    return await _retried(once)


def _parse(batch: Sequence[Submitted], rejected: list[Rejection]) -> list[_Parsed]:
    """The batch's records that parse; the others (and repeated external ids) rejected."""
    parsed: list[_Parsed] = []
    first_at: dict[tuple[str, str], int] = {}
    for item in batch:
        try:
            record = parse_record(item.fields)
        except InvalidRecord as exc:
            rejected.append(_rejection(item, exc))
            continue
        kind = "member" if isinstance(record, MemberRecord) else "apiKey"
        assert not isinstance(record.external_id, Absent)  # parse_record requires it
        seen = first_at.setdefault((kind, record.external_id), item.position)
        if seen != item.position:
            rejected.append(
                Rejection(
                    item.position,
                    item.line,
                    "externalId",
                    f"repeats the {kind} at position {seen} of this batch; "
                    "send each externalId once per batch",
                )
            )
            continue
        parsed.append(_Parsed(item, record))
    return parsed


def _rejection(item: Submitted, exc: InvalidRecord) -> Rejection:
    return Rejection(item.position, item.line, exc.field, exc.reason)


async def _retried(operation: Callable[[], Awaitable[T]]) -> T:
    for _ in range(_CONFLICT_ATTEMPTS - 1):
        try:
            return await with_rollback_retry(operation, "directory sync")
        except IntegrityError:
            continue
    return await with_rollback_retry(operation, "directory sync")
