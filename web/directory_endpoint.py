"""POST /directory/bulk: the gateway's members and keys as JSON lines, one verdict per batch.

Built like /ingest/bulk (web/ingest_endpoint.py): the same content types, the same limits
(AIZE_BULK_MAX_RECORDS records, AIZE_BULK_MAX_BYTES bytes; beyond either 413 naming the
limit), 1 point per record charged to the token's and the organization's budgets before
anything is stored (429 with `retry-after` when they cannot pay), x-ratelimit-* headers, 503
with `Retry-After` while the database cannot be reached (a resend is safe: sync is
idempotent). The 200 answer `{"created", "updated", "unchanged", "rejected": [{position,
line, field, reason}]}` is sent after the batch's one transaction commits
(directory/sync.py). Only tokens with the `directory` scope may call it (403 otherwise).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from audit.trail import Actor
from auth.viewer import Viewer
from directory.sync import SyncOutcome, sync_directory
from models.access_token import Scope
from settings import Settings
from web.authentication import viewer_or_refusal
from web.database_errors import is_database_unavailable, log_unavailable, unavailable_response
from web.ingest_endpoint import (
    read_charged_batch,
    rejected_payload,
)
from web.rate_limit_http import refuse_when_spent
from web.responses import error_response, json_response

log = logging.getLogger("aize.directory")

VIA = "directory-sync"


def sync_payload(outcome: SyncOutcome) -> dict[str, Any]:
    """The JSON answer for a batch."""
    return {
        "created": outcome.created,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
        "rejected": rejected_payload(outcome.rejected),
    }


async def bulk_directory(request: Request) -> Response:
    """Sync a JSON lines body of member and apiKey records; see the module docstring."""
    settings: Settings = request.app.state.settings
    viewer = await viewer_or_refusal(request)
    if isinstance(viewer, Response):
        return viewer
    if Scope.DIRECTORY not in viewer.scopes:
        return error_response(403, "FORBIDDEN", "only directory tokens can sync the directory")
    spent = await refuse_when_spent(request, viewer)
    if spent is not None:
        return spent
    read = await read_charged_batch(request, viewer, settings)
    if isinstance(read, Response):
        return read
    try:
        outcome = await sync_directory(
            viewer.organization_id, read.batch, _actor(viewer), rejected=read.broken
        )
    except Exception as exc:
        if is_database_unavailable(exc):
            log_unavailable("directory sync", exc)
            response = unavailable_response()
        else:
            error_id = uuid.uuid4().hex[:16]
            log.exception("directory sync failed (error id %s)", error_id)
            response = error_response(
                500,
                "INTERNAL",
                "Unexpected error; nothing in this batch was stored.",
                errorId=error_id,
            )
    else:
        response = json_response(sync_payload(outcome))
    response.headers.update(read.charged.headers)
    return response


def _actor(viewer: Viewer) -> Actor:
    return Actor.of(viewer, via=VIA)
