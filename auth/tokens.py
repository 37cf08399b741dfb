"""Issue, verify and revoke bearer tokens. Only a SHA-256 hash and a short prefix are stored."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from auth.viewer import Viewer
from models.access_token import SERVICE_SCOPES, AccessToken, AccessTokenLookup, Scope
from models.database import Params, current_dialect, fetch_rows, model_columns, model_from_row
from models.member import Member
from models.organization import Organization

TOKEN_PREFIX = "aize_"
_TOKEN_RE = re.compile(r"^aize_[A-Za-z0-9_-]{40}$")
_SHOWN_PREFIX_LENGTH = 12
# Writing last_used_at on every request would turn reads into writes; once a minute is plenty.
_LAST_USED_RESOLUTION_SECONDS = 60


class TokenError(Exception):
    """Authentication failed; `reason` is safe to show the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    record: AccessToken


def hash_token(token: str) -> str:
    """SHA-256 hex digest of the whole token (what is stored and looked up)."""
    return hashlib.sha256(token.encode()).hexdigest()


def default_scopes(member: Member | None) -> list[Scope]:
    """Scopes a new token gets when none are asked for: everything the role may use."""
    if member is None:
        return [Scope.INGEST]
    if member.role.sees_team:
        return [Scope.READ, Scope.EXPORT, Scope.ADMIN]
    return [Scope.READ]


async def issue_token(
    organization_id: int,
    member: Member | None,
    name: str,
    scopes: list[Scope] | None = None,
) -> IssuedToken:
    """Create a token; the plain token is returned once and never stored."""
    chosen = scopes if scopes is not None else default_scopes(member)
    if member is None and not (chosen and SERVICE_SCOPES.issuperset(chosen)):
        raise ValueError("a token without a member can only have the ingest and directory scopes")
    if member is not None and Scope.DIRECTORY in chosen:
        raise ValueError("the directory scope is for service tokens (no member)")
    if member is not None and member.organization_id != organization_id:
        raise ValueError("the member belongs to another organization")
    if member is not None and member.removed_at is not None:
        raise ValueError("the member was removed from the organization")
    token = TOKEN_PREFIX + secrets.token_urlsafe(30)
    digest = hash_token(token)
    # The hash's organization first (access_token's hash references it on PostgreSQL), in
    # the token's transaction: a token is never stored without its lookup row.
    async with in_transaction() as conn:
        await AccessTokenLookup.create(
            token_hash=digest, organization_id=organization_id, using_db=conn
        )
        record = await AccessToken.create(
            organization_id=organization_id,
            member=member,
            name=name,
            prefix=token[:_SHOWN_PREFIX_LENGTH],
            token_hash=digest,
            scopes=sorted(s.value for s in set(chosen)),
            using_db=conn,
        )
    return IssuedToken(token=token, record=record)


def bearer_token(authorization: str | None) -> str:
    """The token from an Authorization header, or TokenError naming what is wrong."""
    if not authorization:
        raise TokenError("missing bearer token: send 'Authorization: Bearer <token>'")
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise TokenError("malformed Authorization header: expected 'Bearer <token>'")
    token = value.strip()
    if not _TOKEN_RE.match(token):
        raise TokenError("malformed token: expected 'aize_' followed by 40 characters")
    return token


async def authenticate(authorization: str | None) -> Viewer:
    """Resolve the caller from an Authorization header; raises TokenError (for a 401)."""
    token = bearer_token(authorization)
    digest = hash_token(token)
    found = await _token_with_member_and_organization(digest)
    # The lookup is by hash; comparing again in constant time keeps timing flat anyway.
    if found is None or not hmac.compare_digest(found[0].token_hash, digest):
        raise TokenError("unknown token")
    record, member, organization = found
    # A removed member's tokens are revoked with them; the check holds for any issued later.
    if record.revoked_at is not None or (member is not None and member.removed_at is not None):
        raise TokenError("revoked token")
    now = datetime.now(UTC)
    last_used = record.last_used_at
    if last_used is None or (now - last_used).total_seconds() > _LAST_USED_RESOLUTION_SECONDS:
        # With the organization, a sharded database updates one shard (docs/SCALING.md).
        await AccessToken.filter(id=record.id, organization_id=record.organization_id).update(
            last_used_at=now
        )
    return Viewer(
        token_id=record.id,
        organization_id=record.organization_id,
        member_id=member.id if member else None,
        role=member.role if member else None,
        scopes=record.scope_set(),
        organization=organization,
    )


_JOINED = (("t", AccessToken), ("m", Member), ("o", Organization))


@cache
def _token_sql() -> str:
    """The token, its member and its organization in one statement, each column prefixed by
    its table's alias (built once: the ORM's query builder cost ~1 ms of CPU per request).
    Every table is reached through the organization, which the lookup gave: in Citus the
    statement runs on that organization's shard (docs/SCALING.md)."""
    columns = ", ".join(
        f'{alias}."{column}" AS "{alias}_{column}"'
        for alias, model in _JOINED
        for column in model_columns(model)
    )
    return (
        f"SELECT {columns} FROM access_token AS t "
        "JOIN organization AS o ON o.id = t.organization_id "
        "LEFT JOIN member AS m ON m.organization_id = t.organization_id AND m.id = t.member_id "
        "WHERE t.organization_id = {organization_id} AND t.token_hash = {digest}"
    )


_LOOKUP_SQL = "SELECT organization_id FROM access_token_lookup WHERE token_hash = {digest}"


async def _token_with_member_and_organization(
    digest: str,
) -> tuple[AccessToken, Member | None, Organization] | None:
    """Two indexed reads: the hash's organization (the lookup table, a reference table in
    Citus), then the token, its member and its organization filtered by it."""
    params = Params(current_dialect())
    found = await fetch_rows(_LOOKUP_SQL.format(digest=params.add(digest)), params)
    if not found:
        return None
    params = Params(current_dialect())
    sql = _token_sql().format(
        organization_id=params.add(found[0]["organization_id"]), digest=params.add(digest)
    )
    rows = await fetch_rows(sql, params)
    if not rows:  # its token was deleted (a member's or organization's hard delete)
        return None
    row = rows[0]
    member = model_from_row(Member, row, "m_") if row["t_member_id"] is not None else None
    return model_from_row(AccessToken, row, "t_"), member, model_from_row(Organization, row, "o_")


async def revoke_member_tokens(
    conn: BaseDBAsyncClient, member: Member, revoked_at: datetime
) -> int:
    """Revoke every live token of a removed member, in the caller's transaction `conn`;
    returns how many were live. (A removed member's later tokens are refused too.) The
    token rows stay (revoked_at), and so do their lookup rows."""
    return await (
        AccessToken.filter(
            organization_id=member.organization_id, member_id=member.id, revoked_at__isnull=True
        )
        .using_db(conn)
        .update(revoked_at=revoked_at)
    )


async def revoke_token(prefix_or_id: str, organization_id: int | None = None) -> AccessToken:
    """Revoke by shown prefix or numeric id; effective on the next request."""
    query = AccessToken.filter(revoked_at__isnull=True)
    if organization_id is not None:
        query = query.filter(organization_id=organization_id)
    if prefix_or_id.isdigit():
        matches = await query.filter(id=int(prefix_or_id))
    else:
        matches = await query.filter(prefix=prefix_or_id[:_SHOWN_PREFIX_LENGTH])
    if not matches:
        raise ValueError(f"no active token matches {prefix_or_id!r}")
    if len(matches) > 1:
        raise ValueError(f"{prefix_or_id!r} matches {len(matches)} tokens; use the token id")
    record = matches[0]
    record.revoked_at = datetime.now(UTC)
    # By id and organization: in Citus the update runs on the token's shard.
    await AccessToken.filter(id=record.id, organization_id=record.organization_id).update(
        revoked_at=record.revoked_at
    )
    return record
