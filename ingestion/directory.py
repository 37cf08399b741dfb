"""Load the organization facts a batch needs: its pricing terms and the keys/members it names.

One query each, whatever the batch size; only keys and members of the token's organization
are loaded, so another tenant's key is "unknown" exactly like a key that does not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from ingestion.submission import Submitted
from ingestion.validation import IdDecoder, KeyInfo, OrgDirectory
from models.database import Params, current_dialect, fetch_all, parse_db_datetime
from pricing.terms import PricingTerms, TermsTimeline
from resolvers.scope import Scope

_MAX_ID = 2**31 - 1


@dataclass(frozen=True, slots=True)
class OrgTerms:
    """How the organization is charged (markup and fee over time) and whether it keeps
    request bodies."""

    organization_id: int
    pricing: TermsTimeline
    log_bodies: bool


async def load_org_terms(organization_id: int, conn: BaseDBAsyncClient | None = None) -> OrgTerms:
    """The organization's pricing terms, every version included (one query, on `conn` when
    given); raises LookupError when it no longer exists."""
    params = Params(current_dialect())
    # Placeholders are positional on SQLite: the join's tenant rule comes first in the text.
    versions_of = " AND ".join(Scope.for_organization(organization_id).where(params, alias="p"))
    rows = await fetch_all(
        "SELECT o.id, o.markup_bps, o.fixed_fee_nanos, o.log_bodies, p.effective_from, "
        "p.markup_bps AS version_markup_bps, p.fixed_fee_nanos AS version_fixed_fee_nanos "
        f"FROM organization AS o LEFT JOIN organization_pricing AS p ON {versions_of} "
        f"WHERE o.id = {params.add(organization_id)}",
        params,
        conn,
    )
    if not rows:
        raise LookupError(f"organization {organization_id} does not exist")
    row = rows[0]
    versions = [
        PricingTerms(
            int(r["version_markup_bps"]),
            int(r["version_fixed_fee_nanos"]),
            parse_db_datetime(r["effective_from"]),
        )
        for r in rows
        if r["effective_from"] is not None
    ]
    original = PricingTerms(int(row["markup_bps"]), int(row["fixed_fee_nanos"]))
    return OrgTerms(
        organization_id=int(row["id"]),
        pricing=TermsTimeline(original, versions),
        log_bodies=bool(row["log_bodies"]),
    )


async def load_directory(
    organization_id: int, batch: Iterable[Submitted], decode_id: IdDecoder
) -> OrgDirectory:
    """The organization's keys and members named anywhere in the batch."""
    key_ids: set[int] = set()
    prefixes: set[str] = set()
    member_ids: set[int] = set()
    for item in batch:
        fields = item.fields
        if not isinstance(fields, dict):
            continue
        raw_key, raw_prefix, raw_member = (
            fields.get("apiKeyId"),
            fields.get("apiKeyPrefix"),
            fields.get("memberId"),
        )
        if isinstance(raw_key, str) and (pk := decode_id(raw_key, "ApiKey")) is not None:
            key_ids.add(pk)
        # A NUL cannot be a query parameter on PostgreSQL; such a prefix matches no key.
        if isinstance(raw_prefix, str) and "\x00" not in raw_prefix:
            prefixes.add(raw_prefix)
        if isinstance(raw_member, str) and (pk := decode_id(raw_member, "Member")) is not None:
            member_ids.add(pk)
    # Ids beyond the 32-bit primary keys cannot exist; sent as parameters they would overflow.
    key_ids = {pk for pk in key_ids if pk <= _MAX_ID}
    member_ids = {pk for pk in member_ids if pk <= _MAX_ID}
    keys = await _load_keys(organization_id, key_ids, prefixes)
    by_id = {key.id: key for key, _ in keys}
    by_prefix: dict[str, list[KeyInfo]] = {}
    for key, prefix in keys:
        by_prefix.setdefault(prefix, []).append(key)
    return OrgDirectory(
        keys_by_id=by_id,
        keys_by_prefix=by_prefix,
        member_ids=frozenset(await _load_member_ids(organization_id, member_ids)),
    )


async def _load_keys(
    organization_id: int, key_ids: set[int], prefixes: set[str]
) -> list[tuple[KeyInfo, str]]:
    if not key_ids and not prefixes:
        return []
    params = Params(current_dialect())
    # Placeholders are positional on SQLite: add the values in the order the SQL reads them.
    organization = " AND ".join(Scope.for_organization(organization_id).where(params))
    wanted = []
    if key_ids:
        wanted.append(f"id IN ({params.add_list(sorted(key_ids))})")
    if prefixes:
        wanted.append(f"prefix IN ({params.add_list(sorted(prefixes))})")
    rows = await fetch_all(
        f"SELECT id, owner_id, prefix FROM api_key WHERE {organization} "
        f"AND ({' OR '.join(wanted)})",
        params,
    )
    return [
        (
            KeyInfo(
                id=int(row["id"]),
                owner_id=None if row["owner_id"] is None else int(row["owner_id"]),
            ),
            str(row["prefix"]),
        )
        for row in rows
    ]


async def _load_member_ids(organization_id: int, member_ids: set[int]) -> set[int]:
    if not member_ids:
        return set()
    params = Params(current_dialect())
    tenant = " AND ".join(Scope.for_organization(organization_id).where(params))
    rows = await fetch_all(
        f"SELECT id FROM member WHERE {tenant} AND id IN ({params.add_list(sorted(member_ids))})",
        params,
    )
    return {int(row["id"]) for row in rows}
