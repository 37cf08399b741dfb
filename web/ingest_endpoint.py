"""POST /ingest/bulk: the gateway's volume path. JSON lines in, per-batch verdict out.

Limits (settings): AIZE_BULK_MAX_RECORDS records (default 10000) and AIZE_BULK_MAX_BYTES bytes
(default 16 MiB) per request; beyond either the answer is 413 naming the limit. The 200
answer `{"accepted", "duplicates", "rejected": [{position, line, field, reason}]}` is sent
only after the accepted records are committed. When the database cannot be reached the answer
is 503 with `Retry-After` (web/database_errors.py): the batch may or may not have been
committed, and resending it is safe (request ids make ingestion idempotent). When the batch
would wait longer than AIZE_INGEST_LOCK_WAIT_SECONDS for rows other batches of its
organization hold (or a statement outlasts its timeout), the answer is also 503 with
`Retry-After`, and nothing was stored (ingestion/lock_wait.py). When storing the
batch would take a running total past 64 bits the answer is 422 OUT_OF_RANGE (nothing stored,
a resend fails alike; spend/out_of_range.py).

Each batch is charged 1 point per record (valid or not) to the ingest token's and its
organization's ingest budgets before anything is stored: when either cannot pay, the answer
is 429 RATE_LIMITED with `retry-after` and nothing is stored; a refusal after authentication
(415, 413) costs 1 point. Answers after authentication carry the x-ratelimit-* headers.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from auth.viewer import Viewer
from ingestion.json_lines import TooManyRecords, parse_json_lines
from ingestion.lock_wait import IngestBusy
from ingestion.pipeline import ingest_batch
from ingestion.submission import IngestOutcome, Rejection, Submitted
from models.global_ids import decode_global_id_of
from settings import Settings
from spend.out_of_range import TotalsOutOfRange
from web.authentication import viewer_or_refusal
from web.database_errors import (
    busy_response,
    is_database_unavailable,
    log_unavailable,
    unavailable_response,
)
from web.rate_limit_http import Charged, charge, charge_refused, refuse_when_spent
from web.responses import error_response, json_response

log = logging.getLogger("aize.ingest")

# A batch is charged to the ingest budgets (the token's and the organization's) per record.
POINTS_PER_RECORD = 1

ACCEPTED_CONTENT_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/json",
    }
)


def outcome_payload(outcome: IngestOutcome) -> dict[str, Any]:
    """The JSON answer for a batch."""
    return {
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "rejected": rejected_payload(outcome.rejected),
    }


def rejected_payload(rejected: Sequence[Rejection]) -> list[dict[str, Any]]:
    """A batch's rejections as answered: `[{position, line, field, reason}]`."""
    return [
        {"position": r.position, "line": r.line, "field": r.field, "reason": r.reason}
        for r in rejected
    ]


async def bulk_ingest(request: Request) -> Response:
    """Ingest a JSON lines body with an ingest token; see the module docstring."""
    settings: Settings = request.app.state.settings
    viewer = await viewer_or_refusal(request)
    if isinstance(viewer, Response):
        return viewer
    if not viewer.can_ingest:
        return error_response(403, "FORBIDDEN", "only ingest tokens can ingest request logs")
    spent = await refuse_when_spent(request, viewer)
    if spent is not None:
        return spent
    read = await read_charged_batch(request, viewer, settings)
    if isinstance(read, Response):
        return read
    response = await _ingest(viewer.organization_id, read.batch, read.broken, settings)
    response.headers.update(read.charged.headers)
    return response


@dataclass(frozen=True, slots=True)
class ChargedBatch:
    """A JSON lines body read and parsed, and the headers of its paid charge."""

    batch: list[Submitted]
    # Lines that could not be parsed, reported with the batch's other rejections.
    broken: list[Rejection]
    charged: Charged


async def read_charged_batch(
    request: Request, viewer: Viewer, settings: Settings
) -> ChargedBatch | Response:
    """The body's records once its content type (415), size and record count (413) are
    accepted and the batch is charged `bulk_charge` points (429); else the refusal, itself
    charged 1 point. Shared by /ingest/bulk and /directory/bulk."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_CONTENT_TYPES:
        refusal = error_response(
            415, "UNSUPPORTED_MEDIA_TYPE", "send JSON lines with Content-Type: application/x-ndjson"
        )
        return await charge_refused(request, viewer, refusal)
    body = await read_body_within(request, settings.bulk_max_bytes)
    if body is None:
        refusal = error_response(
            413,
            "PAYLOAD_TOO_LARGE",
            f"a request body may be at most {settings.bulk_max_bytes} bytes",
            limit={"bytes": settings.bulk_max_bytes},
        )
        return await charge_refused(request, viewer, refusal)
    try:
        batch, broken = parse_json_lines(body, settings.bulk_max_records)
    except TooManyRecords as exc:
        refusal = error_response(413, "PAYLOAD_TOO_LARGE", str(exc), limit={"records": exc.limit})
        return await charge_refused(request, viewer, refusal)
    records = len(batch) + len(broken)
    charged = await charge(
        request, viewer, bulk_charge(records), f"this batch of {records} records"
    )
    if isinstance(charged, Response):
        return charged
    return ChargedBatch(batch, broken, charged)


def bulk_charge(records: int) -> int:
    """Points a batch costs: POINTS_PER_RECORD per record (valid or not), at least 1."""
    return max(records * POINTS_PER_RECORD, 1)


async def _ingest(
    organization_id: int, batch: list[Submitted], broken: list[Rejection], settings: Settings
) -> Response:
    try:
        outcome = await ingest_batch(
            organization_id,
            batch,
            late_arrival_days=settings.late_arrival_days,
            decode_id=decode_global_id_of,
            rejected=broken,
            lock_wait_seconds=settings.ingest_lock_wait_seconds,
        )
    except IngestBusy as exc:
        log.warning("bulk ingest refused as busy for organization %s: %s", organization_id, exc)
        return busy_response(exc)
    except TotalsOutOfRange as exc:
        # Not retryable: a resend would fail the same way (spend/out_of_range.py).
        log.error("bulk ingest refused for organization %s: %s", organization_id, exc)
        return error_response(422, "OUT_OF_RANGE", str(exc))
    except Exception as exc:
        if is_database_unavailable(exc):
            log_unavailable("bulk ingest", exc)
            return unavailable_response()
        error_id = uuid.uuid4().hex[:16]
        log.exception("bulk ingest failed (error id %s)", error_id)
        return error_response(
            500, "INTERNAL", "Unexpected error; nothing in this batch was stored.", errorId=error_id
        )
    return json_response(outcome_payload(outcome))


async def read_body_within(request: Request, max_bytes: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed max_bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        return b""
    return b"".join(chunks)
