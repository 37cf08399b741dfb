"""Per-request context: the viewer, their scope, and dataloaders made for this request only."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from starlette.requests import HTTPConnection
from starlette.responses import Response
from strawberry.types import Info as StrawberryInfo

from auth.viewer import Viewer
from graph.dataloaders import Loaders
from graph.limits import CostReport
from resolvers.scope import Scope


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A subscription's connection: `close(code, reason)` closes it soon (a slow consumer)."""

    close: Callable[[int, str], None]


@dataclass
class Context:
    # The HTTP request, or the WebSocket of a subscription.
    request: HTTPConnection
    response: Response | None
    viewer: Viewer
    # Set on WebSocket connections (web/live_socket.py); None over HTTP.
    live: LiveSession | None = None
    # Loaders are per request: a cache shared across requests would leak between viewers.
    loaders: Loaders = field(init=False)
    # Filled in by the query-cost and rate-limit extensions; reported in extensions.cost.
    cost: CostReport = field(init=False, default_factory=CostReport)
    # The request's "now": relative periods (LAST_7_DAYS...) resolve against it, in the
    # resolvers and in the query cost's prediction alike, so both count the same buckets.
    now: datetime = field(init=False, default_factory=lambda: datetime.now(UTC))
    # Set once the operation starts executing (its variables coerced): a result without data
    # before then is a request error (web/graphql_http.py), after it an execution's.
    operation_executed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(lambda: self.scope, self.viewer.organization, self.now)

    @cached_property
    def scope(self) -> Scope:
        """The viewer's read scope; raises ForbiddenError for ingest-only tokens."""
        return Scope.for_viewer(self.viewer)


Info = StrawberryInfo[Context, None]
