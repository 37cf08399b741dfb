"""The deadline of a usage export (trend, breakdown): AIZE_REQUEST_TIMEOUT_SECONDS, as for a
GraphQL operation, from the moment the request arrives.

Building the rows past it is cancelled and answered 400 QUERY_TOO_COMPLEX; sending them
past it cuts the response short (the status line is gone by then).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from graph.errors import ErrorCode
from settings import Settings
from web.responses import error_response


@dataclass(frozen=True, slots=True)
class ExportDeadline:
    seconds: float
    # Event loop time (asyncio's clock) at which the export is over.
    when: float

    @classmethod
    def for_request(cls, request: Request) -> ExportDeadline:
        """Starting now, the app's request timeout (the default one outside an app)."""
        settings = getattr(request.app.state, "settings", None)
        if not isinstance(settings, Settings):
            settings = Settings()
        seconds = settings.request_timeout_seconds
        return cls(seconds, asyncio.get_running_loop().time() + seconds)

    def bound(self) -> asyncio.Timeout:
        """An `async with` raising TimeoutError when the deadline passes inside it."""
        return asyncio.timeout_at(self.when)

    def passed(self) -> bool:
        return asyncio.get_running_loop().time() >= self.when

    def refusal(self) -> Response:
        """400 QUERY_TOO_COMPLEX naming the timeout."""
        message = (
            f"The export took longer than {self.seconds:g} s and was cancelled; ask for a "
            "shorter period, a coarser granularity or fewer series."
        )
        return error_response(400, ErrorCode.QUERY_TOO_COMPLEX, message)
