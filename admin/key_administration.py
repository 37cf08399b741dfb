"""Updating an API key's label, owner and allowed models (Admins and Owners).

One transaction per change: the organization row is locked first (the order every spend
path takes its locks in), then the key row (FOR NO KEY UPDATE on PostgreSQL), so two
administrators changing one key at once are applied one after the other, and each audit
entry holds the values its own change replaced. Another tenant's key or member answers
exactly like a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.transactions import in_transaction

from audit.trail import Actor, record_change
from models.api_key import ApiKey
from models.member import Member
from resolvers.errors import BadInputError, NotFoundError
from resolvers.model_aliases import clean_model_aliases
from resolvers.scope import Scope
from resolvers.unchanged import UNCHANGED, Unchanged
from spend.state import lock_organization

__all__ = ["ApiKeyChanges", "update_api_key"]

_LABEL_LENGTH = 200


@dataclass(frozen=True, slots=True)
class ApiKeyChanges:
    """What to change on a key; UNCHANGED fields keep their value. `owner_member_id` None
    makes it a team key; `allowed_models` None allows every model."""

    label: str | Unchanged = UNCHANGED
    owner_member_id: int | Unchanged | None = UNCHANGED
    allowed_models: list[str] | Unchanged | None = UNCHANGED


async def update_api_key(
    organization_id: int, actor: Actor, api_key_id: int, changes: ApiKeyChanges
) -> ApiKey:
    """Apply `changes` to the organization's key and record them in the audit trail
    ("apiKey.update"), both in one transaction. Returns the updated key; NotFoundError for a
    key or owner outside the organization (or a removed owner), BadInputError naming the
    field for an unusable value."""
    label = _clean_label(changes.label)
    models = changes.allowed_models
    if models is not UNCHANGED and models is not None:
        models = clean_model_aliases(models, "allowedModels")
    async with in_transaction() as conn:
        await lock_organization(conn, organization_id)
        key = await (
            Scope.for_organization(organization_id)
            .filter(ApiKey)
            .filter(id=api_key_id)
            .using_db(conn)
            .select_for_update(no_key=True)
            .first()
        )
        if key is None:
            raise NotFoundError("id: no such API key")
        owner = changes.owner_member_id
        if owner is not UNCHANGED and owner is not None:
            found = await (
                Scope.for_organization(organization_id)
                .filter(Member)
                .filter(id=owner, removed_at__isnull=True)
                .using_db(conn)
                .exists()
            )
            if not found:
                raise NotFoundError("ownerId: no such member")
        before = (key.label, key.owner_id, key.allowed_models)
        if label is not UNCHANGED:
            key.label = label
        if owner is not UNCHANGED:
            key.owner_id = owner
        if models is not UNCHANGED:
            key.allowed_models = models
        await Scope.for_organization(organization_id).save_fields(
            conn, key, ["label", "owner_id", "allowed_models"]
        )
        await record_change(
            organization_id,
            actor,
            "apiKey.update",
            "ApiKey",
            key.id,
            {
                "label": (before[0], key.label),
                "ownerMemberId": (before[1], key.owner_id),
                "allowedModels": (before[2], key.allowed_models),
            },
            connection=conn,
        )
    return key


def _clean_label(label: str | Unchanged) -> str | Unchanged:
    if label is UNCHANGED:
        return label
    cleaned = label.strip()
    if not cleaned or len(cleaned) > _LABEL_LENGTH:
        raise BadInputError(f"label: 1 to {_LABEL_LENGTH} characters")
    return cleaned
