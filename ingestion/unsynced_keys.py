"""Keys known only from usage: ingest keeps a record whose key prefix was never synced.

The gateway reports requests it has already served; if directory sync lags behind a new
key by a second, rejecting those records would lose usage for good. So a record naming an
`apiKeyPrefix` that matches no key of the organization gets a placeholder key: that prefix,
status UNSYNCED, no owner. The record is stored, priced and charged against it like any
other (the organization's budget and wallet see it at once), and a later sync of a key with
that prefix adopts the placeholder, history included (directory/writer.py).

An UNSYNCED key grants nothing: keyAccess answers it exactly like an unknown key (401), so
an ingest token cannot mint a usable key. It can create placeholders, at most
MAX_UNSYNCED_KEYS per organization; past that, records with new unknown prefixes are
rejected as before ("no API key with this prefix").

Placeholders are created in a short transaction of their own, under the organization's row
lock, after checking again which prefixes are still unknown: concurrent batches naming the
same new prefix create one key, not two.
"""

from __future__ import annotations

from collections.abc import Iterable

from tortoise.transactions import in_transaction

from audit.trail import Actor, record_change
from ingestion.submission import Submitted
from ingestion.validation import OrgDirectory
from models.api_key import ApiKey, KeyStatus
from resolvers.scope import Scope
from spend.state import lock_organization

__all__ = ["MAX_UNSYNCED_KEYS", "UNSYNCED_REASON", "create_unsynced_keys", "unknown_prefixes"]

MAX_UNSYNCED_KEYS = 1000
UNSYNCED_REASON = "seen in ingested usage; not synced from the gateway yet"
# api_key.prefix holds at most this many characters.
_MAX_PREFIX_LENGTH = 32


def unknown_prefixes(batch: Iterable[Submitted], directory: OrgDirectory) -> set[str]:
    """Prefixes the batch's records name alone (no apiKeyId) that match no key and could be
    a key's prefix (1 to 32 characters, no NUL, no surrounding spaces)."""
    unknown: set[str] = set()
    for item in batch:
        fields = item.fields
        if not isinstance(fields, dict) or fields.get("apiKeyId") is not None:
            continue
        prefix = fields.get("apiKeyPrefix")
        if isinstance(prefix, str) and prefix not in directory.keys_by_prefix and _storable(prefix):
            unknown.add(prefix)
    return unknown


async def create_unsynced_keys(organization_id: int, prefixes: set[str]) -> int:
    """Create an UNSYNCED key for each prefix still unknown once the organization is locked,
    up to MAX_UNSYNCED_KEYS placeholders in the organization. Returns how many were made."""
    made = 0
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        keys = Scope.for_organization(organization_id).filter(ApiKey)
        known = set(
            await keys.filter(prefix__in=sorted(prefixes))
            .using_db(conn)
            .values_list("prefix", flat=True)
        )
        room = (
            MAX_UNSYNCED_KEYS - await keys.filter(status=KeyStatus.UNSYNCED).using_db(conn).count()
        )
        for prefix in sorted(prefixes - known)[: max(room, 0)]:
            key = await ApiKey.create(
                organization_id=organization_id,
                prefix=prefix,
                label=prefix,
                status=KeyStatus.UNSYNCED,
                status_reason=UNSYNCED_REASON,
                using_db=conn,
            )
            await record_change(
                organization_id,
                Actor.operator(via="ingest"),
                "apiKey.create",
                "ApiKey",
                key.id,
                {"prefix": (None, prefix), "status": (None, KeyStatus.UNSYNCED)},
                connection=conn,
            )
            made += 1
    return made


def _storable(prefix: str) -> bool:
    return (
        0 < len(prefix) <= _MAX_PREFIX_LENGTH and prefix == prefix.strip() and "\x00" not in prefix
    )
