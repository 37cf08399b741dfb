"""Apply directory records to one organization's members and keys, inside a transaction.

The caller holds the organization's row lock (so concurrent syncs of one organization run one
after the other and each sees the rows the one before committed) and passes its transaction.
Every change is written with its audit entry in that transaction; a record that would change
nothing writes nothing and answers UNCHANGED, so a resent batch is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.expressions import Q
from tortoise.models import Model

from audit.trail import Actor, json_value, record_change
from auth.tokens import revoke_member_tokens
from directory.records import Absent, KeyRecord, MemberRecord, OwnerRef
from ingestion.validation import InvalidRecord
from models.api_key import ApiKey, KeyStatus
from models.member import Member, Role
from models.timestamps import format_instant
from resolvers.scope import Scope

__all__ = ["Change", "DirectoryWriter"]

_GATEWAY_REASONS = {KeyStatus.BLOCKED: "blocked by the gateway", KeyStatus.REVOKED: "revoked"}


class Change(StrEnum):
    """What a record did."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class DirectoryWriter:
    """The organization's members and keys a set of records names, and the upserts on them.

    `may_set_owner`: only the server's operator (the CLI) may make or unmake Owners; a sync
    from the gateway or the GraphQL mutation may not.
    """

    def __init__(
        self,
        conn: BaseDBAsyncClient,
        organization_id: int,
        actor: Actor,
        *,
        may_set_owner: bool,
    ) -> None:
        self.conn = conn
        self.organization_id = organization_id
        self._scope = Scope.for_organization(organization_id)
        self.actor = actor
        self.may_set_owner = may_set_owner
        self._members: dict[int, Member] = {}
        self._keys: dict[int, ApiKey] = {}

    async def load(self, records: Iterable[MemberRecord | KeyRecord]) -> None:
        """Read the members and keys the records name (by external id, email or prefix)."""
        member_ids: set[str] = set()
        emails: set[str] = set()
        key_ids: set[str] = set()
        prefixes: set[str] = set()
        for record in records:
            if isinstance(record, MemberRecord):
                _add(member_ids, record.external_id)
                _add(emails, record.email)
            else:
                _add(key_ids, record.external_id)
                _add(prefixes, record.prefix)
                if isinstance(record.owner, OwnerRef):
                    _add(member_ids, record.owner.external_id)
                    _add(emails, record.owner.email)
        await self._load_members(member_ids, emails)
        await self._load_keys(key_ids, prefixes)

    def remember_member(self, member: Member) -> None:
        self._members[member.id] = member

    def remember_key(self, key: ApiKey) -> None:
        self._keys[key.id] = key

    async def _load_members(self, external_ids: set[str], emails: set[str]) -> None:
        condition = _any_of(
            Q(external_id__in=sorted(external_ids)) if external_ids else None,
            Q(email__in=sorted(emails)) if emails else None,
        )
        if condition is None:
            return
        query = self._scope.filter(Member).filter(condition)
        for member in await query.using_db(self.conn):
            self._members[member.id] = member

    async def _load_keys(self, external_ids: set[str], prefixes: set[str]) -> None:
        condition = _any_of(
            Q(external_id__in=sorted(external_ids)) if external_ids else None,
            Q(prefix__in=sorted(prefixes)) if prefixes else None,
        )
        if condition is None:
            return
        query = self._scope.filter(ApiKey).filter(condition)
        for key in await query.using_db(self.conn):
            self._keys[key.id] = key

    # Members -------------------------------------------------------------------------------

    def find_member(self, record: MemberRecord) -> Member | None:
        """The member the record is about: by external id, else (not yet linked) by email."""
        if not isinstance(record.external_id, Absent):
            found = self._member_by_external_id(record.external_id)
            if found is not None:
                return found
        if isinstance(record.email, Absent):
            return None
        by_email = self._member_by_email(record.email)
        if by_email is not None and by_email.external_id is None:
            return by_email  # a member created here first: the sync links it
        return None

    async def upsert_member(self, record: MemberRecord) -> tuple[Change, int]:
        """Create or update the member the record names: what happened and the member's id.
        Raises InvalidRecord on a conflict."""
        existing = self.find_member(record)
        if existing is None:
            return await self._create_member(record)
        return await self.update_member(existing, record), existing.id

    async def _create_member(self, record: MemberRecord) -> tuple[Change, int]:
        if isinstance(record.email, Absent):
            raise InvalidRecord("email", "is required for a new member")
        self._email_free(record.email, None, record)
        role = Role.MEMBER if isinstance(record.role, Absent) else record.role
        self._check_role_allowed(None, role)
        removed = record.removed is True
        member = await Member.create(
            organization_id=self.organization_id,
            external_id=None if isinstance(record.external_id, Absent) else record.external_id,
            email=record.email,
            name=record.email.split("@", 1)[0] if isinstance(record.name, Absent) else record.name,
            role=role,
            removed_at=datetime.now(UTC) if removed else None,
            using_db=self.conn,
        )
        self._members[member.id] = member
        await self._audit("member.create", "Member", member.id, _member_changes(None, member))
        return Change.CREATED, member.id

    async def update_member(self, member: Member, record: MemberRecord) -> Change:
        """Apply the record's fields to `member`; UNCHANGED when none differs."""
        with _restored_on_error(member, _MEMBER_COLUMNS.values()):
            return await self._update_member(member, record)

    async def _update_member(self, member: Member, record: MemberRecord) -> Change:
        before = _member_values(member)
        if not isinstance(record.email, Absent) and record.email != member.email:
            self._email_free(record.email, member, record)
            member.email = record.email
        if not isinstance(record.external_id, Absent):
            member.external_id = record.external_id
        if not isinstance(record.name, Absent):
            member.name = record.name
        if not isinstance(record.role, Absent) and record.role is not member.role:
            self._check_role_allowed(member, record.role)
            member.role = record.role
        removed_now: datetime | None = None
        if not isinstance(record.removed, Absent) and record.removed != (
            member.removed_at is not None
        ):
            if record.removed:
                self._check_removable(member)
                member.removed_at = removed_now = datetime.now(UTC)
            else:
                member.removed_at = None
        changes = _diff(before, _member_values(member))
        if not changes:
            return Change.UNCHANGED
        await self._scope.save_fields(self.conn, member, _columns(changes, _MEMBER_COLUMNS))
        if removed_now is not None:
            # A removed person keeps their history, not their access.
            await revoke_member_tokens(self.conn, member, removed_now)
        action = "member.remove" if removed_now is not None else "member.update"
        await self._audit(action, "Member", member.id, changes)
        return Change.UPDATED

    def _member_by_external_id(self, external_id: str) -> Member | None:
        return next((m for m in self._members.values() if m.external_id == external_id), None)

    def _member_by_email(self, email: str) -> Member | None:
        return next((m for m in self._members.values() if m.email == email), None)

    def _email_free(self, email: str, member: Member | None, record: MemberRecord) -> None:
        holder = self._member_by_email(email)
        if holder is not None and holder is not member:
            whose = f" (externalId {holder.external_id!r})" if holder.external_id else ""
            raise InvalidRecord("email", f"is already another member's email{whose}")

    def _check_role_allowed(self, member: Member | None, role: Role) -> None:
        if self.may_set_owner:
            if member is not None and member.role is Role.OWNER and role is not Role.OWNER:
                self._check_not_last_owner(member, "change the role of", "role")
            return
        if role is Role.OWNER:
            raise InvalidRecord(
                "role", "OWNER cannot be given by directory sync; Owners are made in the service"
            )
        if member is not None and member.role is Role.OWNER:
            raise InvalidRecord(
                "role",
                "this member is an Owner here; directory sync does not change an Owner's role",
            )

    def _check_removable(self, member: Member) -> None:
        if member.role is not Role.OWNER:
            return
        if not self.may_set_owner:
            raise InvalidRecord(
                "removed", "this member is an Owner here; directory sync does not remove Owners"
            )
        self._check_not_last_owner(member, "remove", "removed")

    def _check_not_last_owner(self, member: Member, verb: str, field: str) -> None:
        # The CLI names one member at a time and loads the organization's Owners with it.
        others = [
            m
            for m in self._members.values()
            if m.role is Role.OWNER and m.removed_at is None and m is not member
        ]
        if not others:
            raise InvalidRecord(field, f"cannot {verb} the organization's last Owner")

    async def load_owners(self) -> None:
        """Read the organization's Owners too (the last-Owner check needs them)."""
        owners = self._scope.filter(Member).filter(role=Role.OWNER)
        for member in await owners.using_db(self.conn):
            self._members.setdefault(member.id, member)

    # Keys ----------------------------------------------------------------------------------

    def find_key(self, record: KeyRecord) -> ApiKey | None:
        """The key the record is about: by external id, else a key with its prefix that no
        sync has named yet (one known only from usage, or made with the CLI)."""
        if not isinstance(record.external_id, Absent):
            found = next(
                (k for k in self._keys.values() if k.external_id == record.external_id), None
            )
            if found is not None:
                return found
        if isinstance(record.prefix, Absent):
            return None
        unnamed = [
            k for k in self._keys.values() if k.prefix == record.prefix and k.external_id is None
        ]
        if len(unnamed) > 1:
            raise InvalidRecord(
                "prefix",
                f"{len(unnamed)} keys here have this prefix and no externalId; "
                "name one with `aize-analytics key update`",
            )
        return unnamed[0] if unnamed else None

    async def upsert_key(self, record: KeyRecord) -> tuple[Change, int]:
        """Create or update the key the record names: what happened and the key's id.
        Raises InvalidRecord on a conflict."""
        existing = self.find_key(record)
        if existing is None:
            return await self._create_key(record)
        return await self.update_key(existing, record), existing.id

    async def _create_key(self, record: KeyRecord) -> tuple[Change, int]:
        if isinstance(record.prefix, Absent):
            raise InvalidRecord("prefix", "is required for a new key")
        status = KeyStatus.ACTIVE if isinstance(record.status, Absent) else record.status
        reason = self._reason_for(status, record)
        key = ApiKey(
            organization_id=self.organization_id,
            external_id=None if isinstance(record.external_id, Absent) else record.external_id,
            prefix=record.prefix,
            label=record.prefix if isinstance(record.label, Absent) else record.label,
            owner_id=self._owner_id(record.owner) if isinstance(record.owner, OwnerRef) else None,
            allowed_models=None
            if isinstance(record.allowed_models, Absent)
            else record.allowed_models,
            status=status,
            gateway_status=status,
            status_reason=reason,
            revoked_at=self._revoked_at(status, record, None),
        )
        if not isinstance(record.created_at, Absent):
            key.created_at = record.created_at
        await key.save(using_db=self.conn)
        self._keys[key.id] = key
        await self._audit("apiKey.create", "ApiKey", key.id, _key_changes(None, key))
        return Change.CREATED, key.id

    async def update_key(self, key: ApiKey, record: KeyRecord) -> Change:
        """Apply the record's fields to `key`; UNCHANGED when none differs."""
        with _restored_on_error(key, _KEY_COLUMNS.values()):
            return await self._update_key(key, record)

    async def _update_key(self, key: ApiKey, record: KeyRecord) -> Change:
        before = _key_values(key)
        if not isinstance(record.prefix, Absent) and record.prefix != key.prefix:
            raise InvalidRecord(
                "prefix", f"the key's prefix here is {key.prefix!r}; a key's prefix never changes"
            )
        if not isinstance(record.external_id, Absent):
            key.external_id = record.external_id
        if not isinstance(record.label, Absent):
            key.label = record.label
        if isinstance(record.owner, OwnerRef):
            key.owner_id = self._owner_id(record.owner)
        if not isinstance(record.allowed_models, Absent):
            key.allowed_models = record.allowed_models
        if not isinstance(record.created_at, Absent):
            key.created_at = record.created_at
        self._apply_status(key, record)
        changes = _diff(before, _key_values(key))
        if not changes:
            return Change.UNCHANGED
        await self._scope.save_fields(self.conn, key, _columns(changes, _KEY_COLUMNS))
        revoking = changes.get("status", (None, None))[1] == KeyStatus.REVOKED.value
        await self._audit(
            "apiKey.revoke" if revoking else "apiKey.update", "ApiKey", key.id, changes
        )
        return Change.UPDATED

    def _apply_status(self, key: ApiKey, record: KeyRecord) -> None:
        """The gateway's status, without undoing what the service decided (see module doc of
        directory.sync): a resent status changes nothing, ACTIVE lifts only the gateway's own
        block, and a revoked key stays revoked."""
        wanted = record.status
        if isinstance(wanted, Absent):
            if key.status is KeyStatus.UNSYNCED:
                wanted = KeyStatus.ACTIVE  # adopted: the gateway knows the key, so it is live
            elif not isinstance(record.status_reason, Absent):
                raise InvalidRecord("statusReason", "send it with status")
        if isinstance(wanted, KeyStatus):
            if key.status is KeyStatus.REVOKED and wanted is not KeyStatus.REVOKED:
                raise InvalidRecord(
                    "status", "the key is revoked; a revoked key is never reactivated"
                )
            if wanted is not key.gateway_status or key.status is KeyStatus.UNSYNCED:
                target = self._status_after(key, wanted)
                if target is wanted:
                    # The gateway's status holds (a block it sends is its own from now on).
                    renewed = target is not key.status or key.limit_blocked_period_start
                    key.status = target
                    key.limit_blocked_period_start = None
                    if renewed or not isinstance(record.status_reason, Absent):
                        key.status_reason = self._reason_for(target, record)
                key.gateway_status = wanted
            elif key.status is wanted and not isinstance(record.status_reason, Absent):
                key.status_reason = self._reason_for(wanted, record)
        key.revoked_at = self._revoked_at(key.status, record, key.revoked_at)

    @staticmethod
    def _status_after(key: ApiKey, wanted: KeyStatus) -> KeyStatus:
        if wanted is not KeyStatus.ACTIVE:
            return wanted
        if key.status is KeyStatus.BLOCKED and key.gateway_status is not KeyStatus.BLOCKED:
            # Blocked here (its monthly limit, or an administrator): not the gateway's to lift.
            return KeyStatus.BLOCKED
        return KeyStatus.ACTIVE

    @staticmethod
    def _reason_for(status: KeyStatus, record: KeyRecord) -> str | None:
        if status is KeyStatus.ACTIVE:
            return None
        if isinstance(record.status_reason, str):
            return record.status_reason
        return _GATEWAY_REASONS.get(status)

    @staticmethod
    def _revoked_at(
        status: KeyStatus, record: KeyRecord, stored: datetime | None
    ) -> datetime | None:
        given = record.revoked_at
        if status is not KeyStatus.REVOKED:
            if isinstance(given, datetime):
                raise InvalidRecord("revokedAt", "only a REVOKED key has a revocation time")
            return None
        if isinstance(given, datetime):
            return given
        return stored or datetime.now(UTC)

    def _owner_id(self, owner: OwnerRef) -> int | None:
        if owner.is_team:
            return None
        if owner.external_id is not None:
            found = self._member_by_external_id(owner.external_id)
            if found is None:
                raise InvalidRecord(
                    "ownerExternalId",
                    "no member with this externalId in your organization "
                    "(sync the member first, or in the same batch)",
                )
            return found.id
        assert owner.email is not None
        by_email = self._member_by_email(owner.email)
        if by_email is None:
            raise InvalidRecord("ownerEmail", "no member with this email in your organization")
        return by_email.id

    async def _audit(
        self, action: str, subject_type: str, subject_id: int, changes: dict[str, Any]
    ) -> None:
        await record_change(
            self.organization_id,
            self.actor,
            action,
            subject_type,
            subject_id,
            changes,
            connection=self.conn,
        )


# What the audit trail and the no-op check compare, by API name, and the column of each.
_MEMBER_COLUMNS = {
    "externalId": "external_id",
    "email": "email",
    "name": "name",
    "role": "role",
    "removedAt": "removed_at",
}
_KEY_COLUMNS = {
    "externalId": "external_id",
    "prefix": "prefix",
    "label": "label",
    "ownerId": "owner_id",
    "allowedModels": "allowed_models",
    "status": "status",
    "gatewayStatus": "gateway_status",
    "statusReason": "status_reason",
    "limitBlockedPeriodStart": "limit_blocked_period_start",
    "createdAt": "created_at",
    "revokedAt": "revoked_at",
}


def _member_values(member: Member) -> dict[str, Any]:
    return {name: _comparable(getattr(member, column)) for name, column in _MEMBER_COLUMNS.items()}


def _key_values(key: ApiKey) -> dict[str, Any]:
    return {name: _comparable(getattr(key, column)) for name, column in _KEY_COLUMNS.items()}


def _comparable(value: object) -> Any:
    if isinstance(value, datetime):
        return format_instant(value)
    return json_value(value)


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {name: (before[name], after[name]) for name in after if before[name] != after[name]}


def _member_changes(_: None, member: Member) -> dict[str, tuple[Any, Any]]:
    return {name: (None, value) for name, value in _member_values(member).items()}


def _key_changes(_: None, key: ApiKey) -> dict[str, tuple[Any, Any]]:
    return {name: (None, value) for name, value in _key_values(key).items()}


def _columns(changes: dict[str, Any], columns: dict[str, str]) -> list[str]:
    return [columns[name] for name in changes]


@contextmanager
def _restored_on_error(row: Model, columns: Iterable[str]) -> Iterator[None]:
    """Put the row's attributes back when the record is rejected half way: the writer keeps
    its rows for the rest of the batch, which must not see (or save) a rejected change."""
    saved = {column: getattr(row, column) for column in columns}
    try:
        yield
    except InvalidRecord:
        for column, value in saved.items():
            setattr(row, column, value)
        raise


def _add(values: set[str], value: str | Absent | None) -> None:
    if isinstance(value, str):
        values.add(value)


def _any_of(*conditions: Q | None) -> Q | None:
    present: Sequence[Q] = [c for c in conditions if c is not None]
    if not present:
        return None
    combined = present[0]
    for condition in present[1:]:
        combined = combined | condition
    return combined
