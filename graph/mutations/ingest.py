"""ingestRequestLogs: the gateway's small-batch path (the bulk endpoint carries volume)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph.context import Info
from graph.permissions import CanIngest, require
from graph.types.ingest import IngestResultType, RequestLogInput
from ingestion.pipeline import ingest_batch
from ingestion.submission import Submitted
from models.global_ids import decode_global_id_of
from resolvers.errors import BadInputError
from settings import Settings

MAX_RECORDS_PER_CALL = 1000


@strawberry.type
class IngestMutations:
    @strawberry.mutation(
        description=(
            f"Store up to {MAX_RECORDS_PER_CALL} request logs (ingest tokens only). Resending "
            "a requestId never counts it twice; bad records are reported, good ones stored. "
            "Answers after the records are committed. For volume use POST /ingest/bulk."
        ),
        extensions=require(CanIngest),
    )
    async def ingest_request_logs(
        self,
        info: Info,
        records: Annotated[
            list[RequestLogInput],
            strawberry.argument(description="The requests to store (1-1000)."),
        ],
    ) -> IngestResultType:
        if len(records) > MAX_RECORDS_PER_CALL:
            raise BadInputError(
                f"records: at most {MAX_RECORDS_PER_CALL} per call, got {len(records)}; "
                "send larger batches to POST /ingest/bulk"
            )
        settings: Settings = info.context.request.app.state.settings
        batch = [
            Submitted(position=i, line=None, fields=record.as_fields())
            for i, record in enumerate(records)
        ]
        outcome = await ingest_batch(
            info.context.viewer.organization_id,
            batch,
            late_arrival_days=settings.late_arrival_days,
            decode_id=decode_global_id_of,
            lock_wait_seconds=settings.ingest_lock_wait_seconds,
        )
        return IngestResultType.from_outcome(outcome)
