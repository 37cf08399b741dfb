"""syncDirectory: the gateway's members and keys through GraphQL (small batches)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from audit.trail import Actor
from directory.sync import sync_directory
from graph.context import Info
from graph.permissions import CanSyncDirectory, require
from graph.types.directory import DirectoryRecordInput, DirectorySyncResultType
from ingestion.submission import Submitted
from resolvers.errors import BadInputError

MAX_RECORDS_PER_CALL = 1000


@strawberry.type
class DirectoryMutations:
    @strawberry.mutation(
        description=(
            f"Upsert up to {MAX_RECORDS_PER_CALL} members and API keys by the gateway's own "
            "ids (directory tokens, and Owners with an admin-scoped token). One transaction; "
            "members are applied before keys; a resend answers `unchanged`. Sync never makes, "
            "demotes or removes Owners. For volume use POST /directory/bulk."
        ),
        extensions=require(CanSyncDirectory),
    )
    async def sync_directory(
        self,
        info: Info,
        records: Annotated[
            list[DirectoryRecordInput],
            strawberry.argument(description="The members and keys to upsert (1-1000)."),
        ],
    ) -> DirectorySyncResultType:
        if len(records) > MAX_RECORDS_PER_CALL:
            raise BadInputError(
                f"records: at most {MAX_RECORDS_PER_CALL} per call, got {len(records)}; "
                "send larger batches to POST /directory/bulk"
            )
        batch = [
            Submitted(position=i, line=None, fields=record.as_fields())
            for i, record in enumerate(records)
        ]
        outcome = await sync_directory(
            info.context.viewer.organization_id, batch, Actor.of(info.context.viewer)
        )
        return DirectorySyncResultType.from_outcome(outcome)
