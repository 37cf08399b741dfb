"""Directory records as the gateway sends them, checked field by field.

Two record types, told apart by `type`: `"member"` and `"apiKey"`. Pure: a bad record raises
`InvalidRecord(field, reason)` naming the first problem, like ingest validation.

A field left out leaves the stored value as it is (its default for a new row); `null` clears
a field that may be empty (a key's owner, allowed models, status reason, revocation time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any, Final, TypeVar

from ingestion.validation import InvalidRecord
from models.api_key import KeyStatus
from models.member import Role

__all__ = [
    "ABSENT",
    "SYNCED_STATUSES",
    "Absent",
    "KeyRecord",
    "MemberRecord",
    "parse_record",
]

T = TypeVar("T")

MAX_EXTERNAL_ID_LENGTH = 200
MAX_PREFIX_LENGTH = 32
MAX_LABEL_LENGTH = 200
MAX_REASON_LENGTH = 200
MAX_NAME_LENGTH = 200
MAX_EMAIL_LENGTH = 320
MAX_ALLOWED_MODELS = 200
MAX_MODEL_LENGTH = 100

# Statuses the gateway may send; UNSYNCED is ingest's, for keys sync has not named yet.
SYNCED_STATUSES = (KeyStatus.ACTIVE, KeyStatus.BLOCKED, KeyStatus.REVOKED)
_ROLES = tuple(Role)

_MEMBER_FIELDS = frozenset({"type", "externalId", "email", "name", "role", "removed"})
_KEY_FIELDS = frozenset(
    {
        "type",
        "externalId",
        "prefix",
        "label",
        "ownerExternalId",
        "ownerEmail",
        "allowedModels",
        "status",
        "statusReason",
        "createdAt",
        "revokedAt",
    }
)


class Absent(Enum):
    """A field the record left out (as opposed to null)."""

    ABSENT = "ABSENT"


ABSENT: Final = Absent.ABSENT


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A person as the gateway knows them. `external_id` is ABSENT only for CLI commands."""

    external_id: str | Absent
    email: str | Absent = ABSENT
    name: str | Absent = ABSENT
    role: Role | Absent = ABSENT
    removed: bool | Absent = ABSENT


@dataclass(frozen=True, slots=True)
class OwnerRef:
    """A key's owner: a member by the gateway's id or by email; both None for a team key."""

    external_id: str | None = None
    email: str | None = None

    @property
    def is_team(self) -> bool:
        return self.external_id is None and self.email is None


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A gateway API key; times are aware UTC. `external_id` is ABSENT only for the CLI."""

    external_id: str | Absent
    prefix: str | Absent = ABSENT
    label: str | Absent = ABSENT
    owner: OwnerRef | Absent = ABSENT
    allowed_models: list[str] | Absent | None = ABSENT
    status: KeyStatus | Absent = ABSENT
    status_reason: str | Absent | None = ABSENT
    created_at: datetime | Absent = ABSENT
    revoked_at: datetime | Absent | None = ABSENT


def parse_record(fields: object) -> MemberRecord | KeyRecord:
    """The record as a MemberRecord or KeyRecord; raises InvalidRecord naming the first bad
    field (camelCase), or None as the field when the record is not an object."""
    if not isinstance(fields, dict):
        raise InvalidRecord(None, "expected a JSON object with a type, apiKey or member")
    kind = fields.get("type")
    if kind == "member":
        _only(fields, _MEMBER_FIELDS)
        return MemberRecord(
            external_id=_external_id(fields),
            email=_optional(fields, "email", _email),
            name=_optional(fields, "name", lambda v: _text(v, "name", MAX_NAME_LENGTH)),
            role=_optional(fields, "role", _role),
            removed=_optional(fields, "removed", _boolean),
        )
    if kind == "apiKey":
        _only(fields, _KEY_FIELDS)
        return KeyRecord(
            external_id=_external_id(fields),
            prefix=_optional(fields, "prefix", lambda v: _text(v, "prefix", MAX_PREFIX_LENGTH)),
            label=_optional(fields, "label", lambda v: _text(v, "label", MAX_LABEL_LENGTH)),
            owner=_owner(fields),
            allowed_models=_nullable(fields, "allowedModels", _models),
            status=_optional(fields, "status", _status),
            status_reason=_nullable(
                fields, "statusReason", lambda v: _text(v, "statusReason", MAX_REASON_LENGTH)
            ),
            created_at=_optional(fields, "createdAt", lambda v: _instant(v, "createdAt")),
            revoked_at=_nullable(fields, "revokedAt", lambda v: _instant(v, "revokedAt")),
        )
    if kind is None:
        raise InvalidRecord("type", 'is required: "apiKey" or "member"')
    raise InvalidRecord("type", f'must be "apiKey" or "member", got {str(kind)[:40]!r}')


def _only(fields: dict[str, Any], accepted: frozenset[str]) -> None:
    unknown = fields.keys() - accepted
    if unknown:
        name = min(unknown)
        raise InvalidRecord(
            name,
            f"unknown field {name[:60]!r} for this type; accepted: {', '.join(sorted(accepted))}",
        )


def _external_id(fields: dict[str, Any]) -> str:
    if fields.get("externalId") is None:
        raise InvalidRecord("externalId", "is required: the gateway's own id for this record")
    return _text(fields["externalId"], "externalId", MAX_EXTERNAL_ID_LENGTH)


def _optional(fields: dict[str, Any], name: str, parse: Any) -> Any:
    """A field that may be left out but not null."""
    if name not in fields:
        return ABSENT
    if fields[name] is None:
        raise InvalidRecord(name, "must not be null (leave it out to keep the stored value)")
    return parse(fields[name])


def _nullable(fields: dict[str, Any], name: str, parse: Any) -> Any:
    """A field that may be left out (unchanged) or null (cleared)."""
    if name not in fields:
        return ABSENT
    return None if fields[name] is None else parse(fields[name])


def _text(value: object, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRecord(name, "must be a non-empty string")
    text = value.strip()
    if len(text) > limit:
        raise InvalidRecord(name, f"must be at most {limit} characters, got {len(text)}")
    if "\x00" in text:
        raise InvalidRecord(name, "must not contain NUL characters")
    return text


def _email(value: object) -> str:
    email = _text(value, "email", MAX_EMAIL_LENGTH)
    local, at, domain = email.partition("@")
    if not at or not local or not domain or any(c.isspace() for c in email):
        raise InvalidRecord("email", f"{email[:60]!r} is not an email address")
    return email


def _role(value: object) -> Role:
    if isinstance(value, str) and value in Role.__members__:
        return Role(value)
    names = ", ".join(r.value for r in _ROLES)
    raise InvalidRecord("role", f"must be one of {names}, got {str(value)[:40]!r}")


def _status(value: object) -> KeyStatus:
    if isinstance(value, str) and value in {s.value for s in SYNCED_STATUSES}:
        return KeyStatus(value)
    names = ", ".join(s.value for s in SYNCED_STATUSES)
    raise InvalidRecord("status", f"must be one of {names}, got {str(value)[:40]!r}")


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidRecord("removed", "must be true or false")
    return value


def _owner(fields: dict[str, Any]) -> OwnerRef | Absent:
    has_id, has_email = "ownerExternalId" in fields, "ownerEmail" in fields
    if not has_id and not has_email:
        return ABSENT
    by_id, by_email = fields.get("ownerExternalId"), fields.get("ownerEmail")
    if by_id is not None and by_email is not None:
        raise InvalidRecord("ownerEmail", "send ownerExternalId or ownerEmail, not both")
    if by_id is not None:
        return OwnerRef(external_id=_text(by_id, "ownerExternalId", MAX_EXTERNAL_ID_LENGTH))
    if by_email is not None:
        return OwnerRef(email=_text(by_email, "ownerEmail", MAX_EMAIL_LENGTH))
    return OwnerRef()  # null: a team key


def _models(value: object) -> list[str]:
    if not isinstance(value, list):
        raise InvalidRecord("allowedModels", "must be a list of model aliases or null")
    if len(value) > MAX_ALLOWED_MODELS:
        raise InvalidRecord("allowedModels", f"at most {MAX_ALLOWED_MODELS} models")
    models: list[str] = []
    for position, raw in enumerate(value):
        name = raw.strip() if isinstance(raw, str) else ""
        if not name or len(name) > MAX_MODEL_LENGTH or "\x00" in name:
            raise InvalidRecord(
                f"allowedModels[{position}]",
                f"must be a model alias of 1 to {MAX_MODEL_LENGTH} characters",
            )
        if name not in models:
            models.append(name)
    return models


def _instant(value: object, name: str) -> datetime:
    if isinstance(value, datetime):
        instant = value
    elif isinstance(value, str):
        try:
            instant = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidRecord(name, f"{value[:60]!r} is not an ISO 8601 date-time") from None
    else:
        raise InvalidRecord(name, "must be an ISO 8601 date-time string")
    if instant.utcoffset() is None:
        raise InvalidRecord(name, "needs a UTC offset, e.g. 2026-03-01T12:00:00Z")
    try:
        return instant.astimezone(UTC)
    except OverflowError:
        raise InvalidRecord(name, "is outside the accepted range") from None
