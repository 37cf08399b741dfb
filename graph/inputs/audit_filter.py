"""AuditTrailFilter: which audit entries `Organization.auditTrail` and the export list."""

from __future__ import annotations

from datetime import datetime

import strawberry

from models.global_ids import decode_global_id, decode_global_id_of
from resolvers.audit_trail import AuditFilter

# Never an id: an id that does not decode (or names another type) matches nothing.
_NO_ROW = -1


@strawberry.input(
    name="AuditTrailFilter",
    description=(
        "Which entries: lists are OR within a list and AND across fields; an empty list "
        "matches nothing; leave a field out for no restriction."
    ),
)
class AuditTrailFilter:
    from_: datetime | None = strawberry.field(
        default=None, name="from", description="Inclusive start (ISO 8601 with offset)."
    )
    to: datetime | None = strawberry.field(default=None, description="Exclusive end.")
    actions: list[str] | None = strawberry.field(
        default=None, description='Actions such as "apiKey.limit" or "organization.budget".'
    )
    actor_member_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Members who made the change."
    )
    subject_type: str | None = strawberry.field(
        default=None, description='What changed: "ApiKey", "Organization", "AlertRule"...'
    )
    subject_id: strawberry.ID | None = strawberry.field(
        default=None, description="The changed object's global id."
    )


def to_audit_filter(given: AuditTrailFilter | None) -> AuditFilter:
    """The read side's AuditFilter (global ids decoded; see `_NO_ROW`)."""
    if given is None:
        return AuditFilter()
    subject_type = given.subject_type
    subject_id: int | None = None
    if given.subject_id is not None:
        decoded = decode_global_id(str(given.subject_id))
        if decoded is None or (subject_type is not None and decoded[0] != subject_type):
            subject_id = _NO_ROW
        else:
            subject_type, subject_id = decoded
    actors = given.actor_member_ids
    return AuditFilter(
        start=given.from_,
        end=given.to,
        actions=None if given.actions is None else tuple(given.actions),
        actor_member_ids=None
        if actors is None
        else tuple(decode_global_id_of(str(i), "Member") or _NO_ROW for i in actors),
        subject_type=subject_type,
        subject_id=subject_id,
    )
